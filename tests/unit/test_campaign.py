"""Bulk sends: chunking, whole-file validation, and the campaign record."""

from __future__ import annotations

import json

import pytest

from tests.unit.helpers import SEND_OK, answer


def _numbers(call: list[str], flag: str) -> list[str]:
    value = call[call.index(flag) + 1]
    return json.loads(value) if value.startswith("[") else value.split(",")


def test_2345_numbers_become_three_calls_of_1000_1000_345(bulk, invoke, tmp_path):
    source = tmp_path / "numbers.txt"
    source.write_text("".join(f"{13000000000 + i}\n" for i in range(2345)))
    result = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T", "--parallel", "1")
    assert result.code == 0, result.stderr
    calls = [list(c) for c in bulk.calls if "send-sms" in c]
    assert [len(_numbers(c, "--phone-numbers")) for c in calls] == [1000, 1000, 345]
    sent = [n for c in calls for n in _numbers(c, "--phone-numbers")]
    assert sent == [str(13000000000 + i) for i in range(2345)]
    summary = json.loads(result.stdout)
    assert summary["chunks"]["sent"] == 3 and summary["total_recipients"] == 2345
    assert summary["recipients"]["sent"] == 2345


def test_a_250_row_csv_becomes_three_batch_calls_with_arrays_in_step(bulk, invoke, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("phone,sign_name,name\n" + "".join(
        f"{13000000000 + i},Sign{i % 3},Person {i}\n" for i in range(250)))
    result = invoke("batch-send", "--csv", str(source), "-t", "T", "--parallel", "2")
    assert result.code == 0, result.stderr
    calls = sorted((list(c) for c in bulk.calls if "send-batch-sms" in c),
                   key=lambda c: c[c.index("--phone-number-json") + 1])
    sizes = []
    for call in calls:
        phones = _numbers(call, "--phone-number-json")
        signs = json.loads(call[call.index("--sign-name-json") + 1])
        params = json.loads(call[call.index("--template-param-json") + 1])
        assert len(phones) == len(signs) == len(params)
        for phone, sign, param in zip(phones, signs, params):
            i = int(phone) - 13000000000
            assert sign == f"Sign{i % 3}" and param == {"name": f"Person {i}"}
        sizes.append(len(phones))
    assert sorted(sizes) == [50, 100, 100]


def test_a_bad_row_stops_the_run_before_any_send(bulk, invoke, tmp_path):
    source = tmp_path / "numbers.txt"
    source.write_text("13800138000\n13900139000\nnot-a-number\n13700137000\n13800138000\n")
    result = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T")
    assert result.code == 2
    assert "line 3:" in result.stderr and "line 5:" in result.stderr
    assert "listed twice" in result.stderr
    assert not [c for c in bulk.calls if "send-sms" in c]


def test_skip_invalid_sends_the_rest_and_reports_what_it_skipped(bulk, invoke, tmp_path):
    source = tmp_path / "numbers.csv"
    source.write_text("name,phone\nA,13800138000\nB,12\nC,13900139000\n")
    result = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T", "--skip-invalid")
    assert result.code == 0, result.stderr
    assert "skipped: line 3" in result.stderr
    call = next(list(c) for c in bulk.calls if "send-sms" in c)
    assert _numbers(call, "--phone-numbers") == ["13800138000", "13900139000"]


def test_the_same_file_again_is_refused_and_points_at_resume(bulk, invoke, tmp_path):
    source = tmp_path / "numbers.txt"
    source.write_text("13800138000\n")
    first = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T")
    campaign_id = json.loads(first.stdout)["campaign"]
    again = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T")
    assert again.code == 6 and f"--resume {campaign_id}" in again.stderr
    listed = json.loads(invoke("campaign", "list").stdout)
    assert [c["id"] for c in listed] == [campaign_id]
    shown = json.loads(invoke("campaign", "show", campaign_id).stdout)
    assert shown["chunk_list"][0]["state"] == "sent"
    assert shown["chunk_list"][0]["biz_id"] == SEND_OK["BizId"]


THROTTLED = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控", "RequestId": "R"}


def test_a_throttled_chunk_is_retried_and_other_failures_are_recorded(session, invoke,
                                                                      tmp_path):
    any_send = ["aliyun", "dysmsapi", "send-sms", session.any()]
    session.register(any_send, stdout=answer(THROTTLED))
    session.register(any_send, stdout=answer({"Code": "isv.AMOUNT_NOT_ENOUGH", "Message": "m"}))
    session.register(any_send, stdout=answer(SEND_OK))
    source = tmp_path / "numbers.txt"
    source.write_text("".join(f"{13000000000 + i}\n" for i in range(2500)))
    result = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T", "--parallel", "1")
    assert result.code == 1  # one chunk failed for good; the run went on
    summary = json.loads(result.stdout)
    assert summary["chunks"]["sent"] == 2 and summary["chunks"]["failed"] == 1
    assert summary["errors"][0]["code"] == "isv.AMOUNT_NOT_ENOUGH"
    assert sum(1 for c in session.calls if "send-sms" in c) == 4  # 1 throttled + 3


def test_rate_spaces_call_starts_evenly():
    from sms_skill.campaign import RateLimiter

    slept = []
    limiter = RateLimiter(20, clock=lambda: 100.0, sleep=slept.append)
    for _ in range(4):
        limiter.wait()
    assert slept == pytest.approx([0.0, 0.05, 0.10, 0.15])
    unlimited = []
    free = RateLimiter(None, sleep=unlimited.append)
    free.wait()
    assert unlimited == []


def test_dry_run_of_a_file_prints_the_plan_and_sends_nothing(fp, invoke, tmp_path):
    source = tmp_path / "numbers.txt"
    source.write_text("".join(f"{13000000000 + i}\n" for i in range(1500)))
    result = invoke("--dry-run", "send", "--phone-file", str(source), "-s", "S", "-t", "T")
    plan = json.loads(result.stdout)
    assert (plan["recipients"], plan["chunks"], plan["calls"]) == (1500, 2, 2)
    assert plan["first_command"].startswith("aliyun dysmsapi send-sms --api-version 2017-05-25")
    assert "--phone-numbers '<1000 numbers>'" in plan["first_command"]
    assert "13000001499" not in result.stdout and "13000000000" not in result.stdout
    assert list(fp.calls) == []
    assert json.loads(invoke("campaign", "list").stdout) == []
