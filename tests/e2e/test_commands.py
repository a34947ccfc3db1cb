"""Every command of the contract through ``scripts/send_sms.sh`` against the fake aliyun:
its happy path and at least one failure path, checking stdout (JSON), stderr, the exit code
and the aliyun calls the fake logged."""

from __future__ import annotations

import json
import re

from tests.e2e.conftest import (
    UA,
    assert_ai_mode_wrapped,
    compliant,
    needs_fake_log,
    scenarios,
)

pytestmark = needs_fake_log

PHONE = "13800138000"
SIGN = "AliyunDemo"
TEMPLATE = "SMS_123456"
PARAM = '{"code":"123456"}'
SEND = ("send", "-p", PHONE, "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM)


# ---- helpers ----------------------------------------------------------------------------------


def flag(argv: list[str], name: str) -> str:
    """The value after ``name`` in an argv."""
    assert name in argv, (name, argv)
    return argv[argv.index(name) + 1]


def action_calls(world, action: str) -> list[list[str]]:
    """argv of every product call of one kebab-case action, in order."""
    return [e["argv"] for e in world.product_calls() if e["argv"][1] == action]


def assert_call(world, action: str, *, count: int = 1, **params: str) -> list[str]:
    """Exactly ``count`` calls of ``action``; every product call compliant, with the region;
    the last call of ``action`` carries ``params`` (``phone_numbers`` -> --phone-numbers)."""
    for entry in world.product_calls():
        argv = entry["argv"]
        assert compliant(argv), argv
        assert argv[2:4] == ["--api-version", "2017-05-25"], argv
        assert flag(argv, "--user-agent") == UA
        assert flag(argv, "--region") == "cn-hangzhou", argv
        assert "--profile" not in argv, argv
    calls = action_calls(world, action)
    assert len(calls) == count, world.calls()
    for name, value in params.items():
        assert flag(calls[-1], "--" + name.replace("_", "-")) == value, calls[-1]
    return calls[-1]


def error_line(stderr: str) -> str:
    """The run's error: the last line of stderr, which starts with ``error:``."""
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), stderr
    return last


def assert_no_aliyun_call(world) -> None:
    assert world.calls() == [], world.calls()
    assert world.ai_mode() == {}, "AI mode must not be touched"


def details(status: int, err_code: str = "", *, phone: str = PHONE, out_id: str = "",
            times: int = 1) -> dict:
    """A QuerySendDetails answer with one receipt."""
    body = {
        "Code": "OK", "Message": "OK", "RequestId": scenarios.DEFAULT_REQUEST_ID,
        "TotalCount": 1,
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{
            "PhoneNum": phone, "SendStatus": status, "ErrCode": err_code,
            "TemplateCode": TEMPLATE, "Content": "【AliyunDemo】您的验证码为123456。",
            "SendDate": "2026-03-26 10:15:31", "ReceiveDate": "", "OutId": out_id}]},
    }  # fmt: skip
    return scenarios.mock_record("dysmsapi query-send-details *", name=f"status-{status}",
                                 stdout=scenarios.json_response(body), times=times)


def sign_detail(name: str, status: int, *, cmd: str | None = None) -> dict:
    """A GetSmsSign answer for ``name`` with its carrier registration."""
    body = {
        "Code": "OK", "Message": "OK", "RequestId": scenarios.DEFAULT_REQUEST_ID,
        "SignName": name, "SignStatus": status,
        "SignIspRegisterDetailList": [
            {"OperatorCode": "mobile", "RegisterStatus": 1, "RegisterStatusReasons": []},
            {"OperatorCode": "unicom", "RegisterStatus": 0, "RegisterStatusReasons": []},
        ],
    }  # fmt: skip
    return scenarios.mock_record(cmd or f"dysmsapi get-sms-sign --sign-name {name}",
                                 name=f"sign-{name}", stdout=scenarios.json_response(body))


def numbers(count: int, start: int = 13800000000) -> list[str]:
    return [str(start + i) for i in range(count)]


# ---- send -------------------------------------------------------------------------------------


def test_send(world):
    result = world.run(*SEND, "-o", "order-42")
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["Code"] == "OK" and body["BizId"].endswith("^0")
    assert "error" not in result.stderr
    assert_call(world, "send-sms", phone_numbers=PHONE, sign_name=SIGN, template_code=TEMPLATE,
                template_param=PARAM, out_id="order-42")
    assert_ai_mode_wrapped(world)


def test_send_query_expression_and_region(world):
    result = world.run("--query", "Code", *SEND, "-r", "cn-shanghai")
    assert result.code == 0, result.stderr
    assert result.json() == "OK"
    argv = action_calls(world, "send-sms")[0]
    assert compliant(argv) and flag(argv, "--region") == "cn-shanghai"
    assert_ai_mode_wrapped(world)


