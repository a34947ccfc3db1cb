"""Faults around the calls: unusable storage, bad settings, hostile output, secrets in
answers. Each ends in a clear line and the right exit code, with AI mode off."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from sms_skill import redaction
from tests.conftest import fill
from tests.unit.helpers import DISABLE, ENABLE, OUT_ID, SEND_OK, SET_UA, UA, answer, product

SEND_ARGS = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456"]
SEND_ARGV = product("send-sms", "--phone-numbers", "13800138000", "--sign-name", "AliyunDemo",
                    "--template-code", "SMS_123456")
APP = "alibabacloud-sms-skill"
KEY_ID, SECRET, TOKEN = "LTAI5tEnvKeyId42", "envSecretValue0123", "CAIS.sts-token-value-99"
PROFILE_KEY, PROFILE_SECRET = "LTAI5tProfileKey7", "profileSecretValue456"


@pytest.fixture(autouse=True)
def fixed_out_id(monkeypatch):
    """Single sends get OUT_ID, as SEND_ARGV expects (also for tests that use fp alone)."""
    from sms_skill import operations

    monkeypatch.setattr(operations, "new_out_id", lambda: OUT_ID)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def write_cache(folder: Path, aliyun: Path) -> None:
    """A fresh pre-check result in ``folder`` (the skill's cache folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precheck.json").write_text(json.dumps({
        "aliyun": str(aliyun), "mtime": aliyun.stat().st_mtime, "version": "3.4.11",
        "checked_at": time.time(), "env": {}, "steps": [], "profile": None}))


# ---- settings and input: refused before any call -------------------------------------------

