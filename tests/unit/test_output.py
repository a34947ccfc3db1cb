"""stdout carries the result only: JSON, a table, or a JMESPath selection of it."""

from __future__ import annotations

import json

import pytest

from sms_skill import output
from tests.unit.helpers import answer, product

SIGNS = {"Code": "OK", "Message": "OK", "RequestId": "R", "TotalCount": 2, "CurrentPage": 1,
         "PageSize": 50, "SmsSignList": [
             {"SignName": "Alpha", "AuditStatus": "AUDIT_STATE_PASS", "CreateDate": "2026-01-01"},
             {"SignName": "Beta", "AuditStatus": "AUDIT_STATE_INIT", "CreateDate": "2026-02-01"},
         ]}
LIST_ARGV = product("query-sms-sign-list", "--page-index", "1", "--page-size", "50")


@pytest.fixture
def signs(session):
    session.register(LIST_ARGV, stdout=answer(SIGNS))
    return session


def test_json_is_the_response_unchanged(signs, invoke):
    result = invoke("list-signs", "--format", "json")
    assert json.loads(result.stdout) == SIGNS
    assert result.stderr == ""


def test_auto_is_json_when_stdout_is_not_a_terminal(signs, invoke):
    assert json.loads(invoke("list-signs").stdout) == SIGNS


def test_table_lists_the_rows_with_a_header(signs, invoke):
    result = invoke("list-signs", "--format", "table")
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("SignName"))
    assert header.split() == ["SignName", "AuditStatus", "CreateDate"]
    assert any(line.split()[:2] == ["Alpha", "AUDIT_STATE_PASS"] for line in lines)
    assert any(line.split()[:2] == ["Beta", "AUDIT_STATE_INIT"] for line in lines)
    assert "TotalCount" in result.stdout


def test_query_selects_from_the_result(signs, invoke):
    result = invoke("--query", "SmsSignList[?AuditStatus=='AUDIT_STATE_PASS'].SignName",
                    "list-signs")
    assert json.loads(result.stdout) == ["Alpha"]


def test_query_after_the_subcommand_with_table(signs, invoke):
    result = invoke("list-signs", "--query", "SmsSignList[].{n: SignName}", "--format", "table")
    assert result.stdout.split() == ["n", "-----", "Alpha", "Beta"]


def test_auto_is_a_table_on_a_terminal():
    class Tty:
        def isatty(self):
            return True

    assert output.choose_format("auto", Tty()) == "table"
    assert output.choose_format("json", Tty()) == "json"


def test_explain_reads_the_reference_table(fp, invoke):
    result = invoke("explain", "isv.BUSINESS_LIMIT_CONTROL")
    data = json.loads(result.stdout)
    assert result.code == 0
    assert data["Code"] == "isv.BUSINESS_LIMIT_CONTROL" and data["Meaning"] and data["NextStep"]
    assert data["MayHaveBeenProcessed"] is False  # throttled: nothing was sent
    assert list(fp.calls) == []


def test_explain_says_when_a_send_may_have_been_processed(fp, invoke):
    data = json.loads(invoke("explain", "isp.SYSTEM_ERROR").stdout)
    assert data["MayHaveBeenProcessed"] is True
    assert not data["Meaning"].startswith("**")  # the marker is the flag, not the text


def test_explain_unknown_code_points_at_triage(fp, invoke):
    result = invoke("explain", "NOPE_42")
    assert result.code == 2 and result.stdout == ""
    assert "Triage" in result.stderr


def test_every_command_has_help_with_an_example(invoke):
    from tests.conftest import every_command

    for name in every_command():
        result = invoke(name, "--help")
        assert result.code == 0, name
        assert "Example" in result.stdout, name
        assert "--dry-run" in result.stdout and "--region" in result.stdout, name


QUALIFICATION = {"Code": "OK", "Success": True, "RequestId": "R", "Data": {
    "QualificationGroupId": 10000123, "CompanyName": "Example Co",
    "LegalPersonIDCardNo": "110101199003071234", "AdminPhoneNo": "13800138000",
    "AdminIDCardPic": "https://example.com/id.png",
    "BusinessLicensePics": [{"Type": "businessLicense", "PicUrl": "https://example.com/l.png"}],
}}


def test_qualification_personal_data_is_masked_unless_asked(session, invoke):
    argv = product("query-single-sms-qualification", "--qualification-group-id", "10000123")
    session.register(argv, stdout=answer(QUALIFICATION))
    data = json.loads(invoke("query-qualification", "--qualification-group-id",
                             "10000123").stdout)["Data"]
    assert data["LegalPersonIDCardNo"] == "110****1234"
    assert data["AdminPhoneNo"] == "138****8000"
    assert data["AdminIDCardPic"] == "(url withheld)"
    assert data["BusinessLicensePics"][0]["PicUrl"] == "(url withheld)"
    assert data["CompanyName"] == "Example Co"
    plain = invoke("query-qualification", "--qualification-group-id", "10000123", "--no-mask")
    assert json.loads(plain.stdout) == QUALIFICATION


