"""A bulk send killed halfway, then resumed: every number reaches aliyun exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter

from tests.e2e.conftest import SHIM, assert_ai_mode_wrapped, needs_fake_log
from tests.fake_aliyun import scenarios

pytestmark = needs_fake_log


def sent_numbers(world) -> Counter:
    numbers: Counter = Counter()
    for entry in world.product_calls():
        argv = entry["argv"]
        if argv[1] == "send-sms":
            numbers.update(argv[argv.index("--phone-numbers") + 1].split(","))
    return numbers


def _send_calls(world) -> int:
    try:
        return sum(1 for e in world.product_calls() if e["argv"][1] == "send-sms")
    except json.JSONDecodeError:  # a log line being written right now
        return 0


def test_sigkill_after_some_chunks_then_resume(world, tmp_path):
    numbers = [str(13000000000 + i) for i in range(4500)]
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(numbers) + "\n")
    world.mock(scenarios.send_ok(times=2), scenarios.hang(),
               scenarios.send_ok(times=0))
    proc = subprocess.Popen([str(SHIM), "send", "--phone-file", str(source), "-s", "AliyunDemo",
                             "-t", "SMS_123456", "--parallel", "1"],
                            env=world.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    while _send_calls(world) < 3:  # the third call is the one that hangs
        assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its hung aliyun, no cleanup at all
    proc.communicate(timeout=10)
    world.mock(scenarios.send_ok(times=0))  # the service is back

    campaign_id = json.loads(world.run("campaign", "list").stdout)[0]["id"]
    shown = world.run("campaign", "show", campaign_id).json()
    states = [chunk["state"] for chunk in shown["chunk_list"]]
    assert states == ["sent", "sent", "in_flight", "planned", "planned"]

    resumed = world.run("send", "--resume", campaign_id)
    assert resumed.code == 5, resumed.stderr  # one chunk's outcome is still unknown
    summary = resumed.json()
    assert summary["chunks"]["sent"] == 4, json.dumps(summary)
    assert summary["chunks"]["unknown"] == 1  # its run died: it may have gone out
    assert summary["errors"][0]["chunk"] == 2
    assert "ended without recording the outcome" in summary["errors"][0]["message"]
    assert f"campaign reconcile {campaign_id}" in resumed.stderr

    counts = sent_numbers(world)
    assert set(counts) == set(numbers)
    assert set(counts.values()) == {1}  # nobody got it twice, the unknown chunk not resent
    assert world.ai_mode()["enabled"] is False
    assert_ai_mode_wrapped(world)


def test_reconcile_settles_an_unknown_chunk_from_receipts(world, tmp_path):
    source = tmp_path / "numbers.txt"
    source.write_text("13800138000\n13900139000\n")
    world.mock(scenarios.read_timeout())
    first = world.run("send", "--phone-file", str(source), "-s", "AliyunDemo", "-t", "SMS_123456")
    assert first.code == 5, first.stderr
    campaign_id = first.json()["campaign"]
    out_id = world.run("campaign", "show", campaign_id).json()["chunk_list"][0]["out_id"]
    receipt = {"Code": "OK", "RequestId": "R", "TotalCount": "1", "SmsSendDetailDTOs": {
        "SmsSendDetailDTO": [{"PhoneNum": "13800138000", "SendStatus": 3, "ErrCode": "DELIVERED",
                              "OutId": out_id, "TemplateCode": "SMS_123456"}]}}
    world.mock(scenarios.mock_record("dysmsapi query-send-details *",
                                     stdout=scenarios.json_response(receipt)))
    settled = world.run("campaign", "reconcile", campaign_id)
    assert settled.code == 0, settled.stderr
    assert settled.json()["settled"] == [{"chunk": 0, "was": "unknown", "now": "sent"}]