BAD_SETTINGS = [
    ("SMS_SKILL_CALL_TIMEOUT", "nan"), ("SMS_SKILL_CALL_TIMEOUT", "inf"),
    ("SMS_SKILL_CALL_TIMEOUT", "0"), ("SMS_SKILL_CALL_TIMEOUT", "ten"),
    ("SMS_SKILL_POLL_SECONDS", "nan"), ("SMS_SKILL_POLL_SECONDS", "-1"),
    ("SMS_SKILL_POLL_SECONDS", "0"), ("SMS_SKILL_DUPLICATE_WINDOW", "nan"),
    ("SMS_SKILL_DUPLICATE_WINDOW", "-5"), ("SMS_SKILL_PRECHECK_TTL", "1e400"),
    ("SMS_SKILL_RETENTION_DAYS", "0"), ("ALIBABA_CLOUD_REGION_ID", "cn hangzhou"),
    ("ALIBABA_CLOUD_REGION_ID", "--profile"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_SETTINGS,
                         ids=[f"{v}={x}" for v, x in BAD_SETTINGS])
@pytest.mark.parametrize("args", [SEND_ARGS, ["--dry-run", *SEND_ARGS], ["precheck"]],
                         ids=["send", "dry-run", "precheck"])
def test_a_bad_setting_is_refused_naming_the_variable(fp, aliyun_path, invoke, monkeypatch,
                                                      variable, value, args):
    monkeypatch.setenv(variable, value)
    result = invoke(*args)
    assert result.code == 2
    assert variable in one_error_line(result.stderr)
    assert list(fp.calls) == []


FLAG_LIKE = [
    (["send", "-p", "13800138000", "-s", "--profile", "-t", "SMS_1"], "--sign-name"),
    (["send", "-p", "13800138000", "-s", "S", "-t", "-r"], "--template-code"),
    (["send", "-p", "13800138000", "-s", "S", "-t", "T", "-o", "--region=x"], "--out-id"),
    (["--profile", "-x", "query-sign", "-s", "S"], "--profile"),
    (["query-template", "-t", "--help=x"], "--template-code"),
]


@pytest.mark.parametrize(("args", "option"), FLAG_LIKE, ids=[o for _, o in FLAG_LIKE])
@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
def test_a_value_aliyun_would_read_as_an_option_is_refused(fp, aliyun_path, invoke, args,
                                                           option, dry_run):
    result = invoke(*(["--dry-run"] if dry_run else []), *args)
    assert result.code == 2, result.stderr
    line = one_error_line(result.stderr)
    assert option in line and "read as an option" in line
    assert list(fp.calls) == [] and result.stdout == ""


@pytest.mark.parametrize(("value", "fragment"), [
    ("1380\n0138000", r"'1380\n0138000'"),
    ("1" * 100_000, "(100000 characters)"),
    ("\x1b[31m138", r"'\x1b[31m138'"),
])
def test_error_lines_escape_control_characters_and_shorten_long_values(fp, invoke, value,
                                                                       fragment):
    result = invoke(*SEND_ARGS[:1], "-p", value, *SEND_ARGS[3:])
    assert result.code == 2
    line = one_error_line(result.stderr)
    assert fragment in line and len(line) < 300 and "\x1b" not in line


def test_text_that_is_not_utf8_is_refused(fp, aliyun_path, invoke):
    undecodable = os.fsdecode(b"Sign\xff")  # what Python makes of such a command-line byte
    result = invoke("send", "-p", "13800138000", "-s", undecodable, "-t", "SMS_1")
    assert result.code == 2
    assert "--sign-name" in one_error_line(result.stderr) and "UTF-8" in result.stderr
    assert list(fp.calls) == []


BIG_PARAMS = json.dumps([{"code": "x" * 140_000}])


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
def test_an_argument_over_the_os_limit_is_refused_at_planning(fp, aliyun_path, invoke, dry_run):
    result = invoke(*(["--dry-run"] if dry_run else []), "batch-send", "--phone-number-json",
                    '["13800138000"]', "--sign-name-json", '["A"]', "-t", "SMS_1",
                    "--template-param-json", BIG_PARAMS)
    assert result.code == 2
    line = one_error_line(result.stderr)
    assert "--template-param-json" in line and "131071" in line
    assert list(fp.calls) == []


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
def test_a_csv_chunk_over_the_os_limit_is_refused_at_planning(fp, aliyun_path, invoke,
                                                              tmp_path, dry_run):
    rows = "".join(f"{13800000000 + i},Sign,{'v' * 1400}\n" for i in range(100))
    source = tmp_path / "big.csv"
    source.write_text("phone,sign_name,code\n" + rows)
    result = invoke(*(["--dry-run"] if dry_run else []), "batch-send", "--csv", str(source),
                    "-t", "SMS_1")
    assert result.code == 2
    line = one_error_line(result.stderr)
    assert "--csv" in line and "chunk 1 of 1" in line and "--template-param-json" in line
    assert list(fp.calls) == []
    assert invoke("campaign", "list").json() == []  # nothing left half-planned


# ---- storage: exit 3 before anything is sent ------------------------------------------------


def _garbage_journal(home: Path, monkeypatch) -> str:
    folder = home / ".local" / "share" / APP
    folder.mkdir(parents=True)
    (folder / "journal.sqlite3").write_bytes(b"this is not a database" * 200)
    return "damaged"


def _data_home_is_a_file(home: Path, monkeypatch) -> str:
    target = home / "not-a-folder"
    target.write_text("x")
    monkeypatch.setenv("XDG_DATA_HOME", str(target))
    return "not-a-folder"


def _cache_home_is_a_file(home: Path, monkeypatch) -> str:
    target = home / "not-a-cache-folder"
    target.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(target))
    return "not-a-cache-folder"


def _home_unset(home: Path, monkeypatch) -> str:
    monkeypatch.delenv("HOME")
    return "HOME"


def _home_relative(home: Path, monkeypatch) -> str:
    monkeypatch.setenv("HOME", "relative/home")
    return "HOME"


