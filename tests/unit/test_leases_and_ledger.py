"""Chunk leases and the per-recipient ledger, on the campaign store itself."""

from __future__ import annotations

import subprocess

import pytest

from sms_skill.campaign.plan import plan
from sms_skill.campaign.store import Store, current_owner
from sms_skill.errors import DuplicateSend
from sms_skill.liveness import start_time
from sms_skill.recipients import Row
from sms_skill.validation import recipient_key

NUMBERS = ["13800138000", "13900139000", "+85261234567"]


def planned(store: Store, numbers: list[str], fingerprint: str, **options) -> str:
    rows = [Row(line, number) for line, number in enumerate(numbers, 1)]
    result = plan(store, kind="send", rows=rows, source="--phone-file",
                  source_sha256=lambda: fingerprint, template_code="SMS_1", sign_name="S",
                  template_param=None, out_id="promo", skip_invalid=False, **options)
    return result.campaign_id


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "journal.sqlite3")
    yield store
    store.close()


@pytest.fixture
def other_run():
    """A live process that is not this one, and its lease identity."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc, (proc.pid, start_time(proc.pid))
    proc.kill()
    proc.wait()


def test_a_live_run_holding_the_campaign_makes_a_second_run_refuse(store, other_run):
    proc, owner = other_run
    campaign_id = planned(store, NUMBERS, "a", owner=owner)
    with pytest.raises(DuplicateSend, match="being sent by another run"):
        store.claim(campaign_id, current_owner())
    proc.kill()
    proc.wait()
    claimed = store.claim(campaign_id, current_owner())  # its lease died with it
    assert [c["seq"] for c in claimed] == [0]
    assert claimed[0]["owner_pid"] == current_owner()[0]


def test_a_chunk_in_flight_in_a_run_that_died_becomes_unknown(store, other_run):
    proc, owner = other_run
    campaign_id = planned(store, NUMBERS, "a", owner=owner)
    assert store.begin(store.campaign(campaign_id), 0, owner, 1).refused is None
    proc.kill()
    proc.wait()
    assert store.claim(campaign_id, current_owner()) == []  # nothing left to send
    [chunk] = store.chunks(campaign_id)
    assert chunk["state"] == "unknown"
    assert "ended without recording the outcome" in chunk["message"]


def test_a_chunk_is_refused_at_its_call_when_another_campaign_reached_its_numbers(store):
    first = planned(store, NUMBERS, "a")
    second = planned(store, ["008613800138000", "13700137000"], "b")  # before any send
    me = current_owner()
    assert store.begin(store.campaign(first), 0, me, 1).refused is None
    refused = store.begin(store.campaign(second), 0, me, 1).refused
    assert refused.startswith("1 of 2 recipient(s): 1 may have got it")
    assert f"campaign {first}" in refused and "138****8000" in refused
    [chunk] = store.chunks(second)
    assert (chunk["state"], chunk["code"]) == ("failed", "DUPLICATE")


def test_a_forced_campaign_is_not_refused_at_its_call(store):
    first = planned(store, NUMBERS, "a")
    second = planned(store, NUMBERS, "b", force=True)
    me = current_owner()
    assert store.begin(store.campaign(first), 0, me, 1).refused is None
    assert store.begin(store.campaign(second), 0, me, 1).refused is None


def test_out_ids_differ_between_campaigns_of_the_same_file_and_out_id(store):
    first = planned(store, NUMBERS, "a")
    second = planned(store, NUMBERS, "a", force=True)
    assert store.chunks(first)[0]["out_id"] == f"promo.{first}.0"
    assert store.chunks(second)[0]["out_id"] == f"promo.{second}.0"


def test_a_long_out_id_keeps_its_unique_end(store):
    rows = [Row(1, "13800138000")]
    result = plan(store, kind="send", rows=rows, source="--phone-file",
                  source_sha256=lambda: "x", template_code="SMS_1", sign_name="S",
                  template_param=None, out_id="o" * 255, skip_invalid=False)
    out_id = store.chunks(result.campaign_id)[0]["out_id"]
    assert len(out_id) == 255 and out_id.endswith(f".{result.campaign_id}.0")


@pytest.mark.parametrize("spellings", [
    ["13800138000", "+13800138000", "8613800138000", "+8613800138000", "008613800138000"],
    ["+85261234567", "0085261234567", "85261234567"],
    ["+447911123456", "00447911123456", "447911123456"],
])
def test_every_spelling_of_a_number_has_one_key(spellings):
    assert len({recipient_key(s) for s in spellings}) == 1


def test_different_numbers_have_different_keys():
    assert recipient_key("13800138000") != recipient_key("85213800138000")
    assert recipient_key("+85261234567") != recipient_key("+86261234567")


def test_two_spellings_of_one_number_in_a_file_are_a_duplicate_row(store):
    from sms_skill.errors import InputError

    with pytest.raises(InputError, match=r"line 2: \+8613800138000 is listed twice"):
        planned(store, ["13800138000", "+8613800138000"], "a")


def test_a_campaign_planned_by_an_older_version_can_still_be_resumed(tmp_path):
    import sqlite3

    path = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE campaigns (id TEXT PRIMARY KEY, created REAL NOT NULL, kind TEXT NOT NULL,
            source TEXT, fingerprint TEXT NOT NULL, sign_name TEXT, template_code TEXT NOT NULL,
            template_param TEXT, out_id TEXT, recipients INTEGER NOT NULL,
            skipped INTEGER NOT NULL);
        CREATE TABLE campaign_rows (campaign_id TEXT NOT NULL, line INTEGER NOT NULL,
            chunk INTEGER NOT NULL, phone TEXT NOT NULL, sign_name TEXT, params TEXT,
            PRIMARY KEY (campaign_id, phone));
        CREATE TABLE chunks (campaign_id TEXT NOT NULL, seq INTEGER NOT NULL,
            size INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'planned',
            attempts INTEGER NOT NULL DEFAULT 0, out_id TEXT NOT NULL, biz_id TEXT, code TEXT,
            message TEXT, started REAL, finished REAL, PRIMARY KEY (campaign_id, seq));
        INSERT INTO campaigns VALUES ('old', strftime('%s', 'now'), 'send', '--phone-file', 'f',
            'S', 'SMS_1', NULL, NULL, 1, 0);
        INSERT INTO campaign_rows VALUES ('old', 1, 0, '13800138000', NULL, NULL);
        INSERT INTO chunks (campaign_id, seq, size, out_id) VALUES ('old', 0, 1, 'sms-old.0');
    """)
    old.commit()
    old.close()
    store = Store(path)
    try:
        me = current_owner()
        assert [c["seq"] for c in store.claim("old", me)] == [0]
        assert store.begin(store.campaign("old"), 0, me, 1).refused is None
        store.finish("old", 0, "sent", "1^0", None, None)
        assert store.counts("old")["chunks"]["sent"] == 1
    finally:
        store.close()


