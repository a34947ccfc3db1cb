"""What the user sees when aliyun or the API fails: exit code, message, AI mode off."""

from __future__ import annotations

import subprocess

import pytest

from tests.unit.helpers import DISABLE, ENABLE, SEND_OK, SET_UA, answer, product

SEND_ARGS = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456"]
SEND_ARGV = product("send-sms", "--phone-numbers", "13800138000", "--sign-name", "AliyunDemo",
                    "--template-code", "SMS_123456")
RED = "\x1b[1;31m"
RESET = "\x1b[0m"


def red_error(text: str) -> str:
    return f"{RED}ERROR: {text}\n{RESET}"


def test_business_error_with_exit_0_is_a_failure_with_meaning_and_next_step(session, invoke):
    body = {"Code": "isv.SMS_SIGN_NAME_ILLEGAL", "Message": "签名不合法",
            "RequestId": "REQ-1"}
    session.register(SEND_ARGV, stdout=answer(body), returncode=0)
    result = invoke(*SEND_ARGS)
    assert result.code == 1
    assert result.stdout == ""
    assert "isv.SMS_SIGN_NAME_ILLEGAL" in result.stderr and "REQ-1" in result.stderr
    assert "list-signs" in result.stderr  # the next step, from references/
    assert list(session.calls[-1]) == DISABLE


def test_unknown_business_code_on_a_query_points_at_the_triage(session, invoke):
    session.register(product("get-sms-sign", "--sign-name", "AliyunDemo"),
                     stdout=answer({"Code": "isv.NEW_THING", "Message": "m"}))
    result = invoke("query-sign", "-s", "AliyunDemo")
    assert result.code == 1
    assert "isv.NEW_THING" in result.stderr and "Triage" in result.stderr


def test_sdk_server_error_in_red_is_parsed(session, invoke):
    stderr = red_error(
        "SDK.ServerError\nErrorCode: InvalidAccessKeyId.NotFound\n"
        "Recommend: https://api.aliyun.com/troubleshoot?q=InvalidAccessKeyId.NotFound\n"
        "RequestId: 7A1F\nMessage: Specified access key is not found.\n"
        "RespHeaders: map[Content-Type:[application/json]]")
    session.register(SEND_ARGV, stderr=stderr, returncode=1)
    result = invoke(*SEND_ARGS)
    assert result.code == 1
    assert "InvalidAccessKeyId.NotFound" in result.stderr
    assert "Specified access key is not found." in result.stderr
    assert "\x1b[" not in result.stderr
    assert list(session.calls[-1]) == DISABLE