def _home_unset_but_xdg_set(home: Path, monkeypatch) -> str:
    """Our folders are elsewhere, but the aliyun CLI still needs HOME (its profiles, AI mode)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("HOME")
    return "HOME"


STORAGE_FAULTS = [_garbage_journal, _data_home_is_a_file, _cache_home_is_a_file, _home_unset,
                  _home_relative, _home_unset_but_xdg_set]


@pytest.mark.parametrize("fault", STORAGE_FAULTS, ids=[f.__name__[1:] for f in STORAGE_FAULTS])
def test_unusable_storage_is_exit_3_before_anything_is_sent(fp, prechecked, isolated_home,
                                                            invoke, monkeypatch, fault):
    fragment = fault(isolated_home, monkeypatch)
    result = invoke(*SEND_ARGS)
    assert result.code == 3, result.stderr
    line = one_error_line(result.stderr)
    assert fragment in line and "internal error" not in line
    assert list(fp.calls) == []


def test_a_journal_locked_by_another_run_is_exit_3(fp, prechecked, isolated_home, invoke,
                                                   monkeypatch):
    from sms_skill import database

    monkeypatch.setattr(database, "BUSY_TIMEOUT", 0.2)
    folder = isolated_home / ".local" / "share" / APP
    folder.mkdir(parents=True)
    holder = sqlite3.connect(folder / "journal.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = invoke(*SEND_ARGS)
    finally:
        holder.close()
    assert result.code == 3
    assert "locked by another run" in one_error_line(result.stderr)
    assert list(fp.calls) == []


def test_a_read_only_data_folder_is_exit_3(fp, prechecked, invoke, monkeypatch, tmpfs):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmpfs("data", readonly=True)))
    result = invoke(*SEND_ARGS)
    assert result.code == 3
    line = one_error_line(result.stderr)
    assert "Read-only file system" in line and "XDG_DATA_HOME" in line
    assert list(fp.calls) == []


def test_a_home_that_is_not_writable_is_exit_3(fp, aliyun_path, invoke, monkeypatch, tmpfs):
    monkeypatch.setenv("HOME", str(tmpfs("read-only-home", readonly=True)))
    result = invoke(*SEND_ARGS)
    assert result.code == 3
    assert "Read-only file system" in one_error_line(result.stderr)
    assert list(fp.calls) == []


def test_a_full_disk_before_the_send_is_exit_3(fp, prechecked, invoke, monkeypatch, tmpfs):
    data = tmpfs("data", "256k")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    fill(data)
    result = invoke(*SEND_ARGS)
    assert result.code == 3, result.stderr
    assert "full" in one_error_line(result.stderr) or "space" in result.stderr
    assert list(fp.calls) == []


def _filling(folder: Path):
    """A pytest-subprocess callback: the disk holding ``folder`` fills up while this aliyun
    call runs (after the send was journaled, before its answer is recorded)."""
    def callback(process):
        fill(folder)
        process.returncode = 0

    return callback


def test_a_disk_that_fills_during_an_accepted_send_still_reports_the_biz_id(
        fp, prechecked, invoke, monkeypatch, tmpfs):
    data = tmpfs("data", "512k")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    fp.register(ENABLE)
    fp.register(SET_UA, callback=_filling(data))  # the last call before the send
    fp.register(SEND_ARGV, stdout=answer(SEND_OK))
    fp.register(DISABLE)
    result = invoke(*SEND_ARGS)
    assert result.code == 0, result.stderr
    assert result.json()["BizId"] == SEND_OK["BizId"]
    assert "warning:" in result.stderr and SEND_OK["BizId"] in result.stderr
    assert "could not record" in result.stderr and "full" in result.stderr
    assert list(fp.calls[-1]) == DISABLE


def test_a_full_cache_folder_does_not_skip_the_switch_off(fp, prechecked, invoke, monkeypatch,
                                                          tmpfs):
    cache = tmpfs("cache", "256k")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    write_cache(cache / APP, prechecked)
    fp.register(ENABLE)
    fp.register(SET_UA, callback=_filling(cache))
    fp.register(SEND_ARGV, stdout=answer(SEND_OK))
    fp.register(DISABLE)
    result = invoke(*SEND_ARGS)
    assert result.code == 0, result.stderr
    assert [list(c) for c in fp.calls][-2:] == [SEND_ARGV, DISABLE]
    registry = json.loads((cache / APP / "ai-mode-runs.json").read_text())
    assert [e["pid"] for e in registry] == [os.getpid()]  # the registry write did fail


def test_relative_xdg_folders_are_ignored(session, invoke, isolated_home, monkeypatch,
                                          tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", "data")
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    session.register(SEND_ARGV, stdout=answer(SEND_OK))
    assert invoke(*SEND_ARGS).code == 0
    assert (isolated_home / ".local" / "share" / APP / "journal.sqlite3").exists()
    assert not (tmp_path / "data").exists() and not (tmp_path / "cache").exists()


def test_missing_folders_are_made_private_and_so_are_the_files(session, invoke, tmp_path,
                                                               monkeypatch):
    data, cache = tmp_path / "no" / "data", tmp_path / "no" / "cache"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    session.register(["aliyun", "version"], stdout="3.4.11\n")
    session.register(["aliyun", "configure", "set", "--auto-plugin-install", "true"])
    session.register(["aliyun", "plugin", "update"], stdout="all plugins up to date\n")
    session.register(SEND_ARGV, stdout=answer(SEND_OK))
    assert invoke(*SEND_ARGS).code == 0
    for folder in (data / APP, cache / APP):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        files = [p for p in folder.iterdir() if p.is_file()]
        assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files), files


# ---- retention --------------------------------------------------------------------------------


def test_history_prune_forgets_old_sends(session, invoke, monkeypatch):
    session.register(SEND_ARGV, stdout=answer(SEND_OK))
    assert invoke(*SEND_ARGS).code == 0
    assert invoke("history", "prune", "--older-than", "1d").json()["sends_removed"] == 0
    assert len(invoke("history").json()) == 1
    # Recent sends still guard against a double send: they cannot be forgotten yet.
    refused = invoke("history", "prune", "--older-than", "0s")
    assert refused.code == 2 and "at least 24 hours" in refused.stderr
    assert invoke(*SEND_ARGS).code == 6 and len(invoke("history").json()) == 1
    later = time.time() + 2 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert invoke("history", "prune", "--older-than", "1d").json()["sends_removed"] == 1
    assert invoke("history").json() == []
    session.register(["aliyun", "version"], stdout="3.4.11\n")  # the pre-check is stale now
    session.register(["aliyun", "configure", "set", "--auto-plugin-install", "true"])
    session.register(["aliyun", "plugin", "update"], stdout="all plugins up to date\n")
    assert invoke(*SEND_ARGS).code == 0  # a forgotten send no longer blocks


def test_sends_older_than_the_retention_are_forgotten(session, invoke, monkeypatch):
    session.register(SEND_ARGV, stdout=answer(SEND_OK))
    assert invoke(*SEND_ARGS).code == 0
    later = time.time() + 91 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert invoke("history").json() == []


@pytest.mark.parametrize("age", ["soon", "-1d", "3x"])
def test_history_prune_refuses_an_unclear_age(fp, invoke, age):
    result = invoke("history", "prune", "--older-than", age)
    assert result.code == 2 and "--older-than" in one_error_line(result.stderr)


# ---- AI mode -------------------------------------------------------------------------------


def _dead_run_registry(home: Path) -> Path:
    pid = os.fork()  # not subprocess: pytest-subprocess is faking it
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    folder = home / ".cache" / APP
    folder.mkdir(parents=True, exist_ok=True)
    registry = folder / "ai-mode-runs.json"
    registry.write_text(json.dumps([{"pid": pid, "started": ""}]))
    return registry


@pytest.mark.parametrize("args", [["history"], ["campaign", "list"],
                                  ["explain", "isv.BUSINESS_LIMIT_CONTROL"]],
                         ids=["history", "campaign-list", "explain"])
def test_commands_without_calls_switch_off_what_a_killed_run_left_on(fp, aliyun_path,
                                                                     isolated_home, invoke,
                                                                     args):
    registry = _dead_run_registry(isolated_home)
    fp.register(DISABLE)
    result = invoke(*args)
    assert result.code == 0, result.stderr
    assert [list(c) for c in fp.calls] == [DISABLE]
    assert "switched off the AI mode that a killed run had left on" in result.stderr
    assert json.loads(registry.read_text()) == []
    assert invoke(*args).code == 0 and len(fp.calls) == 1  # once is enough


def test_a_switch_off_that_fails_is_tried_again(fp, prechecked, invoke):
    fp.register(ENABLE)
    fp.register(SET_UA)
    fp.register(SEND_ARGV, stdout=answer(SEND_OK))
    fp.register(DISABLE, returncode=-15)  # killed on the way
    fp.register(DISABLE)
    result = invoke(*SEND_ARGS)
    assert result.code == 0, result.stderr
    assert [list(c) for c in fp.calls][-2:] == [DISABLE, DISABLE]
    assert "warning" not in result.stderr


def test_every_call_runs_in_its_own_session(fp, prechecked, invoke):
    """Out of reach of a Ctrl-C or a kill sent to our process group (the run decides), and
    ended with everything it started."""
    sessions = {}

    def record(process):
        sessions[process.args[-1]] = process.kwargs.get("start_new_session")
        process.returncode = 0

    for argv in (ENABLE, SET_UA, DISABLE):
        fp.register(argv, callback=record)
    fp.register(SEND_ARGV, stdout=answer(SEND_OK))
    assert invoke(*SEND_ARGS).code == 0
    assert sessions == {"enable": True, UA: True, "disable": True}


# ---- hostile output ---------------------------------------------------------------------------


def test_a_send_answer_past_the_output_cap_is_outcome_unknown(session, invoke):
    session.register(SEND_ARGV, stdout="x" * (5 * 1024 * 1024))
    result = invoke(*SEND_ARGS)
    assert result.code == 5
    line = one_error_line(result.stderr)
    assert "more than 4 MiB" in line and "query-status" in line
    assert list(session.calls[-1]) == DISABLE


def test_a_query_answer_past_the_output_cap_is_a_failure(session, invoke):
    argv = product("get-sms-sign", "--sign-name", "S")
    session.register(argv, stdout="{" + " " * (5 * 1024 * 1024))
    result = invoke("query-sign", "-s", "S")
    assert result.code == 1
    assert "more than 4 MiB" in one_error_line(result.stderr)


# ---- secrets --------------------------------------------------------------------------------


@pytest.fixture
def secrets_around(monkeypatch, isolated_home):
    """Credentials in the environment and in an aliyun profile, as on a real machine."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
    config = isolated_home / ".aliyun" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"current": "default", "profiles": [{
        "name": "default", "mode": "AK", "access_key_id": PROFILE_KEY,
        "access_key_secret": PROFILE_SECRET, "region_id": "cn-hangzhou"}]}))
    redaction._profile_secrets.cache_clear()
    return (KEY_ID, SECRET, TOKEN, PROFILE_KEY, PROFILE_SECRET)


