"""The suppression list through the shim: a receipt with a permanent failure code (from
query-status, --wait or reconcile) puts the number on the list; later sends and campaigns
skip it and say how many; `suppression list|add|remove|import` manage it, masked."""

from __future__ import annotations

from tests.e2e.conftest import needs_fake_log, scenarios

pytestmark = needs_fake_log

PHONE = "13800138000"
SEND = ("-s", "AliyunDemo", "-t", "SMS_234567", "-tp", '{"name":"A","order":"1"}')


def failed_receipt(code: str, phone: str = PHONE) -> dict:
    body = {"Code": "OK", "Message": "OK", "RequestId": scenarios.DEFAULT_REQUEST_ID,
            "TotalCount": 1, "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{
                "PhoneNum": phone, "SendStatus": 2, "ErrCode": code,
                "TemplateCode": "SMS_234567", "Content": "【AliyunDemo】...",
                "SendDate": "2026-03-26 10:15:31", "ReceiveDate": "", "OutId": ""}]}}
    return scenarios.mock_record("dysmsapi query-send-details *", name=code,
                                 stdout=scenarios.json_response(body), times=0)


def unmock(world):
    world.env.pop("ALIBABA_CLOUD_CLI_MOCK", None)


def sent_numbers(world):
    sends = [c for c in world.calls() if c[:2] == ["dysmsapi", "send-sms"]]
    return sends[-1][sends[-1].index("--phone-numbers") + 1] if sends else None


def test_a_permanent_receipt_suppresses_the_number_for_later_sends(world):
    world.mock(failed_receipt("MOBILE_IN_BLACK"))
    status = world.run("query-status", "-p", PHONE)
    assert status.code == 0, status.stderr
    assert "suppression: 1 number(s) cannot receive (MOBILE_IN_BLACK)" in status.stderr
    unmock(world)
    listed = world.run("suppression", "list", "--format", "json").json()
    assert listed == [{"Number": "138****8000", "Reason": "receipt MOBILE_IN_BLACK",
                       "Added": listed[0]["Added"]}]
    result = world.run("send", "-p", f"+86{PHONE},13900139000", *SEND)
    assert result.code == 0, result.stderr
    assert "suppression: skipped 1 number(s) on the suppression list" in result.stderr
    assert sent_numbers(world) == "13900139000"
    alone = world.run("send", "-p", PHONE, *SEND)
    assert alone.code == 2 and "every recipient (1) is on the suppression list" in alone.stderr
    assert sent_numbers(world) == "13900139000"  # no new call


def test_a_temporary_failure_does_not_suppress(world):
    world.mock(failed_receipt("MOBILE_NOT_ON_SERVICE"))
    assert world.run("query-status", "-p", PHONE).code == 0
    unmock(world)
    assert world.run("suppression", "list", "--format", "json").json() == []


def test_wait_suppresses_too(world):
    world.mock(failed_receipt("USER_REJECT"))
    result = world.run("query-status", "-p", PHONE, "--wait", "--timeout", "5")
    assert result.code == 1  # a message failed to deliver
    unmock(world)
    listed = world.run("suppression", "list", "--no-mask", "--format", "json").json()
    assert [e["Number"] for e in listed] == [PHONE]


def test_campaign_skips_suppressed_numbers_and_counts_them(world, tmp_path):
    assert world.run("suppression", "add", "13800138002", "--reason", "asked to stop").code == 0
    phones = tmp_path / "phones.txt"
    phones.write_text("13800138001\n13800138002\n13800138003\n")
    dry = world.run("--dry-run", "send", "--phone-file", str(phones), *SEND)
    assert dry.code == 0, dry.stderr
    assert dry.json()["suppressed"] == 1 and dry.json()["recipients"] == 2
    result = world.run("send", "--phone-file", str(phones), *SEND, "--force")
    assert result.code == 0, result.stderr
    assert result.json()["suppressed"] == 1  # --force does not override the list
    assert "suppression: skipped 1 number(s)" in result.stderr
    assert sent_numbers(world) == "13800138001,13800138003"


def test_manage_the_list(world, tmp_path):
    source = tmp_path / "bounced.csv"
    source.write_text("phone\n13800138000\n+85261234567\n")
    assert world.run("suppression", "import", str(source), "--format", "json").json() == {
        "imported": 2}
    shown = world.run("suppression", "list", "--format", "json").json()
    assert sorted(e["Number"] for e in shown) == ["+85****4567", "138****8000"]
    removed = world.run("suppression", "remove", "8613800138000", "13900139000",
                        "--format", "json").json()
    assert removed == {"removed": 1, "not_listed": 1}
    bad = world.run("suppression", "add", "not-a-number")
    assert bad.code == 2 and "NUMBER" in bad.stderr
    assert world.calls() == []  # all local: no aliyun call


def test_reconcile_suppresses_from_the_receipts_it_reads(world):
    world.mock(scenarios.read_timeout())  # the send's outcome is unknown
    assert world.run("send", "-p", PHONE, *SEND).code == 5
    world.mock(failed_receipt("MB:1077"))
    settled = world.run("reconcile", "--min-age", "0")
    assert "suppression: 1 number(s) cannot receive (MB:1077)" in settled.stderr
    unmock(world)
    listed = world.run("suppression", "list", "--format", "json").json()
    assert [(e["Number"], e["Reason"]) for e in listed] == [("138****8000", "receipt MB:1077")]
