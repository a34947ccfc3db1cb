"""The pre-check: version comparison, plugin steps, the cache, credentials."""

from __future__ import annotations

import json

import pytest

from sms_skill import precheck
from sms_skill.errors import EnvironmentProblem
from tests.unit.helpers import DISABLE, ENABLE, SET_UA, answer, product

VERSION = ["aliyun", "version"]
AUTO = ["aliyun", "configure", "set", "--auto-plugin-install", "true"]
UPDATE = ["aliyun", "plugin", "update"]
LIST = ["aliyun", "plugin", "list"]
SIGN = product("get-sms-sign", "--sign-name", "S")
SIGN_OK = {"Code": "OK", "SignStatus": 1, "SignName": "S"}


@pytest.mark.parametrize(("text", "ok"), [
    ("3.3.3\n", True), ("3.3.10\n", True), ("3.4.11\n", True), ("4.0.0\n", True),
    ("3.2.9\n", False), ("3.3.2\n", False), ("0.0.1\n", False),
])
def test_versions_compare_as_numbers_not_text(text, ok):
    version = precheck.parse_version(text)
    assert (version >= precheck.MIN_VERSION) is ok


def test_a_garbled_version_is_a_clear_environment_error():
    with pytest.raises(EnvironmentProblem, match="not a version"):
        precheck.parse_version("command not found")


@pytest.fixture
def full(fp, aliyun_path):
    fp.keep_last_process(True)
    for argv in (ENABLE, SET_UA, DISABLE):
        fp.register(argv)
    fp.register(SIGN, stdout=answer(SIGN_OK))
    return fp


def test_first_call_runs_the_whole_precheck_then_caches_it(full, invoke):
    full.register(VERSION, stdout="3.4.11\n")
    full.register(AUTO)
    full.register(UPDATE, stdout="No plugins installed.\n")
    assert invoke("query-sign", "-s", "S").code == 0
    assert [list(c) for c in full.calls] == [VERSION, ENABLE, SET_UA, AUTO, UPDATE, SIGN,
                                             DISABLE]
    assert invoke("query-sign", "-s", "S").code == 0
    assert [list(c) for c in full.calls][7:] == [ENABLE, SET_UA, SIGN, DISABLE]


def test_old_cli_is_exit_3_with_the_upgrade_command_and_ai_mode_untouched(full, invoke):
    full.register(VERSION, stdout="3.2.9\n")
    result = invoke("query-sign", "-s", "S")
    assert result.code == 3
    assert "3.2.9" in result.stderr and "3.3.3" in result.stderr and "setup.sh" in result.stderr
    assert [list(c) for c in full.calls] == [VERSION]


def test_failed_plugin_update_is_a_warning_when_the_plugin_is_installed(full, invoke):
    full.register(VERSION, stdout="3.4.11\n")
    full.register(AUTO)
    full.register(UPDATE, returncode=1, stderr="ERROR: failed to get plugin index: no such host\n")
    full.register(LIST, stdout="Name   Version  Description\naliyun-cli-dysmsapi   0.1.0   SMS\n")
    result = invoke("query-sign", "-s", "S")
    assert result.code == 0
    assert "plugin update: update failed" in result.stderr


def test_failed_plugin_update_without_the_plugin_is_exit_3(full, invoke):
    full.register(VERSION, stdout="3.4.11\n")
    full.register(AUTO)
    full.register(UPDATE, returncode=1, stderr="ERROR: failed to get plugin index\n")
    full.register(LIST, stdout="Name  Version  Description\n")
    result = invoke("query-sign", "-s", "S")
    assert result.code == 3 and "aliyun plugin install --names dysmsapi" in result.stderr
    assert list(full.calls[-1]) == DISABLE


def test_precheck_command_reports_each_step(full, invoke):
    full.register(VERSION, stdout="3.4.11\n")
    full.register(AUTO, returncode=1,
                  stderr="ERROR: fail to set configuration: region can't be empty\n")
    full.register(UPDATE, stdout="No plugins installed.\n")
    result = invoke("precheck")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == "3.4.11"
    assert data["env"] == {"ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL": "true"}
    assert [s["step"] for s in data["steps"]] == ["version", "credentials",
                                                  "auto-plugin-install", "plugin-update"]
    assert data["ok"] is True and data["steps"][1]["detail"] == "environment variables"
    assert "credentials: found in environment variables" in result.stderr


def test_precheck_failure_still_reports_each_step_as_json(full, invoke, monkeypatch):
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
    full.register(VERSION, stdout="3.4.11\n")
    result = invoke("precheck")
    assert result.code == 3 and "no credentials" in result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["failed_step"] == "credentials"
    assert [(s["step"], s["ok"]) for s in data["steps"]] == [("version", True),
                                                             ("credentials", False)]
    assert "test-secret" not in result.stdout + result.stderr


def test_no_credentials_anywhere_is_exit_3_before_any_product_call(full, invoke, monkeypatch):
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
    full.register(VERSION, stdout="3.4.11\n")
    result = invoke("query-sign", "-s", "S")
    assert result.code == 3 and "no credentials" in result.stderr
    assert "test-secret" not in result.stderr
    assert [list(c) for c in full.calls] == [VERSION]


def test_a_profile_with_a_key_counts_as_credentials(isolated_home, monkeypatch):
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID", raising=False)
    config = isolated_home / ".aliyun" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"current": "default", "profiles": [
        {"name": "default", "mode": "AK", "access_key_id": "LTAI", "access_key_secret": "s"}]}))
    assert "default" in precheck.check_credentials({})


def test_cache_expires_after_the_ttl(prechecked, monkeypatch):
    assert precheck.cached(str(prechecked)) is not None
    monkeypatch.setenv("SMS_SKILL_PRECHECK_TTL", "0")
    assert precheck.cached(str(prechecked)) is None


def test_cache_is_ignored_for_a_new_aliyun_binary(prechecked):
    import os

    os.utime(prechecked, (1, 1))
    assert precheck.cached(str(prechecked)) is None


def test_plugin_auto_install_is_set_on_the_profile_the_calls_use(full, invoke):
    sign = SIGN + ["--profile", "prod"]
    full.register(sign, stdout=answer(SIGN_OK))
    full.register(VERSION, stdout="3.4.11\n")
    full.register(AUTO + ["--profile", "prod"])
    full.register(UPDATE, stdout="No plugins installed.\n")
    assert invoke("--profile", "prod", "query-sign", "-s", "S").code == 0
    assert [list(c) for c in full.calls][3] == AUTO + ["--profile", "prod"]
    assert invoke("--profile", "prod", "query-sign", "-s", "S").code == 0
    assert sum(1 for c in full.calls if list(c) == VERSION) == 1  # cached for that profile