SHAPES = [
    "GET https://x/?AccessKeyId=LTAIshape1&Signature=c2lnbmF0dXJl%2B&Action=SendSms",
    "AccessKeyId: LTAIshape1 Signature: c2lnbmF0dXJl",
    '{"AccessKeyId":"LTAIshape1","Signature":"c2lnbmF0dXJl","SecurityToken":"tok"}',
    '{"AccessKeyId": "LTAIshape1", "SecurityToken": "tok"}',
    "AccessKeyId=LTAIshape1 Signature=c2lnbmF0dXJl SecurityToken=tok",
    "string to sign: AccessKeyId%3DLTAIshape1%26Signature%3Dc2lnbmF0dXJl%26",
    "access_key_id = LTAIshape1, access_key_secret = c2lnbmF0dXJl",
    # Found by an outside trial: escapes, other quotes, XML, headers, double encoding.
    r'{"Message":"AccessKeyId: LTAIshape1\nSignature: c2lnbmF0dXJl"}',
    "AccessKeyId: 'LTAIshape1' Signature='c2lnbmF0dXJl'",
    r'{\"AccessKeyId\":\"LTAIshape1\",\"Signature\":\"c2lnbmF0dXJl\"}',
    "<AccessKeyId>LTAIshape1</AccessKeyId><Signature>c2lnbmF0dXJl</Signature>",
    "Authorization: acs LTAIshape1:c2lnbmF0dXJl",
    "AccessKeyId%253DLTAIshape1%2526Signature%253Dc2lnbmF0dXJl%2526",
]


