"""AI mode is on for every product call and off at every exit, for overlapping runs too."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.e2e.conftest import (
    HANG_TIMEOUT,
    SHIM,
    ai_mode_calls,
    assert_ai_mode_wrapped,
    needs_fake_log,
)
from tests.fake_aliyun import scenarios

pytestmark = needs_fake_log

SEND = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
        "-tp", '{"code":"123456"}']


def test_success(world):
    result = world.run(*SEND)
    assert result.code == 0
    assert_ai_mode_wrapped(world)


def test_business_error(world):
    world.mock(scenarios.business_error("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法"))
    result = world.run(*SEND)
    assert result.code == 1 and "isv.SMS_TEMPLATE_ILLEGAL" in result.stderr
    assert_ai_mode_wrapped(world)


def test_cli_error(world):
    world.mock(scenarios.signature_mismatch())
    result = world.run(*SEND)
    assert result.code == 1 and "SignatureDoesNotMatch" in result.stderr
    assert_ai_mode_wrapped(world)


def test_exception_inside_the_package(world):
    body = {"Code": "OK", "RequestId": "R", "TotalCount": 1, "SmsSignList": "not a list"}
    world.mock(scenarios.mock_record("dysmsapi query-sms-sign-list *",
                                     stdout=scenarios.json_response(body)))
    result = world.run("list-signs", "--approved")
    assert result.code == 1 and "internal error" in result.stderr
    assert_ai_mode_wrapped(world)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                              (signal.SIGHUP, 129)])
def test_signal_while_aliyun_hangs(world, signum, code):
    world.mock(scenarios.hang())
    proc = world.start(*SEND)
    world.wait_for_call("send-sms")
    result = world.interrupt(proc, signum)
    assert result.code == code, result.stderr
    assert "AI mode was switched off" in result.stderr
    assert_ai_mode_wrapped(world)


def test_stdout_closed_early(world):
    items = [{"TemplateCode": f"SMS_{i}", "TemplateName": "n" * 40, "AuditStatus":
              "AUDIT_STATE_PASS", "TemplateContent": "c" * 80} for i in range(2000)]
    body = {"Code": "OK", "RequestId": "R", "TotalCount": 2000, "SmsTemplateList": items}
    world.mock(scenarios.mock_record("dysmsapi query-sms-template-list *",
                                     stdout=scenarios.json_response(body)))
    pipeline = f"'{SHIM}' list-templates | head -c1; exit ${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", pipeline], env=world.env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.stdout == "{"
    assert proc.returncode == 141, proc.stderr
    assert_ai_mode_wrapped(world)


def test_aliyun_process_timing_out(world):
    world.mock(scenarios.hang())
    result = world.run(*SEND, SMS_SKILL_CALL_TIMEOUT=HANG_TIMEOUT, timeout=30)
    assert result.code == 5 and "did not answer within 3 s" in result.stderr
    assert "query-status" in result.stderr
    assert_ai_mode_wrapped(world)


def test_sigkill_mid_call_then_another_command_leaves_ai_mode_off(world):
    world.mock(scenarios.hang(), scenarios.send_ok(scenarios.SEND_SMS, times=0))
    proc = world.start(*SEND)
    world.wait_for_call("send-sms")
    proc.kill()
    proc.communicate(timeout=10)
    assert world.ai_mode()["enabled"] is True  # nobody could clean up
    result = world.run("query-sign", "-s", "AliyunDemo")
    assert result.code == 0, result.stderr
    assert world.ai_mode()["enabled"] is False
    assert world.calls()[-1] == ["configure", "ai-mode", "disable"]


def test_overlapping_runs_keep_ai_mode_on_until_the_last_one_ends(world):
    sign = scenarios.mock_record(
        "dysmsapi get-sms-sign --sign-name Slow", delay_ms=1500, times=0,
        stdout=scenarios.json_response({"Code": "OK", "SignName": "Slow", "SignStatus": 1,
                                        "SignIspRegisterDetailList": []}))
    template = scenarios.mock_record(
        "dysmsapi get-sms-template *", delay_ms=1500, times=0,
        stdout=scenarios.json_response({"Code": "OK", "TemplateCode": "SMS_1",
                                        "TemplateStatus": "1",
                                        "TemplateContent": "code ${code}"}))
    world.mock(sign, template, scenarios.send_ok())
    assert world.run("precheck").code == 0  # both runs find a fresh pre-check
    slow = world.start("send", "-p", "13800138000", "-s", "Slow", "-t", "SMS_1",
                       "-tp", '{"code":"1"}', "--verify")
    world.wait_for_call("get-sms-sign")
    fast = world.run("query-sign", "-s", "AliyunDemo")
    assert fast.code == 0, fast.stderr
    assert world.ai_mode()["enabled"] is True  # the slow run is still going
    out, err = slow.communicate(timeout=60)
    assert slow.returncode == 0, err
    products = world.product_calls()
    assert {e["pid"] for e in products} and all(e["ai_mode"] for e in products)
    assert [e["argv"][1] for e in products].count("send-sms") == 1
    assert world.ai_mode()["enabled"] is False
    assert world.calls()[-1] == ["configure", "ai-mode", "disable"]
    # the fast run ended first and did not switch AI mode off under the slow one
    disables = [i for i, argv in enumerate(world.calls()) if argv[-1:] == ["disable"]]
    last_product = max(i for i, argv in enumerate(world.calls()) if argv[0] == "dysmsapi")
    assert all(i < last_product or i == len(world.calls()) - 1 for i in disables[1:])


def _precheck_runs(world) -> int:
    return sum(1 for argv in world.calls() if argv == ["version"])


def test_precheck_runs_once_not_on_every_call(world):
    for _ in range(3):
        assert world.run("query-sign", "-s", "AliyunDemo").code == 0
    assert _precheck_runs(world) == 1
    assert sum(1 for argv in world.calls() if argv == ["plugin", "update"]) == 1


def test_precheck_runs_again_after_the_ttl(world):
    assert world.run("query-sign", "-s", "AliyunDemo").code == 0
    assert world.run("query-sign", "-s", "AliyunDemo", SMS_SKILL_PRECHECK_TTL="0").code == 0
    assert _precheck_runs(world) == 2


def test_precheck_runs_again_for_a_new_aliyun_binary(world):
    assert world.run("query-sign", "-s", "AliyunDemo").code == 0
    later = time.time() + 5
    os.utime(world.aliyun, (later, later))
    assert world.run("query-sign", "-s", "AliyunDemo").code == 0
    assert _precheck_runs(world) == 2


@pytest.mark.parametrize("args", [
    ["--help"], ["send", "--help"],
    ["--dry-run", *SEND],
    ["send", "-p", "12", "-s", "S", "-t", "T"],
    ["send", "-p", "13800138000", "-s", "S", "-t", "T", "--templat-code", "x"],
    ["explain", "isv.BUSINESS_LIMIT_CONTROL"],
])
def test_runs_without_aliyun_calls_touch_nothing(world, args):
    world.run(*args)
    assert world.calls() == []
    assert world.ai_mode() == {}


def test_old_aliyun_is_exit_3_and_ai_mode_untouched(world):
    result = world.run(*SEND, FAKE_ALIYUN_VERSION="3.2.9")
    assert result.code == 3 and "3.3.3" in result.stderr
    assert ai_mode_calls(world.calls()) == []


def test_missing_aliyun_is_exit_3(world):
    world.aliyun.unlink()
    result = world.run(*SEND)
    assert result.code == 3 and "not installed" in result.stderr
