"""The aliyun CLI's traps (docs: /work/shared/aliyun-cli-facts.md, first section), each run
through ``scripts/send_sms.sh`` against the fake aliyun."""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import (
    HANG_TIMEOUT,
    assert_ai_mode_wrapped,
    compliant,
    needs_fake_log,
    scenarios,
)

pytestmark = needs_fake_log

PHONE = "13800138000"
SEND = ("send", "-p", PHONE, "-s", "AliyunDemo", "-t", "SMS_123456", "-tp", '{"code":"123456"}')
QUERY = ("query-sign", "-s", "AliyunDemo")
AUTO_INSTALL = "ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL"
CONFIGURE_SET = ["configure", "set", "--auto-plugin-install", "true"]


def error_line(stderr: str) -> str:
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), stderr
    return last


def fake_env(world) -> dict:
    """The world's environment without the call log: for running the fake by hand."""
    return {k: v for k, v in world.env.items() if k != "FAKE_ALIYUN_LOG"}


def send_sms_entries(world) -> list[dict]:
    return [e for e in world.product_calls() if e["argv"][1] == "send-sms"]


def send_exit_codes(world) -> list[int]:
    """aliyun's own exit code for each product call (the fake logs an end line)."""
    return [e["exit"] for e in world.entries() if "exit" in e]


# ---- 2. credentials only in the environment: `configure set` fails ----------------------------


def test_credentials_only_in_environment_precheck_passes(world):
    assert not (world.home / ".aliyun" / "config.json").exists()
    result = world.run("precheck")
    assert result.code == 0, result.stderr
    steps = {s["step"]: s for s in result.json()["steps"]}
    assert steps["auto-plugin-install"]["ok"]
    assert AUTO_INSTALL in steps["auto-plugin-install"]["detail"]
    assert result.json()["env"] == {AUTO_INSTALL: "true"}

    calls = world.calls()
    assert CONFIGURE_SET in calls
    # It failed: nothing was saved, and the same call by hand says why.
    assert not (world.home / ".aliyun" / "config.json").exists()
    code, _, err = scenarios.run_fake(*CONFIGURE_SET, env=fake_env(world),
                                      executable=str(world.aliyun))
    assert code == 1 and "region can't be empty" in err

    # Every call after the failed `configure set` carries the variable, this run and later.
    sent = world.run(*SEND)
    assert sent.code == 0, sent.stderr
    starts = scenarios.log_calls(world.entries())
    first_after = next(i for i, e in enumerate(starts) if e["argv"] == CONFIGURE_SET) + 1
    later = starts[first_after:]
    assert len(later) >= 5 and any(e["argv"][0] == "dysmsapi" for e in later)
    for entry in later:
        assert entry["env"].get(AUTO_INSTALL) == "true", entry
    assert not (world.home / ".aliyun" / "config.json").exists()
    assert_ai_mode_wrapped(world)


# ---- 3. the install prompt on a character-device stdin ----------------------------------------


def test_plugin_missing_with_stdin_at_dev_null_never_hits_the_prompt(world):
    plugins = world.home / ".aliyun" / "plugins"
    shutil.rmtree(plugins)
    argv = ["dysmsapi", "send-sms", "--api-version", "2017-05-25", "--phone-numbers", PHONE,
            "--sign-name", "AliyunDemo", "--template-code", "SMS_123456"]
    # The trap is real: aliyun itself, stdin at /dev/null, stops at the prompt.
    code, _, err = scenarios.run_fake(*argv, env=fake_env(world), executable=str(world.aliyun))
    assert code == 1 and "Do you want to install it?" in err
    assert "failed to read user input: EOF" in err
    assert not (plugins / "aliyun-cli-dysmsapi").exists()

    result = world.run(*SEND)  # world.run gives the shim /dev/null as stdin
    assert result.code == 0, result.stderr
    assert result.json()["Code"] == "OK"
    assert "Do you want to install" not in result.stderr
    assert (plugins / "aliyun-cli-dysmsapi").exists()  # auto-installed on the way
    [entry] = send_sms_entries(world)
    assert entry["stdin_is_chr"] is False
    assert entry["env"].get(AUTO_INSTALL) == "true"
    assert all(not e["stdin_is_chr"] for e in scenarios.log_calls(world.entries()))
    assert_ai_mode_wrapped(world)


def test_plugin_missing_and_catalog_offline_is_an_environment_problem(world):
    # aliyun prints a `no such host` note about the catalog, then "not a valid product":
    # that is a missing plugin (exit 3), not a network failure of the send (exit 1).
    shutil.rmtree(world.home / ".aliyun" / "plugins")
    result = world.run(*SEND, FAKE_ALIYUN_OFFLINE="1")
    assert result.code == 3, result.stderr
    line = error_line(result.stderr)
    assert "plugin" in line and "aliyun plugin install" in line
    assert_ai_mode_wrapped(world)


# ---- 4. a business error comes back with exit 0 -----------------------------------------------