@pytest.mark.parametrize("text", SHAPES)
def test_credential_shaped_fields_are_withheld_in_any_notation(text):
    clean = redaction.redact(text)
    for value in ("LTAIshape1", "c2lnbmF0dXJl", '"tok"', "=tok"):
        assert value not in clean, clean
    assert "***" in clean


def test_neighbouring_fields_survive_redaction():
    text = "SignatureMethod=HMAC-SHA1&SignatureVersion=1.0 InvalidAccessKeySecret: Please"
    assert redaction.redact(text) == text


def test_known_secret_values_are_withheld_wherever_they_appear(secrets_around):
    text = " ".join(f"[{value}]" for value in secrets_around)
    assert redaction.redact(text) == " ".join("[***]" for _ in secrets_around)


def test_known_secret_values_are_withheld_url_encoded_too(monkeypatch):
    from urllib.parse import quote

    secret, token = "top/secret+val=ue&456", "CAIS+abc/def=="
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", token)
    for value in (secret, token):
        once = quote(value, safe="")
        text = f"a {once} b {quote(once, safe='')} c"
        assert redaction.redact(text) == "a *** b *** c"


def test_an_answer_carrying_secrets_is_not_printed_or_stored(session, invoke, secrets_around,
                                                             isolated_home):
    message = (f"key {KEY_ID} secret {SECRET} token {TOKEN} profile {PROFILE_SECRET} "
               "Signature=c2lnbmF0dXJl")
    session.register(SEND_ARGV, stdout=answer({"Code": "isv.SMS_CONTENT_ILLEGAL",
                                               "Message": message, "RequestId": "R"}))
    result = invoke(*SEND_ARGS)
    assert result.code == 1
    stored = b"".join(p.read_bytes() for p in isolated_home.rglob("*")
                      if p.is_file() and ".aliyun" not in p.parts)
    for value in (*secrets_around, "c2lnbmF0dXJl"):
        assert value not in result.stderr + result.stdout
        assert value.encode() not in stored