def test_read_timeout_on_a_send_is_outcome_unknown(session, invoke):
    session.register(SEND_ARGV, returncode=1, stderr=red_error(
        'Post "https://dysmsapi.aliyuncs.com/?Action=SendSms": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)"))
    result = invoke(*SEND_ARGS)
    assert result.code == 5
    assert "unknown" in result.stderr and "query-status -p 13800138000" in result.stderr
    assert "Do not resend" in result.stderr


@pytest.mark.parametrize("error", [
    'Post "https://dysmsapi.aliyuncs.com/": dial tcp 47.1.2.3:443: i/o timeout',
    'Post "https://dysmsapi.aliyuncs.com/": dial tcp: lookup dysmsapi.aliyuncs.com: '
    "no such host",
])
def test_connect_failure_on_a_send_says_nothing_was_sent(session, invoke, error):
    session.register(SEND_ARGV, returncode=1, stderr=red_error(error))
    result = invoke(*SEND_ARGS)
    assert result.code == 1
    assert "nothing was sent" in result.stderr


def test_read_timeout_on_a_query_is_a_plain_failure(session, invoke):
    argv = product("get-sms-sign", "--sign-name", "S")
    session.register(argv, returncode=1, stderr=red_error("context deadline exceeded"))
    result = invoke("query-sign", "-s", "S")
    assert result.code == 1 and "timed out" in result.stderr


def test_configuration_error_is_exit_3_with_the_credential_chain(session, invoke):
    session.register(SEND_ARGV, returncode=3, stderr=red_error("region can't be empty"))
    result = invoke(*SEND_ARGS)
    assert result.code == 3
    assert "region can't be empty" in result.stderr
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in result.stderr


def test_plugin_missing_is_exit_3_with_the_install_command(session, invoke):
    session.register(SEND_ARGV, returncode=1, stderr=red_error(
        "'dysmsapi' is not a valid built-in product.\nA plugin 'aliyun-cli-dysmsapi' is "
        "available which supports this product."))
    result = invoke(*SEND_ARGS)
    assert result.code == 3 and "aliyun plugin install --names dysmsapi" in result.stderr


def hang(process):
    """pytest-subprocess does not time communicate() out; a hung process does."""
    raise subprocess.TimeoutExpired(process.args, 0.2)


def test_hung_aliyun_is_stopped_and_a_send_is_outcome_unknown(session, invoke, monkeypatch):
    monkeypatch.setenv("SMS_SKILL_CALL_TIMEOUT", "0.2")
    session.register(SEND_ARGV, callback=hang)
    result = invoke(*SEND_ARGS)
    assert result.code == 5
    assert "did not answer within 0.2 s" in result.stderr
    assert list(session.calls[-1]) == DISABLE


def test_hung_query_is_exit_1(session, invoke, monkeypatch):
    monkeypatch.setenv("SMS_SKILL_CALL_TIMEOUT", "0.2")
    session.register(product("get-sms-sign", "--sign-name", "S"), callback=hang)
    result = invoke("query-sign", "-s", "S")
    assert result.code == 1 and "did not answer" in result.stderr


def test_missing_aliyun_is_exit_3_with_install_hint_and_no_process(fp, invoke, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")
    result = invoke(*SEND_ARGS)
    assert result.code == 3
    assert "aliyun CLI is not installed" in result.stderr and "setup.sh" in result.stderr
    assert list(fp.calls) == []


def test_plugin_install_lines_before_the_json_are_skipped(session, invoke):
    stdout = ("Downloading aliyun-cli-dysmsapi 0.1.0...\n"
              "Plugin aliyun-cli-dysmsapi 0.1.0 installed successfully!\n" + answer(SEND_OK))
    session.register(SEND_ARGV, stdout=stdout)
    result = invoke(*SEND_ARGS)
    assert result.code == 0 and result.json() == SEND_OK


def test_no_json_after_a_send_is_an_unknown_outcome(session, invoke):
    session.register(SEND_ARGV, stdout="something odd\n")
    result = invoke(*SEND_ARGS)
    assert result.code == 5 and "no readable response" in result.stderr


def test_no_json_after_a_query_is_a_failure(session, invoke):
    argv = product("get-sms-sign", "--sign-name", "S")
    session.register(argv, stdout="something odd\n")
    result = invoke("query-sign", "-s", "S")
    assert result.code == 1 and "no JSON" in result.stderr


def test_calls_before_the_first_product_call_enable_ai_mode(session, invoke):
    session.register(SEND_ARGV, stdout=answer(SEND_OK))
    invoke(*SEND_ARGS)
    assert [list(c) for c in session.calls] == [ENABLE, SET_UA, SEND_ARGV, DISABLE]


def test_request_urls_and_key_ids_in_cli_errors_are_not_repeated(session, invoke):
    url = ("https://dysmsapi.aliyuncs.com/?AccessKeyId=LTAI5tLeakyKeyId&Action=SendSms"
           "&PhoneNumbers=13800138000&Signature=c2lnbmF0dXJl")
    session.register(SEND_ARGV, returncode=1, stderr=red_error(
        f'Post "{url}": dial tcp 47.1.2.3:443: i/o timeout'))
    result = invoke(*SEND_ARGS)
    assert result.code == 1 and "nothing was sent" in result.stderr
    assert "LTAI5tLeakyKeyId" not in result.stderr and "c2lnbmF0dXJl" not in result.stderr
    assert "https://dysmsapi.aliyuncs.com/?..." in result.stderr


def test_the_string_to_sign_of_a_signature_error_is_withheld(session, invoke):
    stderr = red_error(
        "SDK.ServerError\nErrorCode: SignatureDoesNotMatch\nRecommend: x\nRequestId: R\n"
        "Message: Specified signature is not matched with our calculation. server string "
        "to sign is:GET&%2F&AccessKeyId%3DLTAI5tLeakyKeyId%26PhoneNumbers%3D13800138000")
    session.register(SEND_ARGV, returncode=1, stderr=stderr)
    result = invoke(*SEND_ARGS)
    assert result.code == 1 and "SignatureDoesNotMatch" in result.stderr
    assert "LTAI5tLeakyKeyId" not in result.stderr and "(withheld)" in result.stderr