def test_entries_too_old_to_block_anything_are_forgotten(store):
    import time

    from sms_skill import ledger

    now = time.time()
    with store.transaction() as db:
        ledger.record(db, ["8613800138000"], ["m"], "send-1", now=now - 2 * 86400)
        ledger.record(db, ["8613900139000"], ["m"], "send-2", now=now - 3600)
        ledger.prune(db, now)
        left = [key for (key,) in db.execute("SELECT recipient FROM ledger")]
    assert left == ["8613900139000"]  # still blocks while its outcome may be unknown


@pytest.mark.parametrize(("window", "ok_age", "unknown_age", "blocked"), [
    (600, 300, 3600, {"ok", "unknown"}),  # the default: 10 min for ok, 24 h for unknown
    (600, 900, 25 * 3600, set()),
    (3 * 86400, 2 * 86400, 3600, {"ok", "unknown"}),  # a window longer than the hold
    (3 * 86400, 4 * 86400, 2 * 86400, set()),
])
def test_entries_block_within_their_own_window_at_a_call_and_at_a_single_send(
        store, monkeypatch, window, ok_age, unknown_age, blocked):
    import time

    from sms_skill import ledger

    monkeypatch.setenv("SMS_SKILL_DUPLICATE_WINDOW", str(window))
    campaign_id = planned(store, NUMBERS[:2], "f")
    message = store.execute("SELECT message FROM campaign_rows WHERE campaign_id=?",
                            (campaign_id,))[0][0]
    keys = {"ok": recipient_key(NUMBERS[0]), "unknown": recipient_key(NUMBERS[1])}
    now = time.time()
    with store.transaction() as db:
        for state, age in (("ok", ok_age), ("unknown", unknown_age)):
            ledger.record(db, [keys[state]], [message], f"send-{state}", now=now - age)
            ledger.settle(db, f"send-{state}", 0, state)
        found = ledger.campaign_conflicts(db, campaign_id, 2, now, chunk=0)
        single = {state: bool(ledger.check(db, [key], [key], [message], now))
                  for state, key in keys.items()}
    assert {state for state, key in keys.items() if key in found.recipients} == blocked
    assert {state for state, hit in single.items() if hit} == blocked


def test_after_a_duplicate_chunk_the_next_step_is_skip_sent_not_resume(store):
    from sms_skill.campaign import outcome_error, summary

    first = planned(store, NUMBERS, "a")
    second = planned(store, ["008613800138000", "13700137000"], "b")
    me = current_owner()
    assert store.begin(store.campaign(first), 0, me, 1).refused is None
    assert store.begin(store.campaign(second), 0, me, 1).refused is not None
    error = outcome_error(summary(store, second))
    assert error.exit_code == 1 and "DUPLICATE" in error.message
    assert "--skip-sent" in error.hint and "do not resend" in error.hint


def _sync_at_commits(store: Store, step) -> list[str]:
    """The synchronous setting in force at each COMMIT that ``step()`` makes."""
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        step()
    finally:
        store._db.set_trace_callback(None)
    mode, found = "FULL", []
    for sql in statements:
        if sql.upper().startswith("PRAGMA SYNCHRONOUS="):
            mode = sql.split("=", 1)[1].strip().upper()
        elif sql.upper() == "COMMIT":
            found.append(mode)
    return found


def test_the_in_flight_mark_is_on_disk_before_the_call_and_the_outcome_need_not_be(store):
    """begin's commit (what prevents a resend after a crash) waits for the disk; finish's
    may be lost in a power cut (the chunk then stays in flight: unknown, never resent)."""
    campaign_id = planned(store, NUMBERS, "a")
    me = current_owner()
    store.claim(campaign_id, me)
    campaign = store.campaign(campaign_id)
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert _sync_at_commits(store, lambda: store.begin(campaign, 0, me, 1)) == ["FULL"]
    assert _sync_at_commits(store, lambda: store.finish(campaign_id, 0, "sent", "B^0", None,
                                                       None)) == ["NORMAL"]
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again