def test_send_business_error_exit_1_with_list_signs_hint(world):
    world.mock(scenarios.business_error("isv.SMS_SIGN_NAME_ILLEGAL", "签名不合法"))
    result = world.run("send", "-p", PHONE, "-s", "NoSuchSign", "-t", TEMPLATE, "-tp", PARAM)
    assert result.code == 1
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "isv.SMS_SIGN_NAME_ILLEGAL" in line and "list-signs" in line
    assert scenarios.DEFAULT_REQUEST_ID in line
    assert_call(world, "send-sms", sign_name="NoSuchSign")
    assert_ai_mode_wrapped(world)


def test_send_verify_checks_then_sends(world):
    result = world.run(*SEND, "--verify")
    assert result.code == 0, result.stderr
    assert result.json()["Code"] == "OK"
    actions = [argv[1] for argv in world.calls() if argv[0] == "dysmsapi"]
    # The two lookups run at once (either may start first); the send waits for both.
    assert sorted(actions[:2]) == ["get-sms-sign", "get-sms-template"]
    assert actions[2:] == ["send-sms"]
    assert_call(world, "get-sms-sign", sign_name=SIGN)
    assert_call(world, "get-sms-template", template_code=TEMPLATE)
    assert "carrier registration" in result.stderr
    assert_ai_mode_wrapped(world)


def test_send_verify_refuses_a_sign_under_review(world):
    world.mock(sign_detail("PendingBrand", 0))
    result = world.run("send", "-p", PHONE, "-s", "PendingBrand", "-t", TEMPLATE, "-tp", PARAM,
                       "--verify")
    assert result.code == 4
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "PendingBrand" in line and "under review" in line and "nothing was sent" in line
    assert "list-signs" in line
    assert_call(world, "get-sms-sign", sign_name="PendingBrand")
    assert action_calls(world, "send-sms") == []
    assert_ai_mode_wrapped(world)


def test_send_verify_names_a_missing_template_variable(world):
    body = {"Code": "OK", "Message": "OK", "RequestId": scenarios.DEFAULT_REQUEST_ID,
            "TemplateCode": "SMS_777777", "TemplateStatus": "1",
            "TemplateContent": "您的验证码为${code}，${minutes}分钟内有效。"}
    world.mock(scenarios.mock_record("dysmsapi get-sms-template *",
                                     stdout=scenarios.json_response(body)))
    result = world.run("send", "-p", PHONE, "-s", SIGN, "-t", "SMS_777777", "-tp", '{"code":"1"}',
                       "--verify")
    assert result.code == 4
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "minutes" in line and "nothing was sent" in line
    assert not re.search(r"\bcode\b.*have no value", line), line  # `code` was given
    assert_call(world, "get-sms-template", template_code="SMS_777777")
    assert action_calls(world, "send-sms") == []
    assert_ai_mode_wrapped(world)


def test_send_forbidden_ram_exit_1(world):
    world.mock(scenarios.forbidden_ram())
    result = world.run(*SEND)
    assert result.code == 1
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "Forbidden.RAM" in line and "ram-policies.md" in line
    assert "\x1b[" not in result.stderr
    assert_call(world, "send-sms")
    assert_ai_mode_wrapped(world)


def test_duplicate_send_is_refused_once_then_forced(world):
    first = world.run(*SEND)
    assert first.code == 0, first.stderr
    biz_id = first.json()["BizId"]

    second = world.run(*SEND)
    assert second.code == 6
    assert second.stdout == ""
    line = error_line(second.stderr)
    assert biz_id in line and "--force" in line and "query-status" in line
    assert len(action_calls(world, "send-sms")) == 1

    forced = world.run(*SEND, "--force")
    assert forced.code == 0, forced.stderr
    assert len(action_calls(world, "send-sms")) == 2


def test_send_bad_number_is_refused_before_any_call(world):
    result = world.run("send", "-p", "12345abc", "-s", SIGN, "-t", TEMPLATE)
    assert result.code == 2
    assert result.stdout == ""
    assert "--phone-numbers" in error_line(result.stderr)
    assert_no_aliyun_call(world)


def test_send_dry_run_prints_the_command_and_calls_nothing(world):
    result = world.run("--dry-run", *SEND)
    assert result.code == 0, result.stderr
    (argv,) = result.json()["argv"]  # not a terminal: one JSON document
    assert argv[:4] == ["aliyun", "dysmsapi", "send-sms", "--api-version"]
    assert compliant(argv)
    assert "nothing was sent" in result.stderr
    table = world.run("--dry-run", "--format", "table", *SEND)
    assert table.stdout.startswith("aliyun dysmsapi send-sms --api-version 2017-05-25 ")
    assert_no_aliyun_call(world)


