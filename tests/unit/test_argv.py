"""The exact aliyun argv of every documented wrapper example (pytest-subprocess)."""

from __future__ import annotations

import json

import pytest

from tests.unit.helpers import (
    DISABLE,
    ENABLE,
    OUT_ID,
    SEND_OK,
    SET_UA,
    answer,
    product,
    write_precheck_cache,
)

SIGN_OK = {"SignName": "AliyunDemo", "SignStatus": 1, "Code": "OK", "Message": "OK",
           "RequestId": "R1", "SignIspRegisterDetailList": []}
TEMPLATE_OK = {"TemplateCode": "SMS_123456", "TemplateStatus": "1", "Code": "OK",
               "TemplateContent": "Your code is ${code}", "RequestId": "R2", "Message": "OK"}
LIST = {"Code": "OK", "Message": "OK", "RequestId": "R3", "TotalCount": 0}

EXAMPLES = [
    (["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
      "-tp", '{"code":"123456"}'],
     product("send-sms", "--phone-numbers", "13800138000", "--sign-name", "AliyunDemo",
             "--template-code", "SMS_123456", "--template-param", '{"code":"123456"}'),
     SEND_OK),
    (["list-signs"], product("query-sms-sign-list", "--page-index", "1", "--page-size", "50"),
     LIST),
    (["list-templates"],
     product("query-sms-template-list", "--page-index", "1", "--page-size", "50"), LIST),
    (["query-sign", "--sign-name", "AliyunDemo"],
     product("get-sms-sign", "--sign-name", "AliyunDemo"), SIGN_OK),
    (["query-template", "--template-code", "SMS_123456"],
     product("get-sms-template", "--template-code", "SMS_123456"), TEMPLATE_OK),
    (["query-status", "-p", "13800138000", "--send-date", "20260326", "--biz-id", "xxx^0"],
     product("query-send-details", "--phone-number", "13800138000", "--send-date", "20260326",
             "--biz-id", "xxx^0", "--page-size", "10", "--current-page", "1"), LIST),
    (["query-statistics", "--start-date", "20260301", "--end-date", "20260326"],
     product("query-send-statistics", "--is-globe", "1", "--start-date", "20260301",
             "--end-date", "20260326", "--page-index", "1", "--page-size", "10"), LIST),
    (["query-statistics", "--start-date", "20260301", "--end-date", "20260326",
      "--is-globe", "2"],
     product("query-send-statistics", "--is-globe", "2", "--start-date", "20260301",
             "--end-date", "20260326", "--page-index", "1", "--page-size", "10"), LIST),
    (["query-statistics", "--start-date", "20260301", "--end-date", "20260326",
      "--sign-name", "AliyunDemo", "--template-type", "0"],
     product("query-send-statistics", "--is-globe", "1", "--start-date", "20260301",
             "--end-date", "20260326", "--page-index", "1", "--page-size", "10",
             "--template-type", "0", "--sign-name", "AliyunDemo"), LIST),
    (["batch-send", "--phone-number-json", '["13800138000","13900139000"]',
      "--sign-name-json", '["SignA","SignB"]', "-t", "SMS_123456",
      "--template-param-json", '[{"code":"111111"},{"code":"222222"}]'],
     product("send-batch-sms", "--phone-number-json", '["13800138000","13900139000"]',
             "--sign-name-json", '["SignA","SignB"]', "--template-code", "SMS_123456",
             "--template-param-json", '[{"code":"111111"},{"code":"222222"}]'), SEND_OK),
    (["list-qualifications", "--state", "PASS", "--page-size", "20"],
     product("query-sms-qualification-record", "--state", "PASS", "--page-no", "1",
             "--page-size", "20"), LIST),
    (["query-qualification", "--qualification-group-id", "10000123"],
     product("query-single-sms-qualification", "--qualification-group-id", "10000123"), LIST),
]


@pytest.mark.parametrize(("args", "expected", "response"), EXAMPLES,
                         ids=[" ".join(e[0][:1] + e[0][1:3]) for e in EXAMPLES])
