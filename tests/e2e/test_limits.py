"""The per-number limits through the shim against the fake: a single send over a limit is
refused (exit 8) with when the next send is allowed, a campaign leaves those numbers out,
--force overrides, and isv.BUSINESS_LIMIT_CONTROL is translated in the error and `explain`."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone

from tests.e2e.conftest import needs_fake_log, scenarios

pytestmark = needs_fake_log

UTC8 = timezone(timedelta(hours=8))
PHONE = "13800138000"
CODE_SEND = ("send", "-p", PHONE, "-s", "AliyunDemo", "-t", "SMS_123456", "--verify")


def db_path(world):
    return world.home / ".local" / "share" / "alibabacloud-sms-skill" / "journal.sqlite3"


def add_sends(world, key, times, *, sign="AliyunDemo", template="SMS_123456"):
    """Earlier accepted sends, straight into the ledger (as another run would leave them)."""
    with sqlite3.connect(db_path(world)) as db:
        db.executemany("INSERT INTO ledger (recipient, message, at, state, origin, part, "
                       "sign_name, template) VALUES (?, ?, ?, 'ok', 'send-0', 0, ?, ?)",
                       [(key, f"m{n}", at, sign, template) for n, at in enumerate(times)])


def stamp(moment):
    return datetime.fromtimestamp(moment, UTC8).strftime("%Y-%m-%d %H:%M:%S UTC+8")


def minute(moment):
    return int(datetime.fromtimestamp(moment, UTC8).timestamp() // 60)


def test_second_verification_code_in_the_same_minute_is_exit_8(world):
    accepted = 0
    for attempt in range(3):  # a clock minute may end between the two sends: try again
        before = time.time()
        # After a first attempt, this minute may already hold a send: --force the setup.
        first = world.run(*CODE_SEND, "-tp", f'{{"code":"1{attempt}1111"}}',
                          *(["--force"] if attempt else []))
        assert first.code == 0, first.stderr
        second = world.run(*CODE_SEND, "-tp", f'{{"code":"2{attempt}2222"}}')
        accepted += 1 + (second.code == 0)
        if minute(before) == minute(time.time()):
            break
        # A clock minute ended meanwhile: the second send may or may not have been in it.
    assert second.code == 8, second.stderr
    line = second.stderr.strip().splitlines()[-1]
    assert "1 of 1 number(s) would exceed a per-number limit" in line
    assert "138****8000: verification codes: 1 per minute per signature" in line
    next_minute = (minute(before) + 1) * 60
    assert f"next send allowed at {stamp(next_minute)}" in line
    assert "nothing was sent" in line and "--force" in line
    sends = [c for c in world.calls() if c[:2] == ["dysmsapi", "send-sms"]]
    assert len(sends) == accepted
    forced = world.run(*CODE_SEND, "-tp", '{"code":"333333"}', "--force")
    assert forced.code == 0, forced.stderr


def test_rolling_24_hours_says_when_the_oldest_send_drops_out(world):
    assert world.run(*CODE_SEND, "-tp", '{"code":"111111"}').code == 0  # learns the type
    now = time.time()
    oldest = now - 20 * 3600
    add_sends(world, "86" + PHONE, [oldest + n * 600 for n in range(9)])
    result = world.run(*CODE_SEND, "-tp", '{"code":"222222"}')
    assert result.code == 8, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert "verification codes: 10 per 24 hours per signature (sent 10)" in line
    assert f"next send allowed at {stamp(oldest + 24 * 3600)}" in line
    # Another signature is counted apart (except for the 40 a day from all signatures).
    other = world.run("send", "-p", PHONE, "-s", "阿里云短信测试", "-t", "SMS_123456",
                      "-tp", '{"code":"333333"}')
    assert other.code == 0, other.stderr


def test_campaign_leaves_out_numbers_over_the_daily_notification_limit(world, tmp_path):
    phones = tmp_path / "phones.txt"
    phones.write_text("13800138001\n13800138002\n13800138003\n")
    args = ("send", "--phone-file", str(phones), "-s", "AliyunDemo", "-t", "SMS_234567")
    # A first real send creates the journal; then 50 sends today to one number.
    assert world.run("send", "-p", "13900139000", "-s", "AliyunDemo", "-t", "SMS_234567",
                     "-tp", '{"name":"A","order":"0"}').code == 0
    now = time.time()
    today = datetime.fromtimestamp(now, UTC8).replace(hour=0, minute=0, second=0,
                                                      microsecond=0).timestamp()
    add_sends(world, "8613800138002", [max(today, now - 3600) + n for n in range(50)],
              template="SMS_234567")
    dry = world.run("--dry-run", *args, "-tp", '{"name":"B","order":"1"}')
    assert dry.code == 0, dry.stderr
    plan = dry.json()
    assert plan["recipients"] == 2 and plan["over_limit"] == 1
    tomorrow = stamp(today + 24 * 3600)
    assert plan["over_limit_samples"] == [{
        "number": "138****8002", "counted": 50, "next_send_allowed": tomorrow,
        "limit": "notifications: 50 per day per signature and template"}]
    result = world.run(*args, "-tp", '{"name":"B","order":"1"}')
    assert result.code == 0, result.stderr
    summary = result.json()
    assert summary["over_limit"] == 1 and summary["total_recipients"] == 2
    assert "left out 1 number(s) over a per-number limit (138****8002" in result.stderr
    sent = [c for c in world.calls() if c[:2] == ["dysmsapi", "send-sms"]][-1]
    assert sent[sent.index("--phone-numbers") + 1] == "13800138001,13800138003"
    forced = world.run(*args, "-tp", '{"name":"C","order":"2"}', "--force")
    assert forced.code == 0, forced.stderr
    assert forced.json()["total_recipients"] == 3


def test_business_limit_control_says_the_window_and_when_to_retry(world):
    world.mock(scenarios.business_error(message="触发小时级流控Permits:5"))
    result = world.run("send", "-p", PHONE, "-s", "AliyunDemo", "-t", "SMS_123456",
                       "-tp", '{"code":"123456"}')
    assert result.code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert "the per-hour limit" in line and "(5 allowed)" in line
    next_hour = (int(time.time()) // 3600 + 1) * 3600  # UTC+8 hours start with UTC hours
    assert any(f"Retry after {stamp(hour)}" in line for hour in (next_hour, next_hour + 3600))
    explained = world.run("explain", "isv.BUSINESS_LIMIT_CONTROL", "--message",
                          "触发天级流控Permits:10", "--format", "json")
    assert explained.code == 0
    assert "the daily limit" in explained.json()["MessageMeans"]