# ---- batch-send -------------------------------------------------------------------------------


def test_batch_send(world):
    phones = json.dumps(["13800138000", "13900139000"])
    signs = json.dumps([SIGN, "阿里云短信测试"], ensure_ascii=False)
    params = json.dumps([{"code": "111111"}, {"code": "222222"}])
    result = world.run("batch-send", "--phone-number-json", phones, "--sign-name-json", signs,
                       "-t", TEMPLATE, "--template-param-json", params)
    assert result.code == 0, result.stderr
    assert result.json()["Code"] == "OK"
    assert_call(world, "send-batch-sms", phone_number_json=phones, sign_name_json=signs,
                template_code=TEMPLATE, template_param_json=params)
    assert_ai_mode_wrapped(world)


def test_batch_send_unequal_arrays_are_refused_before_any_call(world):
    result = world.run("batch-send", "--phone-number-json", '["13800138000","13900139000"]',
                       "--sign-name-json", f'["{SIGN}"]', "-t", TEMPLATE)
    assert result.code == 2
    assert result.stdout == ""
    assert "equal lengths" in error_line(result.stderr)
    assert_no_aliyun_call(world)


def test_batch_send_business_error(world):
    world.mock(scenarios.business_error("isv.MOBILE_NUMBER_ILLEGAL", "手机号码格式错误",
                                        cmd="dysmsapi send-batch-sms *"))
    result = world.run("batch-send", "--phone-number-json", '["13800138000"]',
                       "--sign-name-json", f'["{SIGN}"]', "-t", TEMPLATE)
    assert result.code == 1
    assert "isv.MOBILE_NUMBER_ILLEGAL" in error_line(result.stderr)
    assert_call(world, "send-batch-sms")
    assert_ai_mode_wrapped(world)


# ---- list-signs -------------------------------------------------------------------------------


def test_list_signs(world):
    result = world.run("list-signs")
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["Code"] == "OK" and body["TotalCount"] == 4
    assert {s["SignName"] for s in body["SmsSignList"]} >= {SIGN, "NewBrand"}
    assert_call(world, "query-sms-sign-list", page_index="1", page_size="50")
    assert_ai_mode_wrapped(world)


def test_list_signs_approved(world):
    result = world.run("list-signs", "--approved")
    assert result.code == 0, result.stderr
    body = result.json()
    assert [s["SignName"] for s in body["SmsSignList"]] == [SIGN, "阿里云短信测试"]
    assert [s["Index"] for s in body["SmsSignList"]] == [1, 2]
    assert body["TotalCount"] == 2
    assert body["SmsSignList"][0]["CarrierRegistration"] == {
        "mobile": "registered", "unicom": "registered", "telecom": "registering"}
    assert_call(world, "query-sms-sign-list")
    assert sorted(flag(a, "--sign-name") for a in action_calls(world, "get-sms-sign")) == sorted(
        [SIGN, "阿里云短信测试"])
    assert_ai_mode_wrapped(world)


def test_list_signs_all(world):
    result = world.run("list-signs", "--all")
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["TotalCount"] == 4
    assert [s["Index"] for s in body["SmsSignList"]] == [1, 2, 3, 4]
    assert "RejectedBrand" in {s["SignName"] for s in body["SmsSignList"]}
    assert_call(world, "query-sms-sign-list", page_index="1", page_size="50")
    assert action_calls(world, "get-sms-sign") == []
    assert_ai_mode_wrapped(world)


def test_list_signs_approved_over_three_pages_of_mixed_statuses(world):
    statuses = ["AUDIT_STATE_PASS", "AUDIT_STATE_INIT", "AUDIT_STATE_NOT_PASS"]
    signs = [{"SignName": f"Sign{i:03d}", "AuditStatus": statuses[i % 3],
              "BusinessType": "验证码", "CreateDate": "2025-01-01 00:00:00",
              "OrderId": str(20250101000000 + i)} for i in range(130)]
    records = []
    for page in (1, 2, 3):
        body = {"Code": "OK", "Message": "OK", "RequestId": scenarios.DEFAULT_REQUEST_ID,
                "TotalCount": len(signs), "CurrentPage": page, "PageSize": 50,
                "SmsSignList": signs[(page - 1) * 50: page * 50]}
        records.append(scenarios.mock_record(f"dysmsapi query-sms-sign-list --page-index {page}",
                                             stdout=scenarios.json_response(body)))
    passed = [s["SignName"] for s in signs if s["AuditStatus"] == "AUDIT_STATE_PASS"]
    # One sign passed its review but is not usable yet (SignStatus 0): not a candidate.
    records += [sign_detail(name, 0 if name == "Sign060" else 1) for name in passed]
    world.mock(*records)

    result = world.run("list-signs", "--approved")
    assert result.code == 0, result.stderr
    body = result.json()
    expected = [name for name in passed if name != "Sign060"]
    assert len(expected) == 43
    assert [s["SignName"] for s in body["SmsSignList"]] == expected
    assert body["TotalCount"] == 43
    assert [s["Index"] for s in body["SmsSignList"]] == list(range(1, 44))
    for sign in body["SmsSignList"]:
        assert sign["CarrierRegistration"] == {"mobile": "registered", "unicom": "registering"}
        assert sign["SignStatus"] == 1
    pages = action_calls(world, "query-sms-sign-list")
    indexes = [flag(a, "--page-index") for a in pages]
    assert indexes[0] == "1" and sorted(indexes[1:]) == ["2", "3"]  # 2 and 3 at once
    assert {flag(a, "--page-size") for a in pages} == {"50"}
    asked = [flag(a, "--sign-name") for a in action_calls(world, "get-sms-sign")]
    assert sorted(asked) == sorted(passed)
    assert_call(world, "get-sms-sign", count=len(passed))
    assert_ai_mode_wrapped(world)