def test_business_error_with_exit_0_from_aliyun_is_exit_1(world):
    world.mock(scenarios.business_error())  # isv.BUSINESS_LIMIT_CONTROL, HTTP 200
    result = world.run(*SEND)
    assert send_exit_codes(world) == [0]  # aliyun was "successful"
    assert result.code == 1
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "isv.BUSINESS_LIMIT_CONTROL" in line and "触发分钟级流控" in line
    history = world.run("history").json()
    assert history[0]["Outcome"] == "failed"
    assert history[0]["Code"] == "isv.BUSINESS_LIMIT_CONTROL"
    assert_ai_mode_wrapped(world)


# ---- 6. timeouts: read (maybe sent) against connect and DNS (not sent) ------------------------


def test_read_timeout_on_a_send_is_outcome_unknown(world):
    world.mock(scenarios.read_timeout())
    result = world.run(*SEND)
    assert result.code == 5
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "query-status" in line and PHONE in line and "resend" in line
    assert "nothing was sent" not in line
    assert world.run("history").json()[0]["Outcome"] == "unknown"
    # and an identical send is not made again while its outcome is unknown
    again = world.run(*SEND)
    assert again.code == 6
    assert "query-status" in error_line(again.stderr)
    assert len(send_sms_entries(world)) == 1
    assert_ai_mode_wrapped(world)


def test_read_timeout_on_a_query_is_a_plain_failure(world):
    world.mock(scenarios.read_timeout("dysmsapi get-sms-sign *", action="GetSmsSign"))
    result = world.run(*QUERY)
    assert result.code == 1
    assert "timed out" in error_line(result.stderr)
    assert_ai_mode_wrapped(world)


@pytest.mark.parametrize("record", [scenarios.connect_timeout, scenarios.dns_failure],
                         ids=["connect-timeout", "dns-failure"])
def test_connect_timeout_and_dns_failure_mean_nothing_was_sent(world, record):
    world.mock(record())
    result = world.run(*SEND)
    assert result.code == 1
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "nothing was sent" in line
    assert world.run("history").json()[0]["Outcome"] == "failed"
    assert_ai_mode_wrapped(world)


# ---- 5. ANSI colour around ERROR: even on a pipe ----------------------------------------------


@pytest.mark.parametrize("record", [
    scenarios.forbidden_ram, scenarios.invalid_access_key, scenarios.read_timeout,
    scenarios.connect_timeout,
], ids=["forbidden-ram", "invalid-key", "read-timeout", "connect-timeout"])
def test_coloured_error_output_leaves_no_escape_codes(world, record):
    rec = record()
    assert rec["stderr"].startswith(scenarios.RED)  # aliyun colours it on a pipe too
    world.mock(rec)
    result = world.run(*SEND)
    assert result.code in (1, 5)
    assert "\x1b" not in result.stderr and "\x1b" not in result.stdout
    assert "[1;31m" not in result.stderr and "[0m" not in result.stderr
    assert error_line(result.stderr)
    assert_ai_mode_wrapped(world)


# ---- a hung aliyun ----------------------------------------------------------------------------


def test_hung_aliyun_on_a_send_is_outcome_unknown_quickly(world):
    world.mock(scenarios.hang())
    result = world.run(*SEND, SMS_SKILL_CALL_TIMEOUT=HANG_TIMEOUT, timeout=30)
    assert result.code == 5
    line = error_line(result.stderr)
    assert "did not answer within 3 s" in line and "query-status" in line
    [entry] = send_sms_entries(world)
    assert compliant(entry["argv"])
    assert_ai_mode_wrapped(world)


def test_hung_aliyun_on_a_query_is_a_failure_quickly(world):
    world.mock(scenarios.hang("dysmsapi get-sms-sign *"))
    result = world.run(*QUERY, SMS_SKILL_CALL_TIMEOUT=HANG_TIMEOUT, timeout=30)
    assert result.code == 1
    assert "did not answer within 3 s" in error_line(result.stderr)
    assert_ai_mode_wrapped(world)


# ---- no network for the plugin index ---------------------------------------------------------


def test_offline_plugin_update_is_a_warning_when_the_plugin_is_installed(world):
    result = world.run("precheck", FAKE_ALIYUN_OFFLINE="1")
    assert result.code == 0, result.stderr
    assert "plugin update: update failed" in result.stderr
    steps = {step["step"]: step for step in result.json()["steps"]}
    assert steps["plugin-update"]["ok"] is False
    assert world.run(*QUERY, FAKE_ALIYUN_OFFLINE="1").code == 0
    assert world.ai_mode()["enabled"] is False


def test_offline_without_the_plugin_is_exit_3_with_the_install_command(world):
    shutil.rmtree(world.home / ".aliyun" / "plugins")
    result = world.run(*SEND, FAKE_ALIYUN_OFFLINE="1")
    assert result.code == 3, result.stderr
    assert "aliyun plugin install --names dysmsapi" in error_line(result.stderr)
    assert send_exit_codes(world) == [2]  # aliyun: 'dysmsapi' is not a valid product
    assert_ai_mode_wrapped(world)
