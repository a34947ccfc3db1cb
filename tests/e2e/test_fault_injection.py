"""Faults at the worst moment, through the shim as a real process: signals during the
switch-off and before the program starts, a hostile aliyun (floods, hangs at each
pre-check step, killed by a signal), full, read-only and missing folders, and a sweep
for secrets in everything the tool printed or wrote."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import fill
from tests.e2e.conftest import (
    HANG_TIMEOUT,
    SHIM,
    UA,
    Result,
    assert_ai_mode_wrapped,
    needs_fake_log,
    scenarios,
)

pytestmark = needs_fake_log

PHONE = "13800138000"
SEND = ["send", "-p", PHONE, "-s", "AliyunDemo", "-t", "SMS_123456", "-tp", '{"code":"123456"}']
APP = "alibabacloud-sms-skill"


def error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), stderr
    assert "Traceback" not in stderr, stderr
    return lines[-1]


def wrap_aliyun(world, cases: str) -> None:
    """Put a bash wrapper in front of the fake aliyun: ``cases`` are the arms of a
    ``case " $* " in`` on its arguments; then it does the real work."""
    real = world.bin / "aliyun-real"
    world.aliyun.rename(real)
    world.aliyun.write_text(f"""#!/bin/bash
case " $* " in
{cases}
esac
exec '{real}' "$@"
""")
    world.aliyun.chmod(0o755)


def hostile(world, *, kill_on: str = "", slow_on: str = "") -> Path:
    """A wrapper that SIGKILLs itself when its arguments contain ``kill_on``, or, when they
    contain ``slow_on``, touches a marker file and takes a second before doing the real
    work. Returns the marker's path."""
    marker = world.home / "slow-call-started"
    wrap_aliyun(world, f"""  *" {kill_on or '@never@'} "*) kill -KILL $$ ;;
  *" {slow_on or '@never@'} "*) : > '{marker}'; sleep 1 ;;""")
    return marker