def test_list_signs_signature_mismatch_exit_1(world):
    world.mock(scenarios.signature_mismatch())
    result = world.run("list-signs")
    assert result.code == 1
    assert result.stdout == ""
    assert "SignatureDoesNotMatch" in error_line(result.stderr)
    assert "\x1b[" not in result.stderr
    assert_call(world, "query-sms-sign-list")
    assert_ai_mode_wrapped(world)


def test_list_signs_approved_and_all_together_is_bad_input(world):
    result = world.run("list-signs", "--approved", "--all")
    assert result.code == 2
    assert "--approved" in error_line(result.stderr)
    assert_no_aliyun_call(world)


# ---- list-templates ---------------------------------------------------------------------------


def test_list_templates(world):
    result = world.run("list-templates", "--page-size", "2")
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["TotalCount"] == 4
    assert [t["TemplateCode"] for t in body["SmsTemplateList"]] == [TEMPLATE, "SMS_234567"]
    assert_call(world, "query-sms-template-list", page_index="1", page_size="2")
    assert_ai_mode_wrapped(world)


def test_list_templates_approved(world):
    result = world.run("list-templates", "--approved")
    assert result.code == 0, result.stderr
    body = result.json()
    assert [(t["TemplateCode"], t["Variables"], t["Index"]) for t in body["SmsTemplateList"]] == [
        (TEMPLATE, ["code"], 1), ("SMS_234567", ["name", "order"], 2)]
    assert body["TotalCount"] == 2
    assert_call(world, "query-sms-template-list", page_index="1", page_size="50")
    assert_ai_mode_wrapped(world)


def test_list_templates_invalid_access_key_exit_1(world):
    world.mock(scenarios.invalid_access_key())
    result = world.run("list-templates")
    assert result.code == 1
    assert result.stdout == ""
    assert "InvalidAccessKeyId.NotFound" in error_line(result.stderr)
    assert_call(world, "query-sms-template-list")
    assert_ai_mode_wrapped(world)


# ---- query-sign / query-template --------------------------------------------------------------


def test_query_sign(world):
    result = world.run("query-sign", "-s", SIGN)
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["SignName"] == SIGN and body["SignStatus"] == 1
    assert len(body["SignIspRegisterDetailList"]) == 3
    assert_call(world, "get-sms-sign", sign_name=SIGN)
    assert_ai_mode_wrapped(world)


def test_query_sign_unknown_exit_1(world):
    result = world.run("query-sign", "-s", "NoSuchSign")
    assert result.code == 1
    assert result.stdout == ""
    assert "SignatureNotFound" in error_line(result.stderr)
    assert_call(world, "get-sms-sign", sign_name="NoSuchSign")
    assert_ai_mode_wrapped(world)


def test_query_template(world):
    result = world.run("query-template", "-t", TEMPLATE)
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["TemplateCode"] == TEMPLATE and body["TemplateStatus"] == "1"
    assert "${code}" in body["TemplateContent"]
    assert_call(world, "get-sms-template", template_code=TEMPLATE)
    assert_ai_mode_wrapped(world)


def test_query_template_unknown_exit_1(world):
    result = world.run("query-template", "-t", "SMS_000000")
    assert result.code == 1
    assert result.stdout == ""
    assert "TemplateNotFound" in error_line(result.stderr)
    assert_call(world, "get-sms-template", template_code="SMS_000000")
    assert_ai_mode_wrapped(world)


# ---- query-status -----------------------------------------------------------------------------


