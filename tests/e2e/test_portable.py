"""Scenarios that need no call log: they run against the fake and, with E2E_ALIYUN, against
a real aliyun CLI (>= 3.4.7) in its mock mode. The pre-check's network step is mocked too."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import UA, scenarios

SEND = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
        "-tp", '{"code":"123456"}']


def offline_precheck() -> list[dict]:
    return [scenarios.mock_record("version", stdout="3.4.11\n", times=0),
            scenarios.mock_record("plugin update", stdout="All plugins are up to date.\n",
                                  times=0)]


@pytest.fixture
def mocked(world):
    def use(*records: dict):
        world.mock(*offline_precheck(), *records)
        return world

    return use


def assert_ai_mode_off(world) -> None:
    state = world.ai_mode()
    assert state.get("enabled") is False and state.get("user_agent") == UA


def test_accepted_send(mocked):
    world = mocked(scenarios.send_ok())
    result = world.run(*SEND)
    assert result.code == 0, result.stderr
    assert result.json()["BizId"] == "900619746936498440^0"
    assert_ai_mode_off(world)


def test_business_error_with_exit_0_from_aliyun(mocked):
    world = mocked(scenarios.business_error("isv.SMS_SIGN_NAME_ILLEGAL", "签名不合法"))
    result = world.run(*SEND)
    assert result.code == 1 and result.stdout == ""
    assert "isv.SMS_SIGN_NAME_ILLEGAL" in result.stderr and "list-signs" in result.stderr
    assert_ai_mode_off(world)


@pytest.mark.parametrize(("record", "code", "words"), [
    (scenarios.read_timeout(), 5, "query-status"),
    (scenarios.connect_timeout(), 1, "nothing was sent"),
    (scenarios.dns_failure(), 1, "nothing was sent"),
    (scenarios.forbidden_ram(), 1, "Forbidden.RAM"),
], ids=["read-timeout", "connect-timeout", "dns", "forbidden-ram"])
def test_cli_errors(mocked, record, code, words):
    world = mocked(record)
    result = world.run(*SEND)
    assert result.code == code and words in result.stderr
    assert "\x1b[" not in result.stderr
    assert_ai_mode_off(world)


def test_verify_refuses_a_signature_under_review(mocked):
    sign = {"Code": "OK", "SignName": "AliyunDemo", "SignStatus": 0, "RequestId": "R"}
    world = mocked(scenarios.mock_record("dysmsapi get-sms-sign *",
                                         stdout=scenarios.json_response(sign)),
                   scenarios.send_ok())
    result = world.run(*SEND, "--verify")
    assert result.code == 4 and "under review" in result.stderr
    assert_ai_mode_off(world)