def test_the_precheck_never_shows_or_caches_what_aliyun_prints_about_credentials(
        fp, aliyun_path, invoke, secrets_around, isolated_home):
    leak = f"using AccessKeyId: {KEY_ID} with secret {SECRET} and {PROFILE_KEY}\n"
    fp.register(["aliyun", "version"], stdout="3.4.11\n")
    fp.register(["aliyun", "configure", "set", "--auto-plugin-install", "true"], stdout=leak)
    fp.register(["aliyun", "plugin", "update"], stdout=leak)
    for argv in (ENABLE, SET_UA, DISABLE):
        fp.register(argv)
    result = invoke("precheck")
    assert result.code == 0, result.stderr
    cache = (isolated_home / ".cache" / APP / "precheck.json").read_text()
    for value in secrets_around:
        assert value not in result.stdout + result.stderr + cache
    assert UA  # the user agent is not a secret and stays in every call


# ---- a run that holds a lock and never lets go (suspended with Ctrl-Z, or hung) -------------


def _held(path: Path):
    """An exclusive flock on ``path`` through another open file, as a stopped run holds it
    (flock locks belong to the open file, so this process's own open does not get it)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a")  # noqa: SIM115 - closed by the caller
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


@pytest.mark.parametrize("lock", [".cache/alibabacloud-sms-skill/ai-mode-runs.json.lock",
                                  ".local/share/alibabacloud-sms-skill/journal.sqlite3.lock"])
def test_a_lock_held_by_a_stopped_run_is_exit_3_not_a_hang(lock, session, invoke, monkeypatch,
                                                          isolated_home):
    from sms_skill import paths

    monkeypatch.setattr(paths, "LOCK_WAIT", 0.3)
    holder = _held(isolated_home / lock)
    try:
        session.register(SEND_ARGV, stdout=answer(SEND_OK))
        result = invoke(*SEND_ARGS)
    finally:
        holder.close()
    assert result.code == 3
    line = one_error_line(result.stderr)
    assert "held by another run for 0 s" in line and "Ctrl-Z" in line
    assert session.call_count(SEND_ARGV) == 0


@pytest.mark.parametrize("signum, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_during_the_switch_off_still_prints_what_the_service_accepted(
        signum, code, fp, prechecked, invoke):
    import signal

    from sms_skill import lifecycle

    saved = {sig: signal.getsignal(sig) for sig in lifecycle.HANDLED}
    lifecycle._INSTALLED.clear()  # as in a new process
    lifecycle.install_signal_handlers()
    try:
        fp.register(ENABLE)
        fp.register(SET_UA)
        fp.register(SEND_ARGV, stdout=answer(SEND_OK))
        fp.register(DISABLE, callback=lambda _process: os.kill(os.getpid(),
                                                               getattr(signal, signum)))
        result = invoke(*SEND_ARGS)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        lifecycle._INSTALLED.clear()
    assert result.code == code
    assert json.loads(result.stdout)["BizId"] == SEND_OK["BizId"]
    assert f"interrupted by {signum}" in result.stderr
    assert [list(c) for c in fp.calls][-1] == DISABLE


def test_history_gives_the_service_day_a_receipt_lookup_needs(session, invoke, monkeypatch):
    """On a machine far from UTC+8 the local date is often not the service's: history
    shows both, and the offset of the local time."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        session.register(SEND_ARGV, stdout=answer(SEND_OK))
        assert invoke(*SEND_ARGS).code == 0
        [entry] = invoke("history").json()
        now = time.time()
        assert entry["SendDate"] == time.strftime("%Y%m%d", time.gmtime(now + 8 * 3600))
        assert entry["Time"].endswith(("-0800", "-0700"))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