def test_query_status_decodes_receipts(world):
    result = world.run("query-status", "-p", PHONE, "--send-date", "20260326",
                       "--biz-id", "900619746936498440^0")
    assert result.code == 0, result.stderr
    record = result.json()["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]
    assert record["PhoneNum"] == "138****8000"  # masked unless --no-mask
    assert record["SendStatus"] == 3 and record["SendStatusText"] == "delivered"
    assert record["ErrCode"] == "DELIVERED" and record["ErrCodeMeaning"]
    assert_call(world, "query-send-details", phone_number=PHONE, send_date="20260326",
                biz_id="900619746936498440^0", page_size="10", current_page="1")
    assert_ai_mode_wrapped(world)


def test_query_status_default_date_is_today_on_the_service_calendar(world):
    result = world.run("query-status", "-p", PHONE)
    assert result.code == 0, result.stderr
    argv = assert_call(world, "query-send-details", phone_number=PHONE)
    assert re.fullmatch(r"20\d{6}", flag(argv, "--send-date"))
    assert "--biz-id" not in argv


def test_query_status_failed_receipt_is_explained(world):
    world.mock(details(2, "MOBILE_NOT_ON_SERVICE"))
    result = world.run("query-status", "-p", PHONE, "--send-date", "20260326")
    assert result.code == 0, result.stderr
    record = result.json()["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]
    assert record["SendStatusText"] == "failed"
    assert "not in references" not in record["ErrCodeMeaning"]
    assert_ai_mode_wrapped(world)


def test_query_status_bad_date_is_refused_before_any_call(world):
    result = world.run("query-status", "-p", PHONE, "--send-date", "2026-03-26")
    assert result.code == 2
    assert "--send-date" in error_line(result.stderr)
    assert_no_aliyun_call(world)


POLL = {"SMS_SKILL_POLL_SECONDS": "0.05"}


def test_query_status_wait_until_delivered(world):
    world.mock(details(1), details(1), details(3, "DELIVERED"))
    result = world.run("query-status", "-p", PHONE, "--biz-id", "1^0", "--wait",
                       "--timeout", "10", **POLL)
    assert result.code == 0, result.stderr
    record = result.json()["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]
    assert record["SendStatusText"] == "delivered"
    assert result.stderr.count("waiting for receipts") == 2
    assert_call(world, "query-send-details", count=3, biz_id="1^0")
    assert_ai_mode_wrapped(world)


def test_query_status_wait_until_failed_exit_1(world):
    world.mock(details(1), details(2, "IS_CLOSE"))
    result = world.run("query-status", "-p", PHONE, "--biz-id", "1^0", "--wait",
                       "--timeout", "10", **POLL)
    assert result.code == 1
    (record,) = result.json()["SmsSendDetailDTOs"]["SmsSendDetailDTO"]  # what failed
    assert record["ErrCode"] == "IS_CLOSE" and record["PhoneNum"] == "138****8000"
    line = error_line(result.stderr)
    assert "failed to deliver" in line and "IS_CLOSE" in line and "explain" in line
    assert_call(world, "query-send-details", count=2)
    assert_ai_mode_wrapped(world)


def test_query_status_wait_still_in_flight_at_timeout_exit_5(world):
    world.mock(details(1, times=0))
    result = world.run("query-status", "-p", PHONE, "--biz-id", "1^0", "--wait",
                       "--timeout", "5", **POLL)
    assert result.code == 5
    last = result.json()  # the last state seen: one record, still in flight
    assert last["Wait"] == {"TimedOut": True, "Records": 1, "InFlight": 1}
    assert last["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]["PhoneNum"] == "138****8000"
    line = error_line(result.stderr)
    assert "after 5 s" in line and "1 of 1 record(s) still in flight" in line
    assert "do not resend" in line
    assert len(action_calls(world, "query-send-details")) >= 2
    assert_call(world, "query-send-details", count=len(action_calls(world, "query-send-details")))
    assert_ai_mode_wrapped(world)


# ---- query-statistics -------------------------------------------------------------------------


def test_query_statistics(world):
    result = world.run("query-statistics", "--start-date", "20260301", "--end-date", "20260305",
                       "-s", SIGN)
    assert result.code == 0, result.stderr
    data = result.json()["Data"]
    assert data["TotalSize"] == 5
    assert [d["SendDate"] for d in data["TargetList"]] == [
        "20260301", "20260302", "20260303", "20260304", "20260305"]
    assert_call(world, "query-send-statistics", is_globe="1", start_date="20260301",
                end_date="20260305", page_index="1", page_size="10", sign_name=SIGN)
    assert_ai_mode_wrapped(world)


def test_query_statistics_end_before_start_is_refused_before_any_call(world):
    result = world.run("query-statistics", "--start-date", "20260305", "--end-date", "20260301")
    assert result.code == 2
    assert "--end-date" in error_line(result.stderr)
    assert_no_aliyun_call(world)


# ---- qualifications ---------------------------------------------------------------------------


def test_list_qualifications(world):
    result = world.run("list-qualifications", "--state", "PASS")
    assert result.code == 0, result.stderr
    data = result.json()["Data"]
    assert [q["StateName"] for q in data["List"]] == ["PASS"]
    assert_call(world, "query-sms-qualification-record", state="PASS", page_no="1",
                page_size="20")
    assert_ai_mode_wrapped(world)


def test_list_qualifications_unknown_state_is_refused_before_any_call(world):
    result = world.run("list-qualifications", "--state", "APPROVED")
    assert result.code == 2
    assert "--state" in error_line(result.stderr)
    assert_no_aliyun_call(world)


def test_query_qualification(world):
    result = world.run("query-qualification", "--qualification-group-id", "10000123",
                       "--order-id", "20001234")
    assert result.code == 0, result.stderr
    data = result.json()["Data"]
    assert data["QualificationGroupId"] == 10000123 and data["OrderId"] == 20001234
    assert_call(world, "query-single-sms-qualification", qualification_group_id="10000123",
                order_id="20001234")
    assert_ai_mode_wrapped(world)


def test_query_qualification_forbidden_ram_exit_1(world):
    world.mock(scenarios.forbidden_ram(action="QuerySingleSmsQualification"))
    result = world.run("query-qualification", "--qualification-group-id", "10000123")
    assert result.code == 1
    assert result.stdout == ""
    assert "Forbidden.RAM" in error_line(result.stderr)
    assert_call(world, "query-single-sms-qualification")
    assert_ai_mode_wrapped(world)


# ---- precheck ---------------------------------------------------------------------------------


def test_precheck(world):
    result = world.run("precheck")
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["version"] == "3.4.11"
    assert [s["step"] for s in body["steps"]] == ["version", "credentials",
                                                  "auto-plugin-install", "plugin-update"]
    assert all(s["ok"] for s in body["steps"])
    for line in ("aliyun version: 3.4.11", "credentials: found in environment variables",
                 "plugin auto-install:", "plugin update:"):
        assert line in result.stderr
    calls = world.calls()
    assert calls[0] == ["version"]
    assert ["configure", "set", "--auto-plugin-install", "true"] in calls
    assert ["plugin", "update"] in calls
    assert calls[-1] == ["configure", "ai-mode", "disable"]
    assert world.product_calls() == []
    assert world.ai_mode().get("enabled") is False


def test_precheck_old_aliyun_exit_3(world):
    world.mock(scenarios.mock_record("version", stdout="3.3.2\n"))
    result = world.run("precheck")
    assert result.code == 3
    report = result.json()  # each step, the failed one last
    assert report["ok"] is False and report["failed_step"] == "version"
    line = error_line(result.stderr)
    assert "3.3.2" in line and "3.3.3" in line
    assert world.calls() == [["version"]]
    assert world.ai_mode().get("enabled") is not True


# ---- explain ----------------------------------------------------------------------------------


def test_explain_known_code(world):
    result = world.run("explain", "isv.SMS_SIGN_NAME_ILLEGAL")
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["Code"] == "isv.SMS_SIGN_NAME_ILLEGAL"
    assert "list-signs" in body["NextStep"] and body["Meaning"] and body["Section"]
    assert result.stderr == ""
    assert_no_aliyun_call(world)


def test_explain_unknown_code_exit_2(world):
    result = world.run("explain", "isv.NO_SUCH_CODE")
    assert result.code == 2
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "isv.NO_SUCH_CODE" in line and "Triage" in line
    assert_no_aliyun_call(world)


# ---- history ----------------------------------------------------------------------------------


def test_history_after_a_send_masks_numbers(world):
    sent = world.run("send", "-p", "13800138000,13912345678", "-s", SIGN, "-t", TEMPLATE,
                     "-tp", PARAM)
    assert sent.code == 0, sent.stderr
    calls_before = len(world.calls())

    result = world.run("history")
    assert result.code == 0, result.stderr
    [entry] = result.json()
    assert entry["Recipients"] == "138****8000,139****5678"
    assert entry["Count"] == 2 and entry["Outcome"] == "ok"
    assert entry["BizId"] == sent.json()["BizId"]
    assert entry["SignName"] == SIGN and entry["TemplateCode"] == TEMPLATE
    assert "13800138000" not in result.stdout and "13912345678" not in result.stdout
    assert len(world.calls()) == calls_before  # history reads the journal only

    unmasked = world.run("history", "--no-mask")
    assert unmasked.json()[0]["Recipients"] == "13800138000,13912345678"


def test_history_bad_limit_exit_2(world):
    result = world.run("history", "--limit", "0")
    assert result.code == 2
    assert "--limit" in error_line(result.stderr)
    assert_no_aliyun_call(world)


# ---- bulk: send --phone-file, batch-send --csv, campaign --------------------------------------


def phone_file(world, count: int):
    path = world.home / "numbers.txt"
    path.write_text("".join(n + "\n" for n in numbers(count)), encoding="utf-8")
    return path


def test_send_phone_file_in_chunks_of_1000(world):
    path = phone_file(world, 2345)
    result = world.run("send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE,
                       "-tp", PARAM)
    assert result.code == 0, result.stderr
    summary = result.json()
    assert summary["total_recipients"] == 2345
    assert summary["chunks"]["sent"] == 3 and summary["recipients"]["sent"] == 2345
    assert summary["errors"] == []
    assert "2345 recipients in 3 chunk(s)" in result.stderr

    sends = action_calls(world, "send-sms")
    assert_call(world, "send-sms", count=3, sign_name=SIGN, template_code=TEMPLATE,
                template_param=PARAM)
    batches = sorted((flag(a, "--phone-numbers").split(",") for a in sends), key=len,
                     reverse=True)
    assert [len(b) for b in batches] == [1000, 1000, 345]
    assert sorted(n for b in batches for n in b) == numbers(2345)
    out_ids = sorted(flag(a, "--out-id") for a in sends)
    assert out_ids == [f"sms-{summary['campaign']}.{i}" for i in range(3)]
    assert_ai_mode_wrapped(world)


def test_send_phone_file_from_stdin(world, tmp_path):
    path = tmp_path / "stdin.txt"
    path.write_text("phone\n13800138000\n13900139000\n+85261234567\n", encoding="utf-8")
    with path.open("rb") as stdin:
        result = world.run("send", "--phone-file", "-", "-s", SIGN, "-t", TEMPLATE,
                           "-tp", PARAM, stdin=stdin)
    assert result.code == 0, result.stderr
    assert result.json()["recipients"]["sent"] == 3
    assert_call(world, "send-sms", phone_numbers="13800138000,13900139000,+85261234567")
    assert_ai_mode_wrapped(world)


def test_send_phone_file_with_a_bad_row_is_refused_before_any_call(world):
    path = world.home / "numbers.txt"
    path.write_text("13800138000\n13800138001\nnot-a-number\n13800138000\n", encoding="utf-8")
    result = world.run("send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE,
                       "-tp", PARAM)
    assert result.code == 2
    assert result.stdout == ""
    line = error_line(result.stderr)
    assert "line 3" in line and "line 4" in line and "nothing was sent" in line
    assert_no_aliyun_call(world)


def test_batch_send_csv_in_chunks_of_100(world):
    rows = [(n, SIGN if i % 2 else "阿里云短信测试", f"{i:06d}")
            for i, n in enumerate(numbers(150))]
    path = world.home / "customers.csv"
    path.write_text("phone,sign_name,code\n" + "".join(f"{p},{s},{c}\n" for p, s, c in rows),
                    encoding="utf-8")
    result = world.run("batch-send", "--csv", str(path), "-t", TEMPLATE)
    assert result.code == 0, result.stderr
    summary = result.json()
    assert summary["kind"] == "batch" and summary["chunks"]["sent"] == 2
    assert summary["recipients"]["sent"] == 150

    calls = action_calls(world, "send-batch-sms")
    assert_call(world, "send-batch-sms", count=2, template_code=TEMPLATE)
    seen = []
    for argv in calls:
        phones = json.loads(flag(argv, "--phone-number-json"))
        signs = json.loads(flag(argv, "--sign-name-json"))
        params = json.loads(flag(argv, "--template-param-json"))
        assert len(phones) == len(signs) == len(params)
        seen += [(p, s, c["code"]) for p, s, c in zip(phones, signs, params)]
    assert sorted(len(json.loads(flag(a, "--phone-number-json"))) for a in calls) == [50, 100]
    assert sorted(seen) == sorted(rows)
    assert_ai_mode_wrapped(world)


def test_batch_send_csv_with_a_bad_row_is_refused_before_any_call(world):
    path = world.home / "customers.csv"
    path.write_text(f"phone,sign_name,code\n13800138000,{SIGN},1\n12ab,{SIGN},2\n",
                    encoding="utf-8")
    result = world.run("batch-send", "--csv", str(path), "-t", TEMPLATE)
    assert result.code == 2
    assert "line 3" in error_line(result.stderr)
    assert_no_aliyun_call(world)


def start_campaign_with_an_unknown_chunk(world) -> str:
    """2,345 numbers; the second chunk's send times out after it was sent."""
    path = phone_file(world, 2345)
    world.mock(scenarios.read_timeout("dysmsapi send-sms --out-id e2e.*.1"))
    result = world.run("send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE,
                       "-tp", PARAM, "-o", "e2e")
    assert result.code == 5, result.stderr
    assert result.json()["chunks"] == {"planned": 0, "in_flight": 0, "sent": 2, "failed": 0,
                                       "unknown": 1}
    line = error_line(result.stderr)
    assert "campaign reconcile" in line and "--resume" in line
    assert len(action_calls(world, "send-sms")) == 3
    return result.json()["campaign"]


def test_campaign_list_and_show(world):
    campaign_id = start_campaign_with_an_unknown_chunk(world)
    calls_before = len(world.calls())

    listed = world.run("campaign", "list")
    assert listed.code == 0, listed.stderr
    [entry] = listed.json()
    assert entry["id"] == campaign_id and entry["kind"] == "send"
    assert entry["total_recipients"] == 2345 and entry["sign_name"] == SIGN
    assert entry["chunks"]["unknown"] == 1 and entry["recipients"]["unknown"] == 1000

    shown = world.run("campaign", "show", campaign_id)
    assert shown.code == 0, shown.stderr
    body = shown.json()
    assert body["id"] == campaign_id and body["template_param"] == PARAM
    assert [(c["seq"], c["size"], c["state"], c["out_id"]) for c in body["chunk_list"]] == [
        (0, 1000, "sent", f"e2e.{campaign_id}.0"), (1, 1000, "unknown", f"e2e.{campaign_id}.1"),
        (2, 345, "sent", f"e2e.{campaign_id}.2")]
    assert body["chunk_list"][0]["biz_id"]
    assert len(world.calls()) == calls_before  # list and show read the journal only


def test_campaign_show_unknown_id_exit_2(world):
    result = world.run("campaign", "show", "20260101-000000")
    assert result.code == 2
    assert result.stdout == ""
    assert "20260101-000000" in error_line(result.stderr)
    assert_no_aliyun_call(world)


def test_campaign_reconcile_unknown_id_exit_2(world):
    result = world.run("campaign", "reconcile", "20260101-000000")
    assert result.code == 2
    assert result.stdout == ""
    assert "20260101-000000" in error_line(result.stderr)
    assert_no_aliyun_call(world)


def test_campaign_reconcile_settles_a_chunk_from_its_receipt(world):
    campaign_id = start_campaign_with_an_unknown_chunk(world)
    world.mock(details(3, "DELIVERED", phone="13800001000", out_id=f"e2e.{campaign_id}.1"))
    result = world.run("campaign", "reconcile", campaign_id)
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["settled"] == [{"chunk": 1, "was": "unknown", "now": "sent"}]
    assert body["chunks"]["sent"] == 3 and body["recipients"]["sent"] == 2345
    # the chunk's first recipient, on the day it was sent
    assert_call(world, "query-send-details", phone_number="13800001000", page_size="50")
    assert len(action_calls(world, "send-sms")) == 3
    assert_ai_mode_wrapped(world)


def test_campaign_reconcile_without_receipt_then_resume_sends_only_that_chunk(world):
    campaign_id = start_campaign_with_an_unknown_chunk(world)
    world.mock(scenarios.mock_record(
        "dysmsapi query-send-details *", stdout=scenarios.json_response({
            "Code": "OK", "Message": "OK", "RequestId": scenarios.DEFAULT_REQUEST_ID,
            "TotalCount": 0, "SmsSendDetailDTOs": {"SmsSendDetailDTO": []}}), times=0))
    young = world.run("campaign", "reconcile", campaign_id)
    assert young.code == 5, young.stderr  # too early to conclude anything: still unknown
    assert young.json()["settled"][0]["now"] == "unknown"
    assert "no receipt yet" in young.json()["settled"][0]["note"]

    settled = world.run("campaign", "reconcile", campaign_id, "--min-age", "0")
    # settled: one chunk never arrived and waits for --resume, which the next step names
    assert settled.code == 0, settled.stderr
    assert settled.json()["settled"] == [{"chunk": 1, "was": "unknown", "now": "planned"}]
    assert f"send --resume {campaign_id}" in settled.stderr.splitlines()[-1]
    assert settled.json()["to_resume"] == 1

    resumed = world.run("send", "--resume", campaign_id)
    assert resumed.code == 0, resumed.stderr
    assert resumed.json()["chunks"]["sent"] == 3
    sends = action_calls(world, "send-sms")
    assert len(sends) == 4
    assert flag(sends[-1], "--out-id") == f"e2e.{campaign_id}.1"
    assert flag(sends[-1], "--phone-numbers").split(",") == numbers(1000, 13800001000)
    assert_ai_mode_wrapped(world)