def test_documented_example_makes_exactly_this_call(session, invoke, args, expected, response):
    session.register(expected, stdout=answer(response))
    result = invoke(*args)
    assert result.code == 0, result.stderr
    added = {"Variables": ["code"]} if args[0] == "query-template" else {}  # see its help
    assert result.json() == {**response, **added}
    assert [list(call) for call in session.calls] == [ENABLE, SET_UA, expected, DISABLE]


@pytest.mark.parametrize(("old", "new"), [
    (["query-status", "--phone-numbers", "13800138000", "--current-page", "2"],
     ["query-status", "-p", "13800138000", "--page-index", "2"]),
    (["list-qualifications", "--page-no", "3"], ["list-qualifications", "--page-index", "3"]),
])
def test_the_contracts_old_option_names_still_work(fp, invoke, old, new):
    assert invoke("--dry-run", *old).stdout == invoke("--dry-run", *new).stdout
    assert "--page-no" not in invoke("list-qualifications", "--help").stdout


def test_verify_checks_sign_and_template_before_the_send(session, invoke):
    sign = product("get-sms-sign", "--sign-name", "AliyunDemo")
    template = product("get-sms-template", "--template-code", "SMS_123456")
    send = EXAMPLES[0][1]
    session.register(sign, stdout=answer(SIGN_OK))
    session.register(template, stdout=answer(TEMPLATE_OK))
    session.register(send, stdout=answer(SEND_OK))
    result = invoke(*EXAMPLES[0][0], "--verify")
    assert result.code == 0, result.stderr
    assert [list(c) for c in session.calls] == [ENABLE, SET_UA, sign, template, send, DISABLE]


@pytest.mark.parametrize("where", ["before", "after"])
def test_common_options_work_before_or_after_the_subcommand(session, invoke, where,
                                                            isolated_home, aliyun_path):
    write_precheck_cache(isolated_home, aliyun_path, profile="prod")
    expected = product("get-sms-sign", "--sign-name", "S", region="cn-shanghai") + [
        "--profile", "prod"]
    session.register(expected, stdout=answer(SIGN_OK))
    common = ["-r", "cn-shanghai", "--profile", "prod"]
    args = (common + ["query-sign", "-s", "S"]) if where == "before" else (
        ["query-sign", "-s", "S"] + common)
    assert invoke(*args).code == 0
    assert list(session.calls[2]) == expected


def test_region_defaults_to_the_environment(session, invoke, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_REGION_ID", "ap-southeast-1")
    expected = product("get-sms-sign", "--sign-name", "S", region="ap-southeast-1")
    session.register(expected, stdout=answer(SIGN_OK))
    assert invoke("query-sign", "-s", "S").code == 0


@pytest.mark.parametrize(("args", "expected"), [(e[0], e[1]) for e in EXAMPLES])
def test_dry_run_prints_the_same_commands_and_runs_nothing(fp, invoke, args, expected,
                                                          monkeypatch):
    import shlex

    from sms_skill import operations

    monkeypatch.setattr(operations, "new_out_id", lambda: OUT_ID)

    result = invoke("--dry-run", *args)
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)  # not a terminal: one JSON document
    assert plan["dry_run"] is True
    assert plan["argv"] == [expected]
    assert plan["commands"] == [shlex.join(expected)]
    table = invoke("--dry-run", "--format", "table", *args)
    assert table.stdout.splitlines() == [shlex.join(expected)]
    assert list(fp.calls) == []


def test_dry_run_verify_lists_the_checks_then_the_send(fp, invoke):
    result = invoke(*EXAMPLES[0][0], "--verify", "--dry-run")
    actions = [argv[2] for argv in json.loads(result.stdout)["argv"]]
    assert actions == ["get-sms-sign", "get-sms-template", "send-sms"]
    assert list(fp.calls) == []


@pytest.mark.parametrize("words", [
    ["aliyun", "dysmsapi", "send-sms", "--template-param", '{"code":"1"}'],
    ["", "it's", "a b", "$HOME", "*", "900619746936498440^0", "多", "a\nb", "-x=y", "'"],
])
def test_printed_commands_read_back_as_the_same_words(words):
    """A dry run's command line, pasted into a shell, runs exactly the argv it shows."""
    import shlex

    from sms_skill.builder import shell_line

    assert shlex.split(shell_line(words)) == words
    assert shell_line(words) == shlex.join(words)