def test_candidate_table_puts_the_number_first_and_spells_out_carriers():
    rows = [{"SignName": "Alpha", "AuditStatus": "AUDIT_STATE_PASS", "Index": 1,
             "CarrierRegistration": {"mobile": "registered", "unicom": "registering"}}]
    lines = output.to_table({"SmsSignList": rows, "TotalCount": 1}, "SmsSignList").splitlines()
    header = next(line for line in lines if "SignName" in line)
    assert header.split()[:2] == ["Index", "SignName"]
    assert "mobile: registered, unicom: registering" in lines[-1]


def test_table_columns_line_up_with_chinese_text():
    from sms_skill.output import _width

    table = output.to_table([{"Name": "登录验证码", "Code": "A"}, {"Name": "ab", "Code": "B"}])
    lines = table.splitlines()
    starts = [_width(line[:line.rindex(code)]) for line, code in zip(lines[2:], "AB")]
    assert starts[0] == starts[1] == _width(lines[0][:lines[0].index("Code")])


def test_approved_templates_table_shows_the_candidate_columns(session, invoke):
    page = {"Code": "OK", "RequestId": "R", "TotalCount": 2, "SmsTemplateList": [
        {"TemplateCode": "SMS_1", "TemplateName": "Login", "AuditStatus": "AUDIT_STATE_PASS",
         "TemplateContent": "code ${code}", "CreateDate": "2026-01-01"},
        {"TemplateCode": "SMS_2", "TemplateName": "Old", "AuditStatus": "AUDIT_STATE_NOT_PASS",
         "TemplateContent": "x", "CreateDate": "2026-01-01"}]}
    session.register(product("query-sms-template-list", "--page-index", "1", "--page-size",
                             "50"), stdout=answer(page))
    lines = invoke("list-templates", "--approved", "--format", "table").stdout.splitlines()
    header = next(line for line in lines if line.startswith("Index"))
    assert header.split() == ["Index", "TemplateCode", "TemplateName", "TemplateContent",
                              "Variables"]
    assert lines[-1].split() == ["1", "SMS_1", "Login", "code", "${code}", "code"]


def test_errors_are_json_on_stderr_with_format_json(invoke):
    import json as _json

    result = invoke("send", "-p", "1", "-s", "S", "-t", "SMS_1", "--format", "json")
    assert result.code == 2 and result.stdout == ""
    error = _json.loads(result.stderr)["error"]
    assert error["exit_code"] == 2 and error["option"] == "--phone-numbers"
    assert "is not a phone number" in error["message"] and error["next"]
    usage = invoke("--format=json", "send", "--bogus")
    assert _json.loads(usage.stderr)["error"]["exit_code"] == 2
    plain = invoke("send", "-p", "1", "-s", "S", "-t", "SMS_1")
    assert plain.stderr.startswith("error: --phone-numbers: ")


def test_empty_table_says_so_instead_of_a_blank_line():
    from sms_skill import output

    assert output.render([], "table") == "(no rows)"


def test_query_qualification_withholds_every_image_url():
    from sms_skill import operations

    class Answer:
        dry_run = False

        def call(self, action, params):
            return {"Data": {"AdminPhoneNo": "13800138000",
                             "BusinessLicensePics": [{"LicensePic": "https://x/a.png",
                                                      "Type": "license"}],
                             "OtherFiles": [{"LicenseUrl": "http://x/b.pdf"}]}}

    data = operations.query_qualification(Answer(), 10000123)["Data"]
    assert data["BusinessLicensePics"] == [{"LicensePic": "(url withheld)", "Type": "license"}]
    assert data["OtherFiles"] == [{"LicenseUrl": "(url withheld)"}]
    assert "13800138000" not in str(data)
    raw = operations.query_qualification(Answer(), 10000123, unmask=True)["Data"]
    assert raw["BusinessLicensePics"][0]["LicensePic"] == "https://x/a.png"


def test_wait_timeout_with_no_record_yet_carries_that_state():
    import pytest as _pytest

    from sms_skill import delivery
    from sms_skill.errors import OutcomeUnknown

    with _pytest.raises(OutcomeUnknown) as caught:
        delivery.wait(lambda: {"Code": "OK", "TotalCount": "0"}, 0, sleep=lambda s: None)
    assert caught.value.result["Wait"] == {"TimedOut": True, "Records": 0, "InFlight": 0}
    assert "no record found yet" in str(caught.value)


def test_a_mistyped_command_is_refused_with_the_closest_name(invoke):
    result = invoke("sned", "-p", "13800138000")
    assert result.code == 2 and result.stdout == ""
    assert "No such command 'sned'. Did you mean 'send'?" in result.stderr
    assert "Did you mean" not in invoke("xyzzy").stderr


def test_help_lists_a_positional_argument_in_the_usage_line_only(invoke):
    """(click 8.5 gives arguments help records; an ``ID`` line among the options would read
    as an option.)"""
    result = invoke("campaign", "show", "--help")
    assert result.code == 0
    assert "campaign show [OPTIONS] ID" in result.stdout
    options = result.stdout.split("Options:", 1)[1]
    assert not [line for line in options.splitlines() if line.strip().startswith("ID")]
