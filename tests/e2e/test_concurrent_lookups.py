"""Independent calls of one operation run at the same time, all under AI mode: --verify's
signature and template lookups, and the pages of a listing after the first."""

from __future__ import annotations

from tests.e2e.conftest import assert_ai_mode_wrapped
from tests.fake_aliyun import scenarios

SLOW_MS = 1500  # long enough that lookups started together overlap on a loaded machine


def spans(world, action: str) -> list[tuple[float, float]]:
    """(start, end) of each call of ``action``, from the fake's log."""
    entries = world.entries()
    ends = {e["pid"]: e["end"] for e in entries if "end" in e}
    return [(e["time"], ends[e["pid"]]) for e in entries
            if "argv" in e and action in e["argv"]]


def overlap(first: tuple[float, float], second: tuple[float, float]) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def verified_send(world, *, sign_status: int, delay_ms: int = 0):
    """`send --verify` against a signature with ``sign_status`` and an approved template,
    each lookup answering after ``delay_ms``."""
    sign = scenarios.mock_record(
        "dysmsapi get-sms-sign *", delay_ms=delay_ms, times=0,
        stdout=scenarios.json_response({"Code": "OK", "SignName": "AliyunDemo",
                                        "SignStatus": sign_status,
                                        "SignIspRegisterDetailList": []}))
    template = scenarios.mock_record(
        "dysmsapi get-sms-template *", delay_ms=delay_ms, times=0,
        stdout=scenarios.json_response({"Code": "OK", "TemplateCode": "SMS_1",
                                        "TemplateStatus": "1",
                                        "TemplateContent": "code ${code}"}))
    world.mock(sign, template, scenarios.send_ok())
    return world.run("send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_1",
                     "-tp", '{"code":"1"}', "--verify")


def test_verify_looks_up_signature_and_template_at_once(world):
    result = verified_send(world, sign_status=1, delay_ms=SLOW_MS)
    assert result.code == 0, result.stderr
    [sign_span] = spans(world, "get-sms-sign")
    [template_span] = spans(world, "get-sms-template")
    assert overlap(sign_span, template_span)
    # the send itself waited for both verdicts
    [send_span] = spans(world, "send-sms")
    assert send_span[0] > max(sign_span[1], template_span[1])
    assert_ai_mode_wrapped(world)


def test_verify_still_refuses_on_a_signature_under_review(world):
    result = verified_send(world, sign_status=0)
    assert result.code == 4, result.stderr
    assert "under review" in result.stderr
    assert not spans(world, "send-sms")
    assert world.ai_mode().get("enabled") is False


def page(index: int, count: int, total: int) -> dict:
    signs = [{"SignName": f"Sign{index}-{n}", "AuditStatus": "AUDIT_STATE_PASS"}
             for n in range(count)]
    return scenarios.mock_record(
        f"dysmsapi query-sms-sign-list --page-index {index} *", delay_ms=SLOW_MS, times=0,
        stdout=scenarios.json_response({"Code": "OK", "SmsSignList": signs,
                                        "TotalCount": total, "CurrentPage": index,
                                        "PageSize": 50}))


def test_a_listing_fetches_the_pages_after_the_first_at_once_and_keeps_their_order(world):
    world.mock(page(1, 50, 120), page(2, 50, 120), page(3, 20, 120))
    result = world.run("list-signs", "--all", "--format", "json")
    assert result.code == 0, result.stderr
    names = [item["SignName"] for item in result.json()["SmsSignList"]]
    assert len(names) == 120
    assert names[0] == "Sign1-0" and names[50] == "Sign2-0" and names[-1] == "Sign3-19"
    calls = [e for e in world.entries() if "argv" in e and "query-sms-sign-list" in e["argv"]]
    assert len(calls) == 3
    starts = {e["argv"][e["argv"].index("--page-index") + 1]: e for e in calls}
    ends = {e["pid"]: e["end"] for e in world.entries() if "end" in e}
    span = {k: (e["time"], ends[e["pid"]]) for k, e in starts.items()}
    assert span["2"][0] > span["1"][1]  # the first page gave the total
    assert overlap(span["2"], span["3"])
    assert_ai_mode_wrapped(world)
