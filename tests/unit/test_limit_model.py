"""The per-number limit model on timelines (UTC+8), the journal's refusal (exit 8), the
campaign's leaving-out, and the translation of isv.BUSINESS_LIMIT_CONTROL messages."""

from __future__ import annotations

from datetime import datetime

import pytest

from sms_skill import ledger, limits, references
from sms_skill.campaign import Store
from sms_skill.campaign.plan import plan
from sms_skill.errors import OVER_LIMIT, OverLimit
from sms_skill.journal import Journal
from sms_skill.recipients import Row

NUMBER = "13800138000"
KEY = "8613800138000"


def at(text: str) -> float:
    """A wall-clock time on the service's calendar (UTC+8)."""
    return datetime.fromisoformat(text + "+08:00").timestamp()


def timeline(sends: list[str], kind: str | None, *, sign: str = "S",
             template: str = "SMS_1") -> list[tuple[str, str | None]]:
    """Each attempt in order: (time, None if sent else 'limit -> next allowed')."""
    history: list = []
    out = []
    for when in sends:
        breach = limits.check(NUMBER, history, sign, template, kind, at(when))
        if breach is None:
            history.append((at(when), sign, template, kind))
            out.append((when, None))
        else:
            out.append((when, f"{breach.limit.name} -> {limits.stamp(breach.allowed_at)}"))
    return out


def test_verification_code_timeline():
    result = timeline(["2026-12-02 10:00:05", "2026-12-02 10:00:50", "2026-12-02 10:01:00",
                       "2026-12-02 10:12:00", "2026-12-02 10:25:00", "2026-12-02 10:40:00",
                       "2026-12-02 10:59:59", "2026-12-02 11:00:00"], ledger.CODE)
    assert result == [
        ("2026-12-02 10:00:05", None),
        ("2026-12-02 10:00:50", "verification codes: 1 per minute per signature -> "
                                "2026-12-02 10:01:00 UTC+8"),
        ("2026-12-02 10:01:00", None),
        ("2026-12-02 10:12:00", None),
        ("2026-12-02 10:25:00", None),
        ("2026-12-02 10:40:00", None),
        ("2026-12-02 10:59:59", "verification codes: 5 per hour per signature -> "
                                "2026-12-02 11:00:00 UTC+8"),
        ("2026-12-02 11:00:00", None),
    ]


def test_rolling_24_hours_waits_for_the_oldest_of_the_last_ten():
    sends = [f"2026-12-02 {hour:02d}:30:00" for hour in range(10, 20)]  # 10 sends
    result = timeline([*sends, "2026-12-03 09:00:00", "2026-12-03 10:30:00"], ledger.CODE)
    assert all(refused is None for _, refused in result[:10])
    assert result[10] == ("2026-12-03 09:00:00", "verification codes: 10 per 24 hours per "
                          "signature -> 2026-12-03 10:30:00 UTC+8")
    assert result[11] == ("2026-12-03 10:30:00", None)


def test_notifications_50_a_day_per_signature_and_template():
    day = [f"2026-12-02 08:{n // 60:02d}:{n % 60:02d}" for n in range(50)]
    result = timeline([*day, "2026-12-02 23:59:59", "2026-12-03 00:00:00"], ledger.NOTICE)
    assert all(refused is None for _, refused in result[:50])
    assert result[50][1] == ("notifications: 50 per day per signature and template -> "
                             "2026-12-03 00:00:00 UTC+8")
    assert result[51][1] is None
    # Another template or signature is counted apart; an unknown type counts as notice.
    history = [(at(t), "S", "SMS_1", None) for t in day]
    assert limits.check(NUMBER, history, "S", "SMS_2", None, at("2026-12-02 12:00:00")) is None
    assert limits.check(NUMBER, history, "T", "SMS_1", None, at("2026-12-02 12:00:00")) is None
    assert limits.check(NUMBER, history, "S", "SMS_1", None, at("2026-12-02 12:00:00"))