def start_in_own_group(world, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([str(SHIM), *args], env={**world.env, **env},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


# ---- AI mode: a signal during the switch-off --------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                              (signal.SIGHUP, 129)])
@pytest.mark.parametrize("to_group", [False, True], ids=["to-the-run", "to-its-group"])
def test_a_signal_during_the_switch_off_still_leaves_ai_mode_off(world, signum, code,
                                                                  to_group):
    marker = hostile(world, slow_on="disable")
    proc = start_in_own_group(world, *SEND)
    wait_for(marker)
    (os.killpg if to_group else os.kill)(proc.pid, signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "AI mode was switched off" in error_line(err)
    assert world.ai_mode()["enabled"] is False
    assert world.calls()[-1] == ["configure", "ai-mode", "disable"]


# ---- the earliest SIGINT ----------------------------------------------------------------------


@pytest.mark.xfail(strict=False, reason=(
    "known open race, seen under load: a SIGINT in the first 0.3 s was once not acted on and "
    "the run went on to its end (AI mode still ended off); under investigation"))
def test_a_sigint_at_any_moment_of_start_up_is_the_one_line_exit_130(world):
    world.mock(scenarios.hang(times=0))  # every run is still going when the signal comes
    outcomes = []
    for step in range(30):
        proc = start_in_own_group(world, *SEND, "--force")
        time.sleep(step * 0.01)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does
        out, err = proc.communicate(timeout=30)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        if proc.returncode == -signal.SIGINT:
            # Before bash has read the trap on its first lines: the kernel's default.
            assert err == "", err
        else:
            assert proc.returncode == 130, err
            [line] = err.strip().splitlines()[-1:]
            assert re.fullmatch(r"error: interrupted by SIGINT.*", line), err
            assert not [x for x in err.splitlines() if not x.startswith(
                ("error: ", "aliyun version:", "plugin ", "credentials"))], err
        outcomes.append(proc.returncode)
        assert world.ai_mode().get("enabled") is not True
    assert outcomes.count(130) >= 20, outcomes


# ---- a hostile aliyun -------------------------------------------------------------------------


def test_a_flood_on_a_send_is_cut_off_and_its_outcome_unknown(world):
    world.mock(scenarios.send_ok(response_body_size=20 * 1024 * 1024))
    result = world.run(*SEND)
    assert result.code == 5
    line = error_line(result.stderr)
    assert "more than 4 MiB" in line and "query-status" in line
    assert len(result.stdout) == 0 and len(result.stderr) < 2000
    assert world.run("history").json()[0]["Outcome"] == "unknown"
    assert_ai_mode_wrapped(world)


def test_a_flood_on_a_query_is_a_failure(world):
    body = scenarios.json_response({"Code": "OK", "SignName": "AliyunDemo", "SignStatus": 1})
    world.mock(scenarios.mock_record("dysmsapi get-sms-sign *", stdout=body,
                                     response_body_size=20 * 1024 * 1024))
    result = world.run("query-sign", "-s", "AliyunDemo")
    assert result.code == 1
    assert "more than 4 MiB" in error_line(result.stderr)
    assert_ai_mode_wrapped(world)


PRECHECK_STEPS = [
    # (mock rule, exit code, text on stderr)
    ("version", 3, "`aliyun version` failed: it did not answer within 3 s"),
    ("configure set --auto-plugin-install true", 0, "plugin auto-install: not saved"),
    ("plugin update", 0, "plugin update: update failed (it did not answer within 3 s"),
    ("configure ai-mode enable", 3, "ai-mode enable` failed: it did not answer within 3 s"),
    (f"configure ai-mode set-user-agent --user-agent {UA}", 3,
     "set-user-agent --user-agent"),
    ("configure ai-mode disable", 0, ""),
]


@pytest.mark.parametrize(("rule", "code", "said"), PRECHECK_STEPS,
                         ids=[s[0].split(" --")[0] for s in PRECHECK_STEPS])
def test_a_hang_at_each_precheck_step_is_stopped_by_the_call_timeout(world, rule, code, said):
    world.mock(scenarios.hang(rule, stdout=""))
    result = world.run(*SEND, SMS_SKILL_CALL_TIMEOUT=HANG_TIMEOUT, timeout=60)
    assert result.code == code, result.stderr
    assert said in result.stderr
    if code == 3:
        assert "did not answer within 3 s" in error_line(result.stderr)
        assert world.product_calls() == []
    assert world.ai_mode().get("enabled") is not True


@pytest.mark.parametrize(("kill_on", "code", "said"), [
    ("send-sms", 5, "killed by signal 9"),
    ("version", 3, "killed by signal 9"),
    ("enable", 3, "killed by signal 9"),
])
def test_an_aliyun_killed_by_a_signal(world, kill_on, code, said):
    hostile(world, kill_on=kill_on)
    result = world.run(*SEND)
    assert result.code == code, result.stderr
    assert said in error_line(result.stderr)
    assert world.ai_mode().get("enabled") is not True


# ---- after a kill -9, the next command of any kind switches AI mode off -----------------------


@pytest.mark.parametrize("command", [["history"], ["campaign", "list"], ["campaign", "show"]])
def test_after_a_sigkill_the_commands_the_docs_suggest_switch_ai_mode_off(world, tmp_path,
                                                                          command):
    phones = tmp_path / "phones.txt"
    phones.write_text(f"{PHONE}\n13900139000\n")
    world.mock(scenarios.hang())
    proc = world.start("send", "--phone-file", str(phones), "-s", "AliyunDemo", "-t",
                       "SMS_123456", "-tp", '{"code":"1"}')
    world.wait_for_call("send-sms")
    proc.kill()
    _, err = proc.communicate(timeout=10)
    assert world.ai_mode()["enabled"] is True
    campaign_id = re.search(r"campaign (\S+):", err).group(1)
    args = [*command, campaign_id] if command[-1] == "show" else command
    result = world.run(*args)
    assert result.code == 0, result.stderr
    assert world.ai_mode()["enabled"] is False
    assert world.calls()[-1] == ["configure", "ai-mode", "disable"]
    assert "killed run" in result.stderr


# ---- storage: full, read-only, missing ------------------------------------------------------


def test_a_full_journal_disk_before_a_send_is_exit_3_and_nothing_is_called(world, tmpfs):
    data = tmpfs("data", "256k")
    fill(data)
    result = world.run(*SEND, XDG_DATA_HOME=str(data))
    assert result.code == 3
    assert "full" in error_line(result.stderr)
    assert world.calls() == [] and world.ai_mode() == {}


def send_while_the_disk_fills(world, tmpfs, variable: str) -> Result:
    """A send whose folder (``variable``) fills up while aliyun is answering it."""
    folder = tmpfs(variable.lower(), "512k")
    world.mock(scenarios.send_ok(delay_ms=1500))
    proc = world.start(*SEND, **{variable: str(folder)})
    world.wait_for_call("send-sms")
    fill(folder)
    out, err = proc.communicate(timeout=60)
    return Result(proc.returncode, out, err)


def test_a_journal_disk_that_fills_during_the_send_still_gives_the_biz_id(world, tmpfs):
    result = send_while_the_disk_fills(world, tmpfs, "XDG_DATA_HOME")
    assert result.code == 0, result.stderr
    assert result.json()["BizId"] == "900619746936498440^0"
    assert "900619746936498440^0" in result.stderr and "could not record" in result.stderr
    assert_ai_mode_wrapped(world)


def test_a_cache_disk_that_fills_during_the_send_still_switches_ai_mode_off(world, tmpfs):
    result = send_while_the_disk_fills(world, tmpfs, "XDG_CACHE_HOME")
    assert result.code == 0, result.stderr
    assert_ai_mode_wrapped(world)


@pytest.mark.parametrize("variable", ["XDG_DATA_HOME", "XDG_CACHE_HOME"])
def test_a_read_only_folder_is_exit_3_naming_the_variable(world, tmpfs, variable):
    folder = tmpfs("ro", readonly=True)
    result = world.run(*SEND, **{variable: str(folder)})
    assert result.code == 3
    line = error_line(result.stderr)
    assert "Read-only file system" in line and variable in line
    assert world.product_calls() == [] and world.ai_mode().get("enabled") is not True


def test_missing_folders_are_created_private(world, tmp_path):
    data, cache = tmp_path / "a" / "data", tmp_path / "b" / "cache"
    assert world.run(*SEND, XDG_DATA_HOME=str(data), XDG_CACHE_HOME=str(cache)).code == 0
    for folder in (data / APP, cache / APP):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# ---- secrets: a sweep of every output and every file written ----------------------------------


def test_no_secret_value_is_printed_or_written_anywhere(world, tmp_path):
    token = "CAIS.e2e-sts-token-value"
    profile_key, profile_secret = "LTAI5tProfileE2eKey", "profile-e2e-secret-value"
    secrets = [world.env["ALIBABA_CLOUD_ACCESS_KEY_ID"],
               world.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], token, profile_key, profile_secret]
    scenarios.write_config(world.home, access_key_id=profile_key,
                           access_key_secret=profile_secret)
    data, cache = tmp_path / "xdg-data", tmp_path / "xdg-cache"
    env = {"ALIBABA_CLOUD_SECURITY_TOKEN": token, "XDG_DATA_HOME": str(data),
           "XDG_CACHE_HOME": str(cache)}
    said = " ".join(f"{name}: {value}" for name, value in zip(
        ["AccessKeyId", "secret", "SecurityToken", "profile", "profile secret"], secrets))
    # Not known values: only their shape gives them away.
    shaped = "Signature=c2lnbmF0dXJlZTJl AccessKeyId: LTAI5tNotInAnyProfile"
    url = (f"https://dysmsapi.aliyuncs.com/?AccessKeyId={secrets[0]}&Action=SendSms"
           f"&SecurityToken={token}&Signature=c2lnbmF0dXJlZTJl")
    world.mock(
        scenarios.mock_record("plugin update", stdout=f"{said}\n", stderr=f"{url}\n"),
        scenarios.server_error("SignatureDoesNotMatch", f"{said} {{\"AccessKeyId\":"
                               f"\"{secrets[0]}\"}}", cmd="dysmsapi get-sms-sign *"),
        scenarios.business_error("isv.SMS_CONTENT_ILLEGAL", said),
        scenarios.mock_record("dysmsapi send-batch-sms *", exit_code=1, stderr=scenarios.error_text(
            f'Post "{url}": context deadline exceeded {said}')),
        scenarios.mock_record("dysmsapi query-send-details *", stdout=scenarios.json_response(
            {"Code": "OK", "Message": f"{said} {shaped}", "RequestId": "R", "TotalCount": 0,
             "SmsSendDetailDTOs": {"SmsSendDetailDTO": []}})),
    )
    csv = tmp_path / "batch.csv"
    csv.write_text("phone,sign_name,code\n13800138000,AliyunDemo,1\n13900139000,AliyunDemo,2\n")
    runs = [world.run(*args, **env) for args in (
        ["precheck"],
        ["query-sign", "-s", "AliyunDemo"],
        SEND,
        ["batch-send", "--csv", str(csv), "-t", "SMS_123456"],
        ["query-status", "-p", PHONE],
        ["history"],
        ["campaign", "list"],
    )]
    campaign_id = runs[-1].json()[0]["id"] if runs[-1].stdout.strip() else ""
    runs.append(world.run("campaign", "show", campaign_id, **env))
    assert [r.code for r in runs] == [0, 1, 1, 5, 0, 0, 0, 0], [r.stderr for r in runs]
    for name in ("SignatureDoesNotMatch", "isv.SMS_CONTENT_ILLEGAL",
                 "context deadline exceeded"):
        assert any(name in r.stderr + r.stdout for r in runs), name  # the errors did show

    outputs = "\n".join(r.stdout + r.stderr for r in runs)
    aliyun_own = {world.home / ".aliyun", world.log, world.mocks}
    written = [p for root in (world.home, data, cache) for p in root.rglob("*")
               if p.is_file() and not any(p == o or o in p.parents for o in aliyun_own)]
    assert any(p.name == "journal.sqlite3" for p in written)
    assert any(p.name == "precheck.json" for p in written)
    for secret in secrets + ["c2lnbmF0dXJlZTJl", "LTAI5tNotInAnyProfile"]:
        assert secret not in outputs, secret
        for path in written:
            assert secret.encode() not in path.read_bytes(), (secret, path)


def test_a_campaign_chunk_accepted_as_the_disk_fills_keeps_its_biz_id_on_stderr(world, tmpfs,
                                                                                tmp_path):
    data = tmpfs("data", "512k")
    phones = tmp_path / "phones.txt"
    phones.write_text(f"{PHONE}\n13900139000\n")
    world.mock(scenarios.send_ok(delay_ms=1500))
    proc = world.start("send", "--phone-file", str(phones), "-s", "AliyunDemo", "-t",
                       "SMS_123456", "-tp", '{"code":"1"}', XDG_DATA_HOME=str(data))
    world.wait_for_call("send-sms")
    fill(data)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, err  # in flight: `campaign reconcile` settles it
    assert "900619746936498440^0" in err and "could not record" in err
    assert "campaign reconcile" in error_line(err)
    assert_ai_mode_wrapped(world)


# ---- a call that leaves children behind -------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("action", ["send-sms", "version"])
def test_a_call_that_leaves_a_child_holding_its_output_ends_with_it(world, action):
    """A real aliyun may start helpers (plugins). One left behind holding stdout must
    neither hold the run nor outlive it."""
    child = world.home / "child.pid"
    wrap_aliyun(world, f"""  *" {action} "*) sleep 300 & echo $! > '{child}' ;;""")
    result = world.run(*SEND)
    assert result.code == 0, result.stderr
    assert child.exists()
    assert not _alive(int(child.read_text())), "the call's child outlived the run"
    assert_ai_mode_wrapped(world)
