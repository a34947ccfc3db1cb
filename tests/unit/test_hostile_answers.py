"""Answers that prove nothing: the send is "unknown" (exit 5), journaled so, and the
identical send is refused afterwards (exit 6) without reaching aliyun again."""

from __future__ import annotations

import json

import pytest

from tests.unit.helpers import OUT_ID, SEND_OK, answer, product

SEND_ARGS = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456"]
SEND_ARGV = product("send-sms", "--phone-numbers", "13800138000", "--sign-name", "AliyunDemo",
                    "--template-code", "SMS_123456")
SYSTEM_ERROR = {"Code": "isp.SYSTEM_ERROR", "Message": "系统错误", "RequestId": "R1"}

HOSTILE = {
    "garbage": {"stdout": "\x00\x01 not json at all\n"},
    "truncated JSON": {"stdout": answer(SEND_OK)[:30]},
    "empty output": {"stdout": ""},
    "null": {"stdout": "null\n"},
    "stderr only": {"stderr": "something went wrong\n"},
    "ERROR on stderr, exit 0": {"stderr": "\x1b[1;31mERROR: odd\n\x1b[0m"},
    "OK body with exit 1": {"stdout": answer(SEND_OK), "returncode": 1},
    "empty object": {"stdout": "{}\n"},
    "body without Code": {"stdout": answer({"BizId": "1^0", "RequestId": "R"})},
    "Code null": {"stdout": answer({"Code": None, "BizId": "1^0"})},
    "Code not a string": {"stdout": answer({"Code": 0, "BizId": "1^0"})},
    "isp.SYSTEM_ERROR": {"stdout": answer(SYSTEM_ERROR)},
    "isv.SYSTEM_ERROR": {"stdout": answer({**SYSTEM_ERROR, "Code": "isv.SYSTEM_ERROR"})},
    "isp.GATEWAY_ERROR": {"stdout": answer({**SYSTEM_ERROR, "Code": "isp.GATEWAY_ERROR"})},
    "HTTP 503 ServiceUnavailable": {"returncode": 1, "stderr": (
        "ERROR: SDK.ServerError\nErrorCode: ServiceUnavailable\nRequestId: R\n"
        "Message: The request has failed due to a temporary failure of the server.\n")},
    "deeply nested JSON": {"stdout": "[" * 100_000 + "]" * 100_000 + "\n"},
    "deeply nested JSON object": {"stdout": '{"Code":' + "[" * 50_000 + "\n"},
    "a code the table does not know": {"stdout": answer(
        {"Code": "isv.SOMETHING_NEW_2027", "Message": "m", "RequestId": "R"})},
    "OK in lower case": {"stdout": answer({**SEND_OK, "Code": "ok"})},
    "a refusal code in another case": {"stdout": answer(
        {"Code": "isv.business_limit_control", "Message": "m", "RequestId": "R"})},
    "a receipt code as Code": {"stdout": answer({"Code": "UNDELIV", "Message": "m"})},
    "unknown ErrorCode on stderr": {"returncode": 1, "stderr": (
        "ERROR: SDK.ServerError\nErrorCode: Brand.NewGatewayError\nRequestId: R\n"
        "Message: something new\n")},
    "SignatureNonceUsed": {"returncode": 1, "stderr": (
        "ERROR: SDK.ServerError\nErrorCode: SignatureNonceUsed\nRequestId: R\n"
        "Message: Specified signature nonce was used already.\n")},
    "OK body, error on stderr, exit 1": {"stdout": answer(SEND_OK), "returncode": 1,
                                          "stderr": "ERROR: dial tcp: connection refused\n"},
    "OK body, ErrorCode of a refusal, exit 1": {"stdout": answer(SEND_OK), "returncode": 1,
                                                "stderr": "ERROR: SDK.ServerError\n"
                                                "ErrorCode: Forbidden.RAM\nMessage: no\n"},
    "two JSON documents": {"stdout": answer({"Code": "isv.BUSINESS_LIMIT_CONTROL",
                                             "Message": "m"}) + answer(SEND_OK)},
    "a JSON document, then text": {"stdout": answer(
        {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "m"}) + "BizId: 1^0\n"},
    "Code given twice": {"stdout": '{"Code": "OK", "BizId": "1^0", '
                                   '"Code": "isv.BUSINESS_LIMIT_CONTROL"}\n'},
    "Code given twice, refusal last": {"stdout": '{"Code": "isv.BUSINESS_LIMIT_CONTROL",'
                                                 ' "Message": "m", "Code": "OK"}\n'},
    "killed by SIGKILL": {"returncode": -9},
    "unknown exit status": {"returncode": 255, "stderr": "panic: runtime error\n"},
}


