"""Planning stores rows in batches and reads files in blocks: the outcome is the same as row
by row, wherever a duplicate, a bad row, a BOM or a missing last newline falls."""

from __future__ import annotations

import json

import pytest

from sms_skill import recipients
from sms_skill.campaign import plan as campaign
from tests.unit.helpers import sent_numbers


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
def test_a_duplicate_deep_in_a_later_batch_is_named_by_its_line(bulk, invoke, tmp_path,
                                                                dry_run):
    lines = [f"{13000000000 + i}" for i in range(campaign.PLAN_BATCH * 2 + 10)]
    lines.append("+86" + lines[3])  # the same handset, spelled otherwise, at the very end
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(lines) + "\n")
    result = invoke(*(["--dry-run"] if dry_run else []), "send", "--phone-file", str(source),
                    "-s", "S", "-t", "T")
    assert result.code == 2
    assert f"line {len(lines)}:" in result.stderr and "listed twice" in result.stderr
    assert not sent_numbers(bulk)


def test_skip_invalid_keeps_file_order_and_full_chunks_across_batches(bulk, invoke, tmp_path):
    count = campaign.PLAN_BATCH + 1500
    lines = []
    for i in range(count):
        lines.append(f"{13000000000 + i}")
        if i in (10, campaign.PLAN_BATCH - 1, campaign.PLAN_BATCH + 7):
            lines.append("bad")
            lines.append(f"{13000000000 + i}")  # a duplicate right after
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(lines) + "\n")
    result = invoke("send", "--phone-file", str(source), "-s", "S", "-t", "T",
                    "--skip-invalid", "--parallel", "1")
    assert result.code == 0, result.stderr
    assert sent_numbers(bulk) == [f"{13000000000 + i}" for i in range(count)]
    summary = json.loads(result.stdout)
    assert summary["skipped_rows"] == 6
    calls = [list(c) for c in bulk.calls if "send-sms" in c]
    sizes = [len(c[c.index("--phone-numbers") + 1].split(",")) for c in calls]
    assert sizes == [1000] * (count // 1000) + [count % 1000]


def test_block_reading_matches_line_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(recipients, "BLOCK", 7)  # lines straddle every block boundary
    data = "\ufeff13800138000\r\n# comment\n\n13900139000\n\ufeff13700137000\n+8613600136000"
    source = tmp_path / "numbers.txt"
    source.write_bytes(data.encode())
    reader, raw = recipients.open_source(str(source), "--phone-file")
    with raw:
        rows = list(recipients.phone_rows(reader))
    assert [(r.line, r.phone) for r in rows] == [
        (1, "13800138000"), (4, "13900139000"), (5, "13700137000"), (6, "+8613600136000")]
    import hashlib

    assert reader.sha256.hexdigest() == hashlib.sha256(data.encode()).hexdigest()


@pytest.mark.parametrize("block", [7, 40, 100])
def test_runs_of_bare_numbers_give_the_rows_of_line_by_line_reading(tmp_path, monkeypatch,
                                                                    block):
    # Blocks of numbers as written come as one run each, a block with any other line row
    # by row: the same rows, line numbers and refusals either way.
    monkeypatch.setattr(recipients, "BLOCK", block)
    lines = [f"{13000000000 + i}" for i in range(30)]
    lines[12:12] = ["13000000001\r", " 13000000002", "12345", "# note", "", "+8613000000003"]
    lines[25] += "\r"
    source = tmp_path / "numbers.txt"
    source.write_bytes(("\n".join(lines) + "\n").encode())
    reader, raw = recipients.open_source(str(source), "--phone-file")
    with raw:
        runs = list(recipients.phone_runs(reader))
    rows = [row for run in runs
            for row in (run.rows() if isinstance(run, recipients.Numbers) else [run])]
    expected = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text == "12345":
            expected.append(("bad", number))
        elif text and not text.startswith("#"):
            expected.append((number, text))
    assert [(r.line, r.phone) if isinstance(r, recipients.Row) else ("bad", r.line)
            for r in rows] == expected
    numbers = [run for run in runs if isinstance(run, recipients.Numbers)]
    assert numbers and any(f"{13000000000 + 19}" in run.phones for run in numbers)  # a CR


@pytest.mark.parametrize("json_each", [True, False], ids=["json_each", "no json_each"])
def test_a_number_as_written_twice_in_runs_keeps_the_first_line(bulk, invoke, tmp_path,
                                                                monkeypatch, json_each):
    # Bare repeats, within one run and across runs (batches): the later lines are refused,
    # by line number, dry run or not; with --skip-invalid both plan the same (the dry run's
    # plan id confirms the real send) and the chunks stay full, in file order. The same
    # with an SQLite without json_each (a build option before 3.38): row by row.
    from sms_skill.campaign import store

    monkeypatch.setattr(store, "_has_json_each", lambda: json_each)
    count = campaign.PLAN_BATCH * 2 + 300
    lines = [f"{13000000000 + i}" for i in range(count)]
    repeats = {10: 3, campaign.PLAN_BATCH + 5: 2, campaign.PLAN_BATCH * 2 + 1: 4}
    for at, of in sorted(repeats.items(), reverse=True):
        lines.insert(at, lines[of])
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(lines) + "\n")
    options = ["send", "--phone-file", str(source), "-s", "S", "-t", "T"]
    twice = [n for n, line in enumerate(lines, 1) if line in lines[:n - 1]]
    assert len(twice) == 3
    for prefix in ([], ["--dry-run"]):
        refused = invoke(*prefix, *options)
        assert refused.code == 2
        assert all(f"line {n}: {lines[n - 1]} is listed twice" in refused.stderr
                   for n in twice)
    dry = invoke("--dry-run", *options, "--skip-invalid")
    assert dry.code == 0, dry.stderr
    assert (dry.json()["recipients"], dry.json()["skipped_rows"]) == (count, 3)
    done = invoke(*options, "--skip-invalid", "--confirm", dry.json()["plan_id"],
                  "--parallel", "1")
    assert done.code == 0, done.stderr
    assert sent_numbers(bulk) == [f"{13000000000 + i}" for i in range(count)]
    calls = [list(c) for c in bulk.calls if "send-sms" in c]
    sizes = [len(c[c.index("--phone-numbers") + 1].split(",")) for c in calls]
    assert sizes == [1000] * (count // 1000) + [count % 1000]


def test_only_a_dry_runs_scratch_database_skips_the_disk_syncs(tmp_path):
    from sms_skill.campaign.store import Store

    with Store(tmp_path / "journal.sqlite3") as real:
        assert real.execute("PRAGMA journal_mode") == [("wal",)]
        assert real.execute("PRAGMA synchronous")[0][0] >= 1  # NORMAL or FULL: durable
    with Store(tmp_path / "scratch.sqlite3", scratch=True) as scratch:
        assert scratch.execute("PRAGMA journal_mode") == [("delete",)]  # savepoints work
        assert scratch.execute("PRAGMA synchronous") == [(0,)]
        assert scratch.execute("PRAGMA page_size") == [(16384,)]


def _planned(store, kind, rows, **options):
    return campaign.plan(store, kind=kind, rows=rows, source="--phone-file",
                         source_sha256=lambda: "sha", template_code="SMS_1",
                         sign_name="S" if kind == "send" else None, template_param=None,
                         out_id="promo", skip_invalid=True, **options)


def test_the_plan_id_hashed_while_storing_is_the_one_of_the_stored_rows(tmp_path):
    from sms_skill.campaign.store import Store
    from sms_skill.recipients import BadRow, Row

    numbers = [f"{13000000000 + i}" for i in range(campaign.PLAN_BATCH + 2500)]
    rows = [Row(n + 1, number) for n, number in enumerate(numbers)]
    rows[7] = BadRow(8, "bad")
    rows[campaign.PLAN_BATCH + 3] = Row(campaign.PLAN_BATCH + 4, "+86" + numbers[2])  # twice
    rows.insert(9, Row(9, "+85261234567"))
    batch = [Row(n + 1, number, f"Sign{n % 3}", {"code": str(n)} if n % 2 else None)
             for n, number in enumerate(numbers[:450])]
    batch.insert(300, Row(301, "+86" + numbers[5], "Sign0"))
    with Store(tmp_path / "journal.sqlite3") as store:
        for kind, given in (("send", rows), ("batch", batch)):
            planned = _planned(store, kind, given)
            assert planned.bad_total == 2 if kind == "send" else 1
            assert planned.sealed.plan_id == campaign.plan_id(store, planned.campaign_id)
            assert planned.sealed.failure is None


def test_every_chunks_command_is_checked_while_storing_and_after_a_leave_out(tmp_path):
    from sms_skill.campaign.store import Store
    from sms_skill.errors import InputError
    from sms_skill.recipients import Row

    def command(action, params):  # refuses the chunk that holds this number
        if "13000002500" in params["PhoneNumbers"]:
            raise InputError("--phone-numbers", "too long")

    from sms_skill.builder import Target

    class Client:
        target = Target("cn-hangzhou")

    Client.command = staticmethod(command)
    rows = [Row(n + 1, f"{13000000000 + n}") for n in range(3000)]
    with Store(tmp_path / "journal.sqlite3") as store:
        planned = _planned(store, "send", rows, command=command)
        assert planned.sealed.failure[0] == 2
        with pytest.raises(InputError, match="chunk 3 of 3: --phone-numbers: too long"):
            campaign.seal(Client, store, planned, "--phone-file")
        assert store.listing() == []  # refused whole
        planned = _planned(store, "send", rows, command=command)
        planned.sealed = None  # as after --skip-sent or the limits left some out
        with pytest.raises(InputError, match="chunk 3 of 3: --phone-numbers: too long"):
            campaign.seal(Client, store, planned, "--phone-file")


def test_a_dry_run_finds_the_bad_rows_and_the_plan_of_the_real_run(bulk, invoke, tmp_path):
    # A dry run finds repeated numbers only once its rows are stored: the same rows named,
    # in the same order, and the same plan, whatever the order of the numbers.
    import random

    numbers = [f"{13000000000 + i * 7}" for i in range(campaign.PLAN_BATCH + 2000)]
    random.Random(5).shuffle(numbers)
    lines = list(numbers)
    for at in range(0, len(lines), 250):  # repeats in other spellings, and bad rows
        lines.insert(at + 3, ("+86", "86", "0086", "")[at // 250 % 4] + numbers[at // 2])
        if at % 1000 == 0:
            lines.insert(at + 5, "12345")
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(lines) + "\n")
    options = ["send", "--phone-file", str(source), "-s", "S", "-t", "T"]
    refusals = [invoke(*prefix, *options) for prefix in ([], ["--dry-run"])]
    assert [r.code for r in refusals] == [2, 2]
    assert refusals[0].stderr == refusals[1].stderr and "(and " in refusals[0].stderr
    dry = invoke("--dry-run", *options, "--skip-invalid")
    assert dry.code == 0, dry.stderr
    plan = dry.json()
    assert plan["skipped_rows"] == len(lines) - len(numbers)
    assert plan["recipients"] == len(numbers)
    real = invoke(*options, "--skip-invalid", "--confirm", plan["plan_id"], "--parallel", "1")
    assert real.code == 0, real.stderr
    unique = list(dict.fromkeys(n[-11:] for n in lines if n != "12345"))
    assert sent_numbers(bulk) == unique


@pytest.mark.parametrize("kind", ["send", "batch-send"])
def test_a_line_without_end_is_refused_before_it_is_held_whole(invoke, tmp_path, kind):
    """A binary file given by mistake: refused at its first MiB, not read whole (its
    lines were joined again on every block read, in time and memory growing with the
    square of the line)."""
    source = tmp_path / "data.bin"
    source.write_bytes(b"phone\n" + b"13800138000\n" * 4 + b"1" * (3 << 20))
    option = "--phone-file" if kind == "send" else "--csv"
    result = invoke("--dry-run", kind, option, str(source), "-s", "S", "-t", "T",
                    "--skip-invalid")
    assert result.code == 2 and result.stdout == ""
    assert f"{option}: line 6 runs past 1 MiB without a line end" in result.stderr
