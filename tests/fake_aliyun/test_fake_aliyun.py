"""Tests of the fake aliyun CLI: real subprocesses, a temp HOME each."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import time

import pytest
import scenarios

UA = scenarios.USER_AGENT
SEND = scenarios.SEND_ARGV
RED_ERR = "\x1b[1;31mERROR: %s\n\x1b[0m"
CONFIG_TIP = "\x1b[1;33m\nConfiguration failed, use `aliyun configure` to configure it\n\x1b[0m"


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ---- version --------------------------------------------------------------------------------


def test_version_default_and_override(run):
    assert run("version") == (0, "3.4.11\n", "")
    assert run("version", FAKE_ALIYUN_VERSION="3.2.9") == (0, "3.2.9\n", "")
    assert run("version", FAKE_ALIYUN_VERSION="not-a-version")[1] == "not-a-version\n"


def test_dash_dash_version_prints_root_usage(run):
    code, out, err = run("--version")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "Alibaba Cloud Command Line Interface Version 3.4.11"
    assert "\nUsage:\n  aliyun <product> <operation>" in out
    code, out, _ = run("--version", FAKE_ALIYUN_VERSION="3.3.3")
    assert out.startswith("Alibaba Cloud Command Line Interface Version 3.3.3\n")


# ---- ai-mode --------------------------------------------------------------------------------


def test_ai_mode_show_fresh(run, fake_home):
    code, out, err = run("configure", "ai-mode", "show")
    assert code == 0 and err == ""
    assert out == (
        '{\n  "enabled": false,\n  "effective_user_agent": "AlibabaCloud-Agent-Skills",\n'
        f'  "config_file": "{fake_home}/.aliyun/ai-mode.json"\n}}\n'
    )
    assert run("configure", "ai-mode")[1] == out  # bare ai-mode = show
    assert not (fake_home / ".aliyun" / "ai-mode.json").exists()


def test_ai_mode_enable_set_user_agent_disable(run, fake_home):
    path = fake_home / ".aliyun" / "ai-mode.json"
    assert run("configure", "ai-mode", "enable") == (0, "", "")
    assert path.read_text() == '{\n\t"enabled": true\n}'
    assert mode_of(path) == 0o600
    assert run("configure", "ai-mode", "set-user-agent", "--user-agent", UA) == (0, "", "")
    assert path.read_text() == f'{{\n\t"enabled": true,\n\t"user_agent": "{UA}"\n}}'
    code, out, _ = run("configure", "ai-mode", "show")
    assert out == (
        "{\n"
        '  "enabled": true,\n'
        f'  "user_agent": "{UA}",\n'
        f'  "effective_user_agent": "{UA}",\n'
        f'  "request_user_agent_suffix": "AlibabaCloud-AIMode/enabled {UA}",\n'
        f'  "config_file": "{path}"\n'
        "}\n"
    )
    assert run("configure", "ai-mode", "disable") == (0, "", "")
    assert path.read_text() == f'{{\n\t"enabled": false,\n\t"user_agent": "{UA}"\n}}'
    show = json.loads(run("configure", "ai-mode", "show")[1])
    assert list(show) == ["enabled", "user_agent", "effective_user_agent", "config_file"]
    assert run("configure", "ai-mode", "reset-user-agent") == (0, "", "")
    assert path.read_text() == '{\n\t"enabled": false\n}'


def test_ai_mode_errors(run, fake_home):
    code, out, err = run("configure", "ai-mode", "set-user-agent")
    assert (code, out) == (1, "")
    assert err == RED_ERR % "--user-agent is required for set-user-agent"
    assert run("configure", "ai-mode", "set-user-agent", "--user-agent", "")[0] == 1
    code, out, err = run("configure", "ai-mode", "set-user-agent", "X")
    assert code == 2 and err == RED_ERR % "'X' is not a valid command"
    code, out, err = run("configure", "ai-mode", "enabel")
    assert code == 2
    assert err == RED_ERR % "'enabel' is not a valid command"
    assert out == "\x1b[1;33m\nDid you mean:\n\x1b[0m\x1b[1;33m  enable\n\x1b[0m"
    code, out, err = run("configure", "ai-mode", "enable", "--bogus", "1")
    assert code == 2 and err.startswith("\x1b[1;31mERROR: invalid flag --bogus; available flags:")
    assert not (fake_home / ".aliyun" / "ai-mode.json").exists()


def test_ai_mode_unparsable_file_means_defaults(run, fake_home):
    path = fake_home / ".aliyun" / "ai-mode.json"
    path.parent.mkdir()
    path.write_text("{not json")
    assert json.loads(run("configure", "ai-mode", "show")[1])["enabled"] is False
    assert run("configure", "ai-mode", "enable")[0] == 0
    assert json.loads(path.read_text()) == {"enabled": True}


# ---- configure set/get/list -----------------------------------------------------------------


def test_configure_set_fresh_home_needs_region_and_ignores_env(run, creds_env, fake_home):
    code, out, err = run("configure", "set", "--auto-plugin-install", "true", env=creds_env)
    assert (code, out) == (1, "")
    assert err == RED_ERR % "fail to set configuration: region can't be empty"
    assert not (fake_home / ".aliyun" / "config.json").exists()


def test_configure_set_without_access_key(run):
    code, _, err = run(
        "configure", "set", "--region", "cn-hangzhou", "--auto-plugin-install", "true"
    )
    assert code == 1
    assert err == RED_ERR % (
        "fail to set configuration: access_key_id is not configured for profile 'default'. "
        "Run `aliyun configure --profile default --mode AK` to set it"
    )


def test_configure_set_success_and_get(run, fake_home, fake_env):
    assert run("configure", "get")[0:2] == (1, "")
    assert run("configure", "get")[2] == RED_ERR % (
        "load configuration failed. Run `aliyun configure` to set up"
    )
    args = ["configure", "set", "--region", "cn-shanghai", "--access-key-id", "LTAI5tABCxyz",
            "--access-key-secret", "s3cret", "--auto-plugin-install", "true"]  # fmt: skip
    assert run(*args) == (0, "", "")
    path = fake_home / ".aliyun" / "config.json"
    assert mode_of(path) == 0o600
    text = path.read_text()
    assert not text.endswith("\n")
    assert text.startswith('{\n\t"current": "default",\n\t"profiles": [\n\t\t{\n\t\t\t"name"')
    conf = json.loads(text)
    prof = conf["profiles"][0]
    assert prof == {
        "name": "default", "mode": "AK", "access_key_id": "LTAI5tABCxyz",
        "access_key_secret": "s3cret", "region_id": "cn-shanghai", "output_format": "json",
        "language": "en", "site": "china", "auto_plugin_install": True,
    }  # fmt: skip
    assert conf["meta_path"] == ""
    code, out, err = run("configure", "get")
    assert code == 0 and err == ""
    assert out.endswith("}\n\n") and '\t"access_key_secret": "s3cret",' in out
    assert json.loads(out) == prof
    # a second profile becomes current; flags of the first are kept
    assert run("configure", "set", "--profile", "dev", "--region", "cn-beijing",
               "--access-key-id", "LTAI5tDEV", "--access-key-secret", "x")[0] == 0  # fmt: skip
    conf = json.loads(path.read_text())
    assert conf["current"] == "dev" and len(conf["profiles"]) == 2
    assert run("configure", "get", "region") == (0, "cn-beijing\n", "")
    code, out, _ = run("configure", "list")
    assert out.splitlines() == [
        "Profile   | Credential         | Valid   | Region           | Language",
        "--------- | ------------------ | ------- | ---------------- | --------",
        "default   | AK:***xyz          | Valid   | cn-shanghai      | en",
        "dev *     | AK:***DEV          | Valid   | cn-beijing       | en",
    ]
    assert run("configure", "set", "--user-agent", "x")[0] == 2  # not a configure flag


def test_configure_get_env_overlay(run, fake_home):
    scenarios.write_config(fake_home, auto_plugin_install=False)
    out = run("configure", "get", ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL="true")[1]
    assert json.loads(out)["auto_plugin_install"] is True
    out = run("configure", "get", "--profile", "default",
              ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL="true")[1]  # fmt: skip
    assert "auto_plugin_install" not in json.loads(out)


def test_corrupt_config_quirk_exits_zero(run, fake_home):
    path = fake_home / ".aliyun" / "config.json"
    path.parent.mkdir()
    path.write_text("{oops")
    code, out, err = run("version")
    assert (code, out) == (0, "")
    assert err.startswith("\x1b[1;31mERROR: load current configuration failed init config failed")


# ---- plugins --------------------------------------------------------------------------------

EMPTY_LIST = (
    "Name                Version             Description\n"
    "----                -------             -----------\n"
)
INSTALL_OUT = (
    "Downloading aliyun-cli-dysmsapi 0.1.0...\n"
    "Plugin aliyun-cli-dysmsapi 0.1.0 installed successfully!\n"
)


def test_plugin_list_install_update(run, fake_home):
    assert run("plugin", "list") == (0, EMPTY_LIST, "")
    assert run("plugin", "update") == (0, "No plugins installed.\n", "")
    assert run("plugin", "install", "--names", "dysmsapi") == (0, INSTALL_OUT, "")
    root = fake_home / ".aliyun" / "plugins"
    manifest_text = (root / "manifest.json").read_text()
    assert manifest_text.endswith("}\n") and manifest_text.startswith('{\n  "plugins": {\n')
    entry = json.loads(manifest_text)["plugins"]["aliyun-cli-dysmsapi"]
    assert entry["version"] == "0.1.0" and entry["productCode"] == "dysmsapi"
    assert entry["path"] == str(root / "aliyun-cli-dysmsapi")
    assert "send-sms" in entry["cmdNames"] and len(entry["cmdNames"]) == 10
    assert os.access(root / "aliyun-cli-dysmsapi" / "aliyun-cli-dysmsapi", os.X_OK)
    code, out, _ = run("plugin", "list")
    assert out == (
        "Name                  Version             Description\n"
        "----                  -------             -----------\n"
        "aliyun-cli-dysmsapi   0.1.0               {}\n".format(entry["description"])
    )
    assert run("plugin", "update") == (
        0,
        "Checking for updates for 1 installed plugin(s)...\n"
        "Skipping aliyun-cli-dysmsapi (already up to date: 0.1.0)\n"
        "All plugins are up to date.\n",
        "",
    )
    code, out, _ = run("plugin", "install", "--name", "aliyun-cli-dysmsapi")
    assert code == 0 and "is already installed (version 0.1.0)" in out


def test_plugin_install_name_variants_and_errors(run, fake_home):
    assert run("plugin", "install", "--names", "aliyun-cli-dysmsapi") == (0, INSTALL_OUT, "")
    assert run("plugin", "install", "--name", "DYSMSAPI")[0] == 0
    code, _, err = run("plugin", "install", "--names", "ecsx")
    assert code == 1 and err == RED_ERR % "plugin ecsx not found"
    code, _, err = run("plugin", "install", "dysmsapi")
    assert code == 1 and "either --name/--names or --package is required" in err
    code, out, err = run("plugin")
    assert code == 3 and err == RED_ERR % "command missing" + (
        "\x1b[1;33m\nUse `aliyun plugin --help` for more information.\n\x1b[0m"
    )
    assert run("plugin", "list", "--profile", "x")[0] == 2


def test_plugin_update_from_older_version(run, fake_home):
    scenarios.preinstall_plugin(fake_home, version="0.0.9")
    code, out, _ = run("plugin", "update")
    assert code == 0
    assert out.splitlines()[:2] == [
        "Checking for updates for 1 installed plugin(s)...",
        "Updating aliyun-cli-dysmsapi from 0.0.9 to 0.1.0...",
    ]
    assert out.endswith("installed successfully!\nUpdated: 1\n")


def test_plugin_offline(run, fake_home):
    index_err = (
        'failed to fetch plugin index: Get "https://aliyuncli.alicdn.com/plugins/'
        'plugin_pkg_index.json": dial tcp: lookup aliyuncli.alicdn.com: no such host'
    )
    code, out, err = run("plugin", "install", "--names", "dysmsapi", FAKE_ALIYUN_OFFLINE="1")
    assert (code, out, err) == (1, "", RED_ERR % index_err)
    assert run("plugin", "update", FAKE_ALIYUN_OFFLINE="1") == (0, "No plugins installed.\n", "")
    scenarios.preinstall_plugin(fake_home)
    code, out, err = run("plugin", "update", FAKE_ALIYUN_OFFLINE="1")
    assert (code, out) == (1, "")
    assert err == RED_ERR % ("failed to get plugin index: " + index_err)
    assert run("plugin", "list", FAKE_ALIYUN_OFFLINE="1")[0] == 0


def test_plugins_dir_env(run, fake_home, tmp_path):
    other = tmp_path / "plugins"
    assert run("plugin", "install", "--names", "dysmsapi",
               ALIBABA_CLOUD_CLI_PLUGINS_DIR=str(other))[0] == 0  # fmt: skip
    assert (other / "manifest.json").exists()
    assert not (fake_home / ".aliyun" / "plugins" / "manifest.json").exists()


# ---- product calls --------------------------------------------------------------------------


def test_product_call_with_env_credentials(run, creds_env, fake_home):
    scenarios.preinstall_plugin(fake_home)
    code, out, err = run(*SEND, env=creds_env)
    assert (code, err) == (0, "")
    body = json.loads(out)
    assert list(body) == ["BizId", "Code", "Message", "RequestId"]
    assert body["Code"] == "OK" and re.fullmatch(r"\d{18}\^0", body["BizId"])
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}",
                        body["RequestId"])  # fmt: skip
    assert out == json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def test_product_call_without_credentials(run, fake_env, fake_home):
    scenarios.preinstall_plugin(fake_home)
    code, out, err = run(*SEND)
    assert (code, out) == (3, "")
    assert err == RED_ERR % "region can't be empty" + CONFIG_TIP
    code, out, err = run(*SEND, ALIBABA_CLOUD_REGION_ID="cn-hangzhou")
    assert code == 3
    assert "profile default is not configure yet" in err
    code, _, err = run(*SEND, "--region", "cn-hangzhou", ALIBABA_CLOUD_ACCESS_KEY_ID="a",
                       ALIBABA_CLOUD_ACCESS_KEY_SECRET="b")  # fmt: skip
    assert code == 0
    code, _, err = run(*SEND, "--profile", "nope", ALIBABA_CLOUD_REGION_ID="cn-hangzhou")
    assert (
        code == 3 and err == RED_ERR % "unknown profile nope, run configure to check" + CONFIG_TIP
    )
    code, _, err = run(*SEND, ALIBABA_CLOUD_PROFILE="nope")
    assert code == 3 and "unknown profile nope" in err


def test_product_call_with_config_profile(run, fake_home):
    scenarios.preinstall_plugin(fake_home)
    scenarios.write_config(fake_home, region="cn-hangzhou")
    assert run(*SEND)[0] == 0
    scenarios.write_config(fake_home, access_key_id="")
    code, _, err = run(*SEND)
    assert code == 3 and "access_key_id is not configured for profile 'default'" in err


def test_plugin_missing_dev_null_stdin_is_eof(run, creds_env, fake_home):
    code, out, err = run(*SEND, env=creds_env)  # stdin defaults to /dev/null
    assert (code, out) == (1, "")
    assert err == (
        "Plugin 'aliyun-cli-dysmsapi' is required for command 'dysmsapi send-sms' but not "
        "installed.\nTip: Run 'aliyun configure set --auto-plugin-install true' to skip this "
        "prompt.\nDo you want to install it? [Y/n]: " + RED_ERR % "failed to read user input: EOF"
    )
    assert not (fake_home / ".aliyun" / "plugins" / "manifest.json").exists()


def test_plugin_missing_piped_stdin(run, creds_env):
    code, out, err = run(*SEND, env=creds_env, stdin="y\n")
    assert (code, out) == (1, "")
    assert "Install it with: aliyun plugin install --names aliyun-cli-dysmsapi\n" in err
    assert err.endswith(RED_ERR % (
        "'dysmsapi' is not a valid built-in product.\nA plugin 'aliyun-cli-dysmsapi' is "
        "available which supports this product.\nRun 'aliyun plugin install --names "
        "aliyun-cli-dysmsapi' to install it."
    ))  # fmt: skip


@pytest.mark.parametrize("answer,installed", [("n\n", False), ("\n", True), ("yes\n", True)])
def test_plugin_missing_tty_prompt(run, creds_env, fake_home, answer, installed):
    master, slave = os.openpty()
    try:
        os.write(master, answer.encode())
        code, out, err = run(*SEND, env=creds_env, stdin=slave)
    finally:
        os.close(slave)
        os.close(master)
    if installed:
        assert code == 0 and out.startswith(INSTALL_OUT)
        assert "Installing plugin 'aliyun-cli-dysmsapi'...\n" in err
    else:
        assert code == 1 and "Installation cancelled.\n" in err
        assert "is not a valid built-in product" in err


def test_plugin_missing_auto_install_env(run, creds_env, fake_home, call_log):
    code, out, err = run(*SEND, env=creds_env, ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL="true")
    assert code == 0
    assert out.startswith(INSTALL_OUT)
    assert json.loads(out[len(INSTALL_OUT) :])["Code"] == "OK"
    assert err == (
        "Plugin 'aliyun-cli-dysmsapi' is required for command 'dysmsapi send-sms' but not "
        "installed.\nAuto-installing plugin 'aliyun-cli-dysmsapi'...\n"
    )
    assert (fake_home / ".aliyun" / "plugins" / "manifest.json").exists()
    assert call_log()[0]["env"] == {"ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL": "true"}
    code, out, _ = run(*SEND, env=creds_env)  # now installed: plain JSON
    assert code == 0 and out.startswith("{\n")


def test_plugin_missing_auto_install_profile(run, fake_home):
    scenarios.write_config(fake_home, auto_plugin_install=True)
    code, out, _ = run(*SEND)
    assert code == 0 and out.startswith(INSTALL_OUT)


def test_plugin_missing_offline(run, creds_env):
    code, out, err = run(*SEND, env=creds_env, FAKE_ALIYUN_OFFLINE="1",
                         ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL="true")  # fmt: skip
    assert (code, out) == (2, "")
    assert err.startswith("\x1b[1;33mNote: Could not load the remote plugin catalog: failed to")
    assert err.endswith(RED_ERR % "'dysmsapi' is not a valid product. See `aliyun help`.")


@pytest.fixture
def installed(creds_env, fake_home):
    scenarios.preinstall_plugin(fake_home)
    return creds_env


def test_plugin_flag_errors(run, installed):
    code, out, err = run(*SEND, "--bogus", "1", env=installed)
    assert (code, out) == (2, "")
    assert err.startswith("\x1b[1;31mERROR: invalid flag --bogus; available flags: --api-version,")
    assert "--phone-numbers" in err
    code, out, err = run("dysmsapi", "send-sms", "--api-version", "2017-05-25",
                         "--phone-numbers", "13800138000", env=installed)  # fmt: skip
    assert code == 3
    assert (
        err
        == RED_ERR % "required parameters not assigned: \n  --sign-name\n  --template-code"
        + ("\x1b[1;33m\nuse `aliyun dysmsapi send-sms --help` to get more information\n\x1b[0m")
    )
    code, out, err = run("dysmsapi", "send-smss", "--api-version", "2017-05-25", env=installed)
    assert code == 2 and err == RED_ERR % "'send-smss' is not a valid command"
    assert "send-sms" in out
    code, out, err = run(*[a for a in SEND if a not in ("--api-version", "2017-05-25")],
                         env=installed)  # fmt: skip
    assert code == 2 and "2018-05-01" in err and out == ""
    code, out, err = run("dysmsapi", "SendSms", "--PhoneNumbers", "1", env=installed)
    assert code == 2
    assert err == RED_ERR % "'SendSms' is not a valid api. See `aliyun help dysmsapi`."
    assert "send-sms" in out


def test_flag_equals_form_and_globals(run, installed):
    args = ["dysmsapi", "send-sms", "--api-version=2017-05-25", "--phone-numbers=13800138000",
            "--sign-name=AliyunDemo", "--template-code=SMS_123456",
            '--template-param={"code":"1"}', "--user-agent=" + UA, "--read-timeout=3",
            "--connect-timeout", "2", "--region", "cn-hangzhou", "--endpoint",
            "dysmsapi.aliyuncs.com", "--owner-id", "1", "--out-id", "abc"]  # fmt: skip
    code, out, err = run(*args, env=installed)
    assert (code, err) == (0, "")
    assert run(*SEND, "--quiet", env=installed) == (0, "", "")
    assert run(*SEND, "--cli-query", "Code", env=installed) == (0, '"OK"\n', "")


def test_business_validation(run, installed):
    bad = list(SEND)
    bad[bad.index("13800138000")] = "12345"
    code, out, err = run(*bad, env=installed)
    assert (code, err) == (0, "")
    assert json.loads(out)["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"
    bad = list(SEND)
    bad[bad.index("AliyunDemo")] = "NewBrand"  # still under review
    assert json.loads(run(*bad, env=installed)[1])["Code"] == "isv.SMS_SIGNATURE_ILLEGAL"
    bad = list(SEND)
    bad[bad.index('{"code":"123456"}')] = '{"name":"x"}'
    assert json.loads(run(*bad, env=installed)[1])["Code"] == "isv.TEMPLATE_MISSING_PARAMETERS"
    ok = list(SEND)
    ok[ok.index("13800138000")] = "13800138000,+85261234567,8613900139000"
    assert json.loads(run(*ok, env=installed)[1])["Code"] == "OK"


def api(*args):
    return ["dysmsapi", *args, "--api-version", "2017-05-25", "--user-agent", UA]


def test_default_responses(run, installed):
    code, out, _ = run(*api("get-sms-sign", "--sign-name", "AliyunDemo"), env=installed)
    assert code == 0 and '\n  "SignStatus": 1,\n' in out
    sign = json.loads(out)
    carriers = sign["SignIspRegisterDetailList"]
    assert [c["OperatorCode"] for c in carriers] == ["mobile", "unicom", "telecom"]
    assert {c["RegisterStatus"] for c in carriers} == {0, 1}
    tpl = json.loads(run(*api("get-sms-template", "--template-code", "SMS_123456"),
                         env=installed)[1])  # fmt: skip
    assert tpl["TemplateStatus"] == "1" and "${code}" in tpl["TemplateContent"]
    assert json.loads(tpl["VariableAttribute"]) == {"code": "numberCaptcha"}
    signs = json.loads(run(*api("query-sms-sign-list", "--page-index", "1", "--page-size", "2"),
                           env=installed)[1])  # fmt: skip
    assert len(signs["SmsSignList"]) == 2 and signs["TotalCount"] == 4
    statuses = {
        s["AuditStatus"]
        for s in json.loads(
            run(*api("query-sms-sign-list", "--page-size", "50"), env=installed)[1]
        )["SmsSignList"]
    }
    assert {"AUDIT_STATE_PASS", "AUDIT_STATE_INIT", "AUDIT_STATE_NOT_PASS"} <= statuses
    tpls = json.loads(run(*api("query-sms-template-list", "--page-index", "2", "--page-size", "3"),
                          env=installed)[1])  # fmt: skip
    assert len(tpls["SmsTemplateList"]) == 1 and tpls["CurrentPage"] == 2
    details = json.loads(run(*api("query-send-details", "--phone-number", "13800138000",
                                  "--send-date", "20260326", "--page-size", "10",
                                  "--current-page", "1"), env=installed)[1])  # fmt: skip
    dto = details["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]
    assert details["TotalCount"] == "1" and dto["SendStatus"] == 3 and dto["ErrCode"] == "DELIVERED"
    stats = json.loads(run(*api("query-send-statistics", "--is-globe", "1", "--start-date",
                                "20260301", "--end-date", "20260310", "--page-index", "1",
                                "--page-size", "5"), env=installed)[1])  # fmt: skip
    assert stats["Data"]["TotalSize"] == 10 and len(stats["Data"]["TargetList"]) == 5
    recs = json.loads(run(*api("query-sms-qualification-record", "--page-no", "1", "--page-size",
                               "20"), env=installed)[1])  # fmt: skip
    assert recs["Success"] is True and recs["Data"]["Total"] == 2
    single = json.loads(run(*api("query-single-sms-qualification", "--qualification-group-id",
                                 "10000123"), env=installed)[1])  # fmt: skip
    assert single["Data"]["QualificationGroupId"] == 10000123 and single["Data"]["State"]
    batch = json.loads(run(*api("send-batch-sms", "--phone-number-json",
                                '["13800138000","13900139000"]', "--sign-name-json",
                                '["AliyunDemo","AliyunDemo"]', "--template-code", "SMS_123456",
                                "--template-param-json", '[{"code":"1"},{"code":"2"}]'),
                            env=installed)[1])  # fmt: skip
    assert batch["Code"] == "OK" and batch["BizId"].endswith("^0")


def test_help_paths(run, creds_env, fake_home):
    head = "Alibaba Cloud Command Line Interface Version 3.4.11\n"
    code, out, err = run("dysmsapi", "send-sms", "--help", env=creds_env)
    assert (code, out) == (1, head) and "is not a valid built-in command" in err
    code, out, err = run("dysmsapi", "send-sms", "--help", env=creds_env, FAKE_ALIYUN_OFFLINE="1")
    assert code == 2 and err.endswith(
        RED_ERR % "'send-sms' is not a valid api. See `aliyun help dysmsapi`."
    )
    scenarios.preinstall_plugin(fake_home)
    run("configure", "ai-mode", "enable")
    code, out, err = run("dysmsapi", "send-sms", "--help", env=creds_env)
    assert code == 0 and out.startswith(head) and "--phone-numbers" in out
    assert err.startswith("\x1b[1;33mNote: CLI AI mode is enabled in configuration;")
    code, out, _ = run("dysmsapi", env=creds_env)
    assert code == 0 and "send-sms" in out and "provided by the installed plugin" in out


def test_plugin_binary_missing(run, installed, fake_home):
    (fake_home / ".aliyun" / "plugins" / "aliyun-cli-dysmsapi" / "aliyun-cli-dysmsapi").unlink()
    code, _, err = run(*SEND, env=installed)
    assert code == 1 and "plugin binary not found at" in err


# ---- mock mode ------------------------------------------------------------------------------


@pytest.fixture
def mocks(fake_home):
    """mocks(records) writes $HOME/.aliyun/mocks.json; returns its path."""
    path = fake_home / ".aliyun" / "mocks.json"
    return lambda records: scenarios.write_mocks(path, records)


def rec(cmd, stdout, **kw):
    return scenarios.mock_record(cmd, name=stdout.strip() or cmd, stdout=stdout, **kw)


MOCK_ON = {"ALIBABA_CLOUD_CLI_MOCK": "true"}


@pytest.mark.parametrize(
    "rule,args,matches",
    [
        ("version", ["version"], True),
        ("version", ["version", "x"], False),
        ("dysmsapi send-sms", ["dysmsapi", "send-sms"], True),
        ("dysmsapi send-sms", ["dysmsapi", "send-sms", "--x", "1"], False),
        ("dysmsapi *", ["dysmsapi", "send-sms", "--x", "1"], True),
        ("dysmsapi * --x 1", ["dysmsapi", "send-sms", "extra", "--y", "2", "--x", "1"], True),
        ("dysmsapi send-?", ["dysmsapi", "send-sms"], True),
        ("dysmsapi send-?", ["dysmsapi", "send-"], False),
        ("dysmsapi send-sms --phone-numbers 138*", SEND, True),
        ("dysmsapi send-sms --phone-numbers 139*", SEND, False),
        ("dysmsapi send-sms --sign-name AliyunDemo --phone-numbers 13800138000", SEND, True),
        ("dysmsapi send-sms --template-param *", SEND, True),
        ("dysmsapi send-sms --sign-name", ["dysmsapi", "send-sms", "x", "--sign-name", "A"], False),
        ("dysmsapi", ["dysmsapi", "send-sms"], False),
        ("dysmsapi send-sms --api-version 2017-05-25", ["--profile", "p", *SEND], True),
    ],
)
def test_mock_matching(run, mocks, rule, args, matches):
    mocks([rec(rule, "MOCKED\n", times=0)])
    code, out, _ = run(*args, **MOCK_ON)
    assert (out == "MOCKED\n") is matches


def test_mock_first_match_times_and_removal(run, mocks, fake_home):
    path = mocks([
        rec("dysmsapi send-sms *", "first\n", times=2),
        rec("dysmsapi *", "second\n", times=1),
        rec("dysmsapi *", "forever\n", times=0, exit_code=7, stderr="warn\n"),
    ])  # fmt: skip
    assert run(*SEND, **MOCK_ON)[1] == "first\n"
    left = json.loads(path.read_text())
    assert [r["times"] for r in left] == [1, 1, 0]
    assert path.read_text() == json.dumps(left, indent=2) + "\n" and mode_of(path) == 0o600
    assert run(*SEND, **MOCK_ON)[1] == "first\n"
    assert run(*SEND, **MOCK_ON)[1] == "second\n"
    assert run(*SEND, **MOCK_ON) == (7, "forever\n", "warn\n")
    assert run(*SEND, **MOCK_ON) == (7, "forever\n", "warn\n")
    assert [r["name"] for r in json.loads(path.read_text())] == ["forever"]


def test_mock_runs_before_config_and_ignores_other_values(run, mocks, fake_home):
    mocks([rec("dysmsapi *", "mocked\n", times=0)])
    (fake_home / ".aliyun" / "config.json").write_text("{corrupt")
    assert run(*SEND, **MOCK_ON) == (0, "mocked\n", "")  # no plugin, no creds, bad config
    for value in ("1", "TRUE", "True", "yes"):
        code, out, _ = run(*SEND, ALIBABA_CLOUD_CLI_MOCK=value)
        assert out == "" and code == 0  # the corrupt config.json quirk: exit 0, error only


def test_mock_invalid_files(run, fake_home, mocks):
    path = fake_home / ".aliyun" / "mocks.json"
    path.parent.mkdir()
    path.write_text("{not json")
    code, out, err = run("version", **MOCK_ON)
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: load mock data failed invalid character") and "\x1b" not in err
    mocks([dict(rec("version", "x"), colour="red")])
    assert run("version", **MOCK_ON) == (
        1,
        "",
        'ERROR: load mock data failed json: unknown field "colour"\n',
    )
    r = rec("version", "x")
    del r["stderr"]
    mocks([r])
    assert (
        run("version", **MOCK_ON)[2]
        == "ERROR: load mock data failed mock record stderr is required\n"
    )
    mocks([dict(rec("version", "x"), times="1")])
    assert "cannot unmarshal string into Go struct field record.times of type int" in run(
        "version", **MOCK_ON)[2]  # fmt: skip
    path.write_text("")
    assert run("version", **MOCK_ON) == (0, "3.4.11\n", "")  # empty file: no records


def test_mock_delay_and_body_size(run, mocks):
    mocks([rec("version", "abc", delay_ms=300, response_body_size=6)])
    start = time.monotonic()
    assert run("version", **MOCK_ON) == (0, "abcxxx", "")
    assert time.monotonic() - start >= 0.3


def test_mock_path_env_and_management(run, fake_env, tmp_path):
    path = tmp_path / "elsewhere" / "m.json"
    env = dict(fake_env, ALIBABA_CLOUD_CLI_MOCK_PATH=str(path), **MOCK_ON)
    assert run("mock", "path", env=env) == (0, f"{path}\n", "")
    assert run("mock", "add", "--name", "v", "--cmd", "version", "--exit-code", "0",
               "--stdout", "9.9.9\n", "--stderr", "", "--times", "1", env=env)[0] == 1  # fmt: skip
    assert run("mock", "add", "--name", "v", "--cmd", "version", "--exit-code", "0",
               "--stdout", "9.9.9\n", "--stderr", "-", "--times", "1", env=env)[0] == 0  # fmt: skip
    assert json.loads(run("mock", "list", env=env)[1])[0]["cmd"] == "version"
    assert run("version", env=env) == (0, "9.9.9\n", "-")
    assert run("version", env=env) == (0, "3.4.11\n", "")
    scenarios.write_mocks(path, [rec("*", "all\n", times=0)])
    assert run("mock", "list", env=env)[1].startswith("[\n  {\n")  # mock commands not mocked
    assert run("mock", "clear", env=env) == (0, "", "")
    assert path.read_text() == "[]\n"


def test_mock_concurrent_consumption(fake_env, mocks):
    n = 8
    path = mocks([rec("dysmsapi *", "mocked\n", times=n),
                  rec("dysmsapi *", "fallback\n", times=0)])  # fmt: skip
    env = dict(fake_env, **MOCK_ON)
    procs = [
        subprocess.Popen(
            [str(scenarios.FAKE_ALIYUN), *SEND],
            env=env,
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(n + 2)
    ]
    outs = sorted(p.communicate(timeout=30)[0].decode() for p in procs)
    assert outs == ["fallback\n"] * 2 + ["mocked\n"] * n
    assert [r["stdout"] for r in json.loads(path.read_text())] == ["fallback\n"]


def test_mock_hang_is_killable(fake_env, mocks, call_log):
    mocks([scenarios.hang(delay_ms=600_000)])
    env = dict(fake_env, **MOCK_ON)
    proc = subprocess.Popen([str(scenarios.FAKE_ALIYUN), *SEND], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 5
    while not call_log() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == -signal.SIGTERM
    assert proc.stdout.read() == b""
    proc.stdout.close()
    assert [e for e in call_log() if "end" in e] == []  # killed: no end line


def test_scenario_records(run, mocks, installed):
    cmds = {
        "read": scenarios.read_timeout(),
        "conn": scenarios.connect_timeout(),
        "dns": scenarios.dns_failure(),
        "ak": scenarios.invalid_access_key(),
        "sig": scenarios.signature_mismatch(),
        "ram": scenarios.forbidden_ram(),
        "biz": scenarios.business_error(),
        "ok": scenarios.send_ok(),
    }
    for key, record in cmds.items():
        mocks([record])
        code, out, err = run(*SEND, env=installed, **MOCK_ON)
        assert code == record["exit_code"] and out == record["stdout"] and err == record["stderr"]
        if key in ("read", "conn", "dns", "ak", "sig", "ram"):
            assert code == 1 and err.startswith("\x1b[1;31mERROR: ") and err.endswith("\n\x1b[0m")
    assert (
        "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        in (cmds["read"]["stderr"])
    )
    lines = cmds["ak"]["stderr"][len(scenarios.RED) :].split("\n")
    assert lines[0] == "ERROR: SDK.ServerError"
    assert lines[1] == "ErrorCode: InvalidAccessKeyId.NotFound"
    assert [ln.split(":")[0] for ln in lines[2:6]] == ["Recommend", "RequestId", "Message",
                                                       "RespHeaders"]  # fmt: skip
    assert "Recommend: InvalidAccessKeySecret: Please check you AccessKeySecret" in cmds["sig"][
        "stderr"]  # fmt: skip
    assert "\nAccessDeniedDetail: map[AuthAction:dysms:SendSms " in cmds["ram"]["stderr"]
    assert json.loads(cmds["biz"]["stdout"])["Code"] == "isv.BUSINESS_LIMIT_CONTROL"
    plain = scenarios.read_timeout(color=False)["stderr"]
    assert plain.startswith("ERROR: Post ") and "\x1b" not in plain


# ---- colour and log -------------------------------------------------------------------------


def test_no_color(run):
    msg = "ERROR: --user-agent is required for set-user-agent\n"
    for value in ("1", "true"):
        assert run("configure", "ai-mode", "set-user-agent", NO_COLOR=value)[2] == msg
    assert run("configure", "ai-mode", "set-user-agent", NO_COLOR="0")[2] == RED_ERR % msg[7:-1]
    code, out, err = run("configure", "ai-mode", "enabel", NO_COLOR="1")
    assert (
        out == "\nDid you mean:\n  enable\n" and err == "ERROR: 'enabel' is not a valid command\n"
    )


def test_call_log(run, installed, call_log, fake_home):
    run("configure", "ai-mode", "enable")
    run("configure", "ai-mode", "set-user-agent", "--user-agent", UA)
    run(*SEND, env=installed)
    run("configure", "ai-mode", "disable")
    run("version", stdin="")
    entries = call_log()
    calls = scenarios.log_calls(entries)
    assert [c["argv"][:3] for c in calls] == [
        ["configure", "ai-mode", "enable"],
        ["configure", "ai-mode", "set-user-agent"],
        SEND[:3],
        ["configure", "ai-mode", "disable"],
        ["version"],
    ]
    assert calls[2]["argv"] == SEND
    assert [c["ai_mode"] for c in calls] == [False, True, True, True, False]
    assert calls[0]["stdin_is_chr"] is True and calls[4]["stdin_is_chr"] is False
    assert all(isinstance(c["time"], float) and c["env"] == {} for c in calls)
    after = [e["ai_mode_after"] for e in entries if "ai_mode_after" in e]
    assert after == [True, True, False]
    ends = [e for e in entries if "end" in e]
    assert len(ends) == 1 and ends[0]["pid"] == calls[2]["pid"] and ends[0]["exit"] == 0
    assert ends[0]["end"] >= calls[2]["time"]
    index = entries.index(calls[2])
    assert entries[index + 1] is ends[0] or entries[index + 1] == ends[0]


def _details(run, env, phone, **extra):
    import datetime

    day = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
    args = ["dysmsapi", "query-send-details", "--api-version", "2017-05-25", "--phone-number",
            phone, "--send-date", day.strftime("%Y%m%d"), "--page-size", "50",
            "--current-page", "1"]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", value]
    code, out, _ = run(*args, env=env)
    assert code == 0
    return json.loads(out)


def test_the_recording_stand_in_keeps_accepted_sends_and_answers_receipts(run, installed,
                                                                          tmp_path):
    record = tmp_path / "record.jsonl"
    env = {**installed, "FAKE_ALIYUN_SERVICE_RECORD": str(record)}
    code, out, _ = run(*SEND, "--out-id", "order-1", env=env)
    assert code == 0
    biz_id = json.loads(out)["BizId"]
    bad = [*SEND[:5], "12345", *SEND[6:]]  # refused: not recorded
    code, out, _ = run(*bad, env=env)
    assert json.loads(out)["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"
    [entry] = [json.loads(line) for line in record.read_text().splitlines()]
    assert (entry["phones"], entry["out_id"], entry["biz_id"]) == (["13800138000"], "order-1",
                                                                   biz_id)
    found = _details(run, env, "+8613800138000")["SmsSendDetailDTOs"]["SmsSendDetailDTO"]
    assert [(r["OutId"], r["SendStatus"], r["PhoneNum"]) for r in found] == [
        ("order-1", 3, "13800138000")]
    assert "123456" in found[0]["Content"]
    assert _details(run, env, "13800138000", biz_id="1^0")["TotalCount"] == "0"
    assert _details(run, env, "13900139000")["SmsSendDetailDTOs"]["SmsSendDetailDTO"] == []