def product_calls(session) -> int:
    return sum(1 for call in session.calls if list(call)[:2] == ["aliyun", "dysmsapi"])


@pytest.mark.parametrize("answer_", HOSTILE.values(), ids=HOSTILE.keys())
def test_an_unreadable_answer_is_unknown_and_blocks_the_resend(session, invoke, answer_):
    session.register(SEND_ARGV, **answer_)
    first = invoke(*SEND_ARGS)
    assert first.code == 5, first.stderr
    assert "unknown" in first.stderr and "query-status -p 13800138000" in first.stderr
    assert "internal error" not in first.stderr
    history = invoke("history")
    assert json.loads(history.stdout)[0]["Outcome"] == "unknown"
    again = invoke(*SEND_ARGS)
    assert again.code == 6, again.stderr
    assert product_calls(session) == 1  # the resend never reached aliyun


@pytest.mark.parametrize("body", [
    {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"},
    {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法"},
], ids=["throttled", "bad signature"])
def test_a_refusing_code_is_failed_and_the_send_may_be_made_again(session, invoke, body):
    session.register(SEND_ARGV, stdout=answer({**body, "RequestId": "R"}))
    session.register(SEND_ARGV, stdout=answer(SEND_OK))
    first = invoke(*SEND_ARGS)
    assert first.code == 1, first.stderr
    assert json.loads(invoke("history").stdout)[0]["Outcome"] == "failed"
    assert invoke(*SEND_ARGS).code == 0
    assert product_calls(session) == 2


def test_a_connection_that_never_opened_is_failed(session, invoke):
    session.register(SEND_ARGV, returncode=1, stderr=(
        'ERROR: Post "https://dysmsapi.aliyuncs.com/": dial tcp: lookup '
        "dysmsapi.aliyuncs.com: no such host\n"))
    assert invoke(*SEND_ARGS).code == 1
    assert json.loads(invoke("history").stdout)[0]["Outcome"] == "failed"


def _send_argv(numbers: str) -> list[str]:
    return product("send-sms", "--phone-numbers", numbers, "--sign-name", "AliyunDemo",
                   "--template-code", "SMS_123456")


def test_skip_sent_sends_only_to_numbers_that_did_not_get_the_message(session, invoke):
    session.register(_send_argv("13800138000"), stdout=answer(SEND_OK))
    session.register(_send_argv("+85261234567"), stdout=answer(SEND_OK))
    assert invoke(*SEND_ARGS).code == 0
    both = ["send", "-p", "+8613800138000,+85261234567", "-s", "AliyunDemo", "-t", "SMS_123456"]
    refused = invoke(*both)
    assert refused.code == 6
    assert "1 of 2 recipient(s): 1 already got this message (BizId 900619746936498440^0)" \
        in refused.stderr
    assert "138****8000" in refused.stderr and "--skip-sent" in refused.stderr
    rest = invoke(*both, "--skip-sent")
    assert rest.code == 0, rest.stderr
    assert "skipped 1 recipient(s)" in rest.stderr
    assert product_calls(session) == 2  # the second call went to +85261234567 only


def test_skip_sent_keeps_the_batch_arrays_in_step(session, invoke):
    batch = product("send-batch-sms", "--phone-number-json", '["13900139000"]',
                    "--sign-name-json", '["B"]', "--template-code", "SMS_123456",
                    "--template-param-json", '[{"code":"2"}]')
    session.register(_send_argv("13800138000"), stdout=answer(SEND_OK))
    session.register(batch, stdout=answer(SEND_OK))
    single = ["send", "-p", "13800138000", "-s", "A", "-t", "SMS_123456", "-tp",
              '{"code":"1"}']
    session.register(product("send-sms", "--phone-numbers", "13800138000", "--sign-name", "A",
                             "--template-code", "SMS_123456", "--template-param",
                             '{"code":"1"}'), stdout=answer(SEND_OK))
    assert invoke(*single).code == 0
    result = invoke("batch-send", "--phone-number-json", '["8613800138000","13900139000"]',
                    "--sign-name-json", '["A","B"]', "-t", "SMS_123456",
                    "--template-param-json", '[{"code":"1"},{"code":"2"}]', "--skip-sent")
    assert result.code == 0, result.stderr
    assert list(session.calls[-2]) == batch  # the last call before AI mode off


QUERY_ANY = ["aliyun", "dysmsapi", "query-send-details"]
NO_RECEIPTS = {"Code": "OK", "Message": "OK", "RequestId": "R", "TotalCount": "0",
               "SmsSendDetailDTOs": {"SmsSendDetailDTO": []}}
PROVES_NOTHING = {
    "empty object": answer({}),
    "OK without SmsSendDetailDTOs": answer({"Code": "OK", "Message": "OK", "RequestId": "R"}),
    "TotalCount 5, SmsSendDetailDTOs null": answer(
        {"Code": "OK", "TotalCount": "5", "SmsSendDetailDTOs": None}),
    "TotalCount 5, no receipt listed": answer({**NO_RECEIPTS, "TotalCount": "5"}),
    "no TotalCount": answer({k: v for k, v in NO_RECEIPTS.items() if k != "TotalCount"}),
    "SmsSendDetailDTO not a list": answer(
        {**NO_RECEIPTS, "SmsSendDetailDTOs": {"SmsSendDetailDTO": {}}}),
    "Code in lower case": answer({**NO_RECEIPTS, "Code": "ok"}),
    "a refusal Code": answer({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "m"}),
    "not JSON": "<html>502 Bad Gateway</html>\n",
}


def _unknown_send(session, invoke) -> None:
    session.register(SEND_ARGV, stdout="")
    assert invoke(*SEND_ARGS).code == 5


@pytest.mark.parametrize("stdout", PROVES_NOTHING.values(), ids=PROVES_NOTHING.keys())
def test_reconcile_leaves_a_send_unknown_when_the_receipts_prove_nothing(
        session, invoke, stdout):
    _unknown_send(session, invoke)
    session.register([*QUERY_ANY, session.any()], stdout=stdout)
    result = invoke("reconcile", "--min-age", "0")
    assert result.code == 5, result.stderr
    [item] = json.loads(result.stdout)["settled"]
    assert item["now"] == "unknown" and item["note"].startswith("could not tell: ")
    assert json.loads(invoke("history").stdout)[0]["Outcome"] == "unknown"
    assert invoke(*SEND_ARGS).code == 6  # the identical resend is still refused
    assert product_calls(session) == 2  # the send and one query


def test_reconcile_takes_a_well_formed_answer_without_the_receipt_as_never_arrived(
        session, invoke):
    session.register(SEND_ARGV, stdout="")
    session.register(SEND_ARGV, stdout=answer(SEND_OK))
    assert invoke(*SEND_ARGS).code == 5
    session.register([*QUERY_ANY, session.any()], stdout=answer(NO_RECEIPTS))
    result = invoke("reconcile", "--min-age", "0")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["settled"][0]["now"] == "failed"
    assert invoke(*SEND_ARGS).code == 0


def test_reconcile_reads_every_page_of_receipts(session, invoke):
    from sms_skill.operations import service_today

    _unknown_send(session, invoke)
    other = {"PhoneNum": "13800138000", "SendStatus": 3, "OutId": "someone-else"}
    page = product("query-send-details", "--phone-number", "13800138000", "--send-date",
                   service_today(), "--page-size", "50", "--current-page", "1")
    session.register(page, stdout=answer({**NO_RECEIPTS, "TotalCount": "51",
                                          "SmsSendDetailDTOs": {"SmsSendDetailDTO":
                                                                [other] * 50}}))
    page[page.index("--current-page") + 1] = "2"
    session.register(page, stdout=answer({**NO_RECEIPTS, "TotalCount": "51",
                                          "SmsSendDetailDTOs": {"SmsSendDetailDTO": [
                                              {**other, "OutId": OUT_ID}]}}))
    result = invoke("reconcile", "--min-age", "0")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["settled"][0]["now"] == "ok"
    assert invoke(*SEND_ARGS).code == 6


def test_skip_sent_when_everyone_got_the_message_says_nothing_is_left(session, invoke):
    session.register(_send_argv("13800138000,+85261234567"), stdout=answer(SEND_OK))
    both = ["send", "-p", "13800138000,+85261234567", "-s", "AliyunDemo", "-t", "SMS_123456"]
    assert invoke(*both).code == 0
    again = invoke(*both, "--skip-sent")
    assert again.code == 6, again.stderr
    assert "2 of 2 recipient(s): 2 already got this message" in again.stderr
    assert "nothing is left to send" in again.stderr
    assert "add --skip-sent" not in again.stderr
    assert product_calls(session) == 1
