"""The fake's safety policy (facts section 11): the file, its environment overrides, and the
deny and confirm refusals of plugin commands, before the plugin runs."""

from __future__ import annotations

import json

import pytest
import scenarios

UA = scenarios.USER_AGENT
SEND = scenarios.SEND_ARGV
CONFIRM = ("ERROR: Safety policy requires confirmation for: dysmsapi send-sms\n"
           "This operation cannot run in non-interactive mode without explicit approval. If "
           "you are an agent, ask the user whether this operation is allowed; after they "
           "confirm (e.g. reply yes or 确认), re-run the same command with --yes.\n")


@pytest.fixture
def installed(creds_env, fake_home):
    scenarios.preinstall_plugin(fake_home)
    return {**creds_env, "NO_COLOR": "1"}


def write_policy(home, enabled, *rules):
    folder = home / ".aliyun"
    folder.mkdir(exist_ok=True)
    (folder / "safety-policy.json").write_text(json.dumps({
        "enabled": enabled, "rules": [{"pattern": p, "action": a} for p, a in rules]}))


def sent(call_log):
    return [e for e in call_log() if "argv" in e]


def test_no_policy_sends(run, installed):
    code, out, _ = run(*SEND, env=installed)
    assert code == 0 and json.loads(out)["Code"] == "OK"


def test_deny_rule_from_the_file_blocks_before_the_plugin(run, installed, fake_home):
    write_policy(fake_home, True, ("dysmsapi:send-*", "deny"))
    code, out, err = run(*SEND, env=installed)
    assert (code, out) == (1, "")
    assert err == "ERROR: operation blocked by safety policy: dysmsapi send-sms " \
                  "(rule: dysmsapi:send-*)\n"
    # Queries do not match the rule.
    code, out, _ = run("dysmsapi", "query-sms-sign-list", "--api-version", "2017-05-25",
                       env=installed)
    assert code == 0


def test_confirm_rule_refuses_without_yes_and_passes_with_it(run, installed, fake_home):
    write_policy(fake_home, True, ("DYSMSAPI:SEND-SMS", "confirm"))
    code, out, err = run(*SEND, env=installed)
    assert (code, out, err) == (1, "", CONFIRM)
    code, out, _ = run(*SEND, "--yes", env=installed)
    assert code == 0 and json.loads(out)["Code"] == "OK"
    code, out, _ = run(*SEND, env=installed, ALIBABA_CLOUD_SAFETY_SKIP_CONFIRM="true")
    assert code == 0
    code, out, _ = run(*SEND, env=installed, ALIBABA_CLOUD_SAFETY_SKIP_CONFIRM="1")
    assert code == 0


def test_forbid_is_confirm_and_first_matching_rule_wins(run, installed, fake_home):
    write_policy(fake_home, True, ("dysmsapi:send-sms", "allow"), ("dysmsapi:*", "forbid"))
    assert run(*SEND, env=installed)[0] == 0
    code, _, err = run("dysmsapi", "send-batch-sms", "--api-version", "2017-05-25",
                       env=installed)
    assert code == 1 and "requires confirmation for: dysmsapi send-batch-sms" in err


def test_disabled_policy_and_the_environment_overrides(run, installed, fake_home):
    write_policy(fake_home, False, ("dysmsapi:send-*", "deny"))
    assert run(*SEND, env=installed)[0] == 0
    code, _, err = run(*SEND, env=installed, ALIBABA_CLOUD_SAFETY_POLICY_ENABLED="true")
    assert code == 1 and "(rule: dysmsapi:send-*)" in err
    # The environment's rules replace the file's.
    code, _, err = run(*SEND, env=installed, ALIBABA_CLOUD_SAFETY_POLICY_ENABLED="true",
                       ALIBABA_CLOUD_SAFETY_POLICY_RULES="dysmsapi:send-sms=confirm")
    assert code == 1 and err == CONFIRM
    write_policy(fake_home, True, ("dysmsapi:send-*", "deny"))
    assert run(*SEND, env=installed, ALIBABA_CLOUD_SAFETY_POLICY_ENABLED="false")[0] == 0
