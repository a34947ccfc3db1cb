"""The aliyun CLI's safety policy through the shim: a confirm rule is exit 7 with one line
telling the agent what to ask; --yes passes the user's approval through only when given; a
deny rule is an environment refusal (exit 3) naming the rule."""

from __future__ import annotations

from tests.e2e.conftest import needs_fake_log

pytestmark = needs_fake_log

SEND = ("send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
        "-tp", '{"code":"123456"}')
CONFIRM = {"ALIBABA_CLOUD_SAFETY_POLICY_ENABLED": "true",
           "ALIBABA_CLOUD_SAFETY_POLICY_RULES": "dysmsapi:send-*=confirm"}


def sends(world):
    return [e for e in world.product_calls() if e["argv"][1].startswith("send-")]


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_confirm_rule_exit_7_then_yes_sends(world):
    result = world.run(*SEND, **CONFIRM)
    assert result.code == 7, result.stderr
    line = last_line(result.stderr)
    assert "safety policy requires the user's confirmation for `dysmsapi send-sms`" in line
    assert "nothing was sent" in line and "Ask the user" in line
    assert "re-run the same command with --yes" in line
    assert all("--yes" not in e["argv"] for e in sends(world))
    assert "ALIBABA_CLOUD_SAFETY_SKIP_CONFIRM" not in str(world.entries())
    assert world.ai_mode().get("enabled") is False
    # Refused before the plugin ran: the same send is not a duplicate (nothing was sent).
    again = world.run(*SEND, "--yes", **CONFIRM)
    assert again.code == 0, again.stderr
    assert again.json()["Code"] == "OK"
    assert sends(world)[-1]["argv"][-1] == "--yes"


def test_yes_is_never_added_by_the_tool(world):
    assert world.run(*SEND).code == 0
    assert world.run("query-status", "-p", "13800138000").code == 0
    assert all("--yes" not in e["argv"] for e in world.product_calls())


def test_yes_is_shown_in_a_dry_run(world):
    result = world.run("--dry-run", *SEND, "--yes")
    assert result.code == 0
    assert result.json()["argv"][0][-1] == "--yes"


def test_deny_rule_is_an_environment_refusal_naming_the_rule(world):
    result = world.run(*SEND, ALIBABA_CLOUD_SAFETY_POLICY_ENABLED="true",
                       ALIBABA_CLOUD_SAFETY_POLICY_RULES="dysmsapi:send-sms=deny")
    assert result.code == 3, result.stderr
    line = last_line(result.stderr)
    assert "safety policy blocks `dysmsapi send-sms` (rule: dysmsapi:send-sms)" in line
    assert "nothing was sent" in line
    # --yes does not get past a deny rule.
    assert world.run(*SEND, "--yes", ALIBABA_CLOUD_SAFETY_POLICY_ENABLED="true",
                     ALIBABA_CLOUD_SAFETY_POLICY_RULES="dysmsapi:send-sms=deny").code == 3


def test_campaign_under_a_confirm_rule_stops_then_resumes_with_yes(world, tmp_path):
    phones = tmp_path / "phones.txt"
    phones.write_text("".join(f"1380000{i:04d}\n" for i in range(1500)))
    result = world.run("send", "--phone-file", str(phones), "-s", "AliyunDemo",
                       "-t", "SMS_234567", "-tp", '{"name":"A","order":"1"}', **CONFIRM)
    assert result.code == 7, result.stderr
    summary = result.json()
    assert summary["chunks"]["sent"] == 0 and summary["chunks"]["planned"] == 2
    assert "confirmation_required" in summary
    line = last_line(result.stderr)
    assert f"--resume {summary['campaign']} --yes" in line
    resumed = world.run("send", "--resume", summary["campaign"], "--yes", **CONFIRM)
    assert resumed.code == 0, resumed.stderr
    assert resumed.json()["chunks"]["sent"] == 2
