"""A single send's dry run refuses, or leaves out, what the send itself would, from the
journal as it is, and writes nothing."""

from __future__ import annotations

import json

import pytest

SEND = ["send", "-s", "S", "-t", "T", "-tp", '{"code":"1"}']


def history(invoke) -> list:
    return json.loads(invoke("history").stdout)


def test_a_dry_run_of_a_repeat_is_refused_as_the_send_would_be(bulk, invoke):
    assert invoke(*SEND, "-p", "13800138000").code == 0
    before = history(invoke)
    dry = invoke("--dry-run", *SEND, "-p", "+8613800138000")
    assert dry.code == 6, dry.stderr
    assert history(invoke) == before  # nothing recorded
    assert invoke("--dry-run", *SEND, "-p", "13800138000", "--force").code == 0


def test_a_dry_run_leaves_out_suppressed_numbers_and_names_them(bulk, invoke):
    assert invoke("suppression", "add", "13800138000").code == 0
    dry = invoke("--dry-run", "--format", "json", *SEND, "-p", "13800138000,13900139000")
    assert dry.code == 0, dry.stderr
    [argv] = json.loads(dry.stdout)["argv"]
    assert argv[argv.index("--phone-numbers") + 1] == "13900139000"
    assert "skipped 1 number(s) on the suppression list" in dry.stderr
    alone = invoke("--dry-run", *SEND, "-p", "13800138000")
    assert alone.code == 2 and "suppression list" in alone.stderr


def test_a_dry_run_with_no_journal_yet_creates_none(fp, invoke, isolated_home):
    assert invoke("--dry-run", *SEND, "-p", "13800138000").code == 0
    assert not list(isolated_home.rglob("journal.sqlite3"))
    assert not fp.calls


@pytest.mark.parametrize("xdg", [None, "relative/ignored", "absolute"])
def test_the_quick_journal_check_looks_where_the_journal_is(isolated_home, monkeypatch,
                                                            tmp_path, xdg):
    from sms_skill import paths

    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data") if xdg == "absolute"
                           else xdg)
    journal = paths.data_dir(create=False) / paths.JOURNAL_FILE
    assert paths.journal_exists() is False
    paths.data_dir().joinpath(paths.JOURNAL_FILE).write_bytes(b"")
    assert journal.exists() and paths.journal_exists() is True