def test_forty_codes_a_day_from_all_signatures():
    history = [(at("2026-12-02 00:00:00") + n * 1800, f"S{n}", "SMS_1", ledger.CODE)
               for n in range(40)]
    breach = limits.check(NUMBER, history, "NEW", "SMS_1", ledger.CODE, at("2026-12-02 23:00:00"))
    assert breach.limit.name == "verification codes: 40 per day from all signatures"
    assert limits.stamp(breach.allowed_at) == "2026-12-03 00:00:00 UTC+8"


@pytest.fixture
def journal(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    yield journal
    journal.close()


def reserve(journal, message, **options):
    return journal.reserve(action="SendSms", recipients=[NUMBER], sign_names=["S"],
                           template_code="SMS_1", params={"code": message},
                           messages=[message], out_id=None, signs=["S"], **options)


def test_the_journal_refuses_a_second_code_in_the_minute_with_exit_8(journal):
    send_id, _ = reserve(journal, "m1", template_type="0")
    journal.finish(send_id, "ok", "1^0")
    with pytest.raises(OverLimit) as caught:
        reserve(journal, "m2")  # the type is remembered from the first send
    assert caught.value.exit_code == OVER_LIMIT == 8
    assert "138****8000: verification codes: 1 per minute per signature" in str(caught.value)
    assert "next send allowed at" in str(caught.value)
    reserve(journal, "m3", force=True)


def test_a_failed_send_does_not_count(journal):
    send_id, _ = reserve(journal, "m1", template_type=0)
    journal.finish(send_id, "failed", code="isv.INVALID_PARAMETERS")
    reserve(journal, "m2")


def test_a_campaign_leaves_out_the_numbers_over_a_limit(tmp_path):
    store = Store(tmp_path / "journal.sqlite3")
    try:
        with store.transaction() as db:
            ledger.record(db, [KEY] * 50, [f"m{n}" for n in range(50)], "send-1",
                          signs=["S"] * 50, template="SMS_1")
        rows = [Row(1, NUMBER), Row(2, "13900139000")]
        result = plan(store, kind="send", rows=rows, source="--phone-file",
                      source_sha256=lambda: "f", template_code="SMS_1", sign_name="S",
                      template_param='{"x":"1"}', out_id=None, skip_invalid=False)
        assert result.recipients == 1 and len(result.over_limit) == 1
        assert store.campaign(result.campaign_id)["over_limit"] == 1
        with pytest.raises(OverLimit):  # all of them over a limit: refused
            plan(store, kind="send", rows=[Row(1, NUMBER)], source="--phone-file",
                 source_sha256=lambda: "g", template_code="SMS_1", sign_name="S",
                 template_param='{"x":"2"}', out_id=None, skip_invalid=False)
        forced = plan(store, kind="send", rows=[Row(1, NUMBER)], source="--phone-file",
                      source_sha256=lambda: "h", template_code="SMS_1", sign_name="S",
                      template_param='{"x":"3"}', out_id=None, skip_invalid=False,
                      force=True)
        assert forced.recipients == 1
    finally:
        store.close()


@pytest.mark.parametrize(("message", "meaning", "retry"), [
    ("触发分钟级流控Permits:1", "the per-minute limit", "2026-12-02 10:01:00 UTC+8"),
    ("触发小时级流控Permits:5", "the per-hour limit", "2026-12-02 11:00:00 UTC+8"),
    ("触发天级流控Permits:10", "the daily limit", "2026-12-03 00:00:00 UTC+8"),
    # several windows named: the longest decides when to retry
    ("触发分钟级流控Permits:1;触发天级流控Permits:10", "the daily limit",
     "2026-12-03 00:00:00 UTC+8"),
])
def test_gateway_messages_are_translated_from_the_references(message, meaning, retry):
    said = limits.translate(message, at("2026-12-02 10:00:30"))
    assert meaning in said and f"Retry after {retry}" in said and "nothing was sent" in said
    assert references.limit_window(message).fragment in message


def test_a_message_naming_no_window_is_not_translated():
    assert limits.translate("too many requests") is None


@pytest.mark.parametrize(("seconds", "said"), [(59, "59 s"), (121, "3 min"), (150, "3 min"),
                                                (7201, "2.1 h"), (7200, "2.0 h")])
def test_a_wait_is_rounded_up_so_that_waiting_it_is_enough(seconds, said):
    assert limits._duration(seconds) == said
