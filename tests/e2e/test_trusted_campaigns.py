"""Campaigns an operator can trust, through the shim against the fake's recording service:
a number the gateway refuses costs only itself, failed chunks can be retried, the plan is
compact and binds the send, and the books (history, reconcile) add up."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.e2e.conftest import needs_fake_log

pytestmark = needs_fake_log

SIGN, TEMPLATE, PARAM = "AliyunDemo", "SMS_123456", '{"code":"123456"}'


class Service:
    def __init__(self, world) -> None:
        self.path = world.home / "service-record.jsonl"
        world.env["FAKE_ALIYUN_SERVICE_RECORD"] = str(self.path)

    def requests(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def sends_per_number(self) -> Counter:
        return Counter(p for r in self.requests() for p in r["phones"])


@pytest.fixture
def service(world) -> Service:
    return Service(world)


def numbers_file(tmp_path, count: int, name: str = "numbers.txt"):
    numbers = [str(13000000000 + i) for i in range(count)]
    path = tmp_path / name
    path.write_text("\n".join(numbers) + "\n")
    return path, numbers


def test_a_number_the_gateway_refuses_costs_only_itself(world, service, tmp_path):
    source, numbers = numbers_file(tmp_path, 2500)
    bad = numbers[1500]  # in the second chunk of 1000
    result = world.run("send", "--phone-file", str(source), "-s", SIGN, "-t", TEMPLATE,
                       "--template-param", PARAM, "--parallel", "2",
                       FAKE_ALIYUN_REFUSED_NUMBERS=bad)
    assert result.code == 1, result.stderr  # one number failed: nothing proves it was sent
    sent = service.sends_per_number()
    assert sent == Counter({n: 1 for n in numbers if n != bad})
    summary = result.json()
    assert summary["recipients"]["sent"] == 2499 and summary["recipients"]["failed"] == 1
    campaign_id = summary["campaign"]
    shown = world.run("campaign", "show", campaign_id, "--numbers", "--no-mask").json()
    [failed] = [c for c in shown["chunk_list"] if c["state"] == "failed"]
    assert failed["code"] == "isv.MOBILE_NUMBER_ILLEGAL" and failed["numbers"] == [bad]
    assert any(c["state"] == "split" for c in shown["chunk_list"])
