"""--verify: approved signature and template, every template variable given."""

from __future__ import annotations

import pytest

from tests.unit.helpers import SEND_OK, answer, product

SIGN = product("get-sms-sign", "--sign-name", "MySign")
TEMPLATE = product("get-sms-template", "--template-code", "SMS_1")
ARGS = ["send", "-p", "13800138000", "-s", "MySign", "-t", "SMS_1", "--verify"]
CARRIERS = [{"OperatorCode": "mobile", "RegisterStatus": 1},
            {"OperatorCode": "unicom", "RegisterResult": 0},
            {"OperatorCode": "telecom", "RegisterStatus": 2}]


def sign(status, carriers=None):
    return {"Code": "OK", "SignName": "MySign", "SignStatus": status, "RequestId": "R",
            "SignIspRegisterDetailList": carriers or []}


def template(status, content="Your code is ${code}"):
    return {"Code": "OK", "TemplateCode": "SMS_1", "TemplateStatus": status,
            "TemplateContent": content, "RequestId": "R"}


@pytest.fixture
def verified(session):
    session.register(["aliyun", "dysmsapi", "send-sms", session.any()], stdout=answer(SEND_OK))
    return session


def sent(fp) -> bool:
    return any("send-sms" in call for call in fp.calls)


@pytest.mark.parametrize("status", [1, "1"])
def test_approved_as_number_or_string_sends(verified, invoke, status):
    verified.register(SIGN, stdout=answer(sign(status)))
    verified.register(TEMPLATE, stdout=answer(template(status)))
    result = invoke(*ARGS, "-tp", '{"code":"1"}')
    assert result.code == 0, result.stderr
    assert sent(verified)


@pytest.mark.parametrize(("status", "word"), [(0, "under review"), (2, "rejected"),
                                              ("10", "cancelled"), (None, "missing")])
def test_a_signature_not_approved_refuses_the_send(verified, invoke, status, word):
    verified.register(SIGN, stdout=answer(sign(status)))
    verified.register(TEMPLATE, stdout=answer(template(1)))  # looked up at the same time
    result = invoke(*ARGS, "-tp", '{"code":"1"}')
    assert result.code == 4
    assert word in result.stderr and "list-signs --approved" in result.stderr
    assert not sent(verified)


@pytest.mark.parametrize(("status", "word"), [("0", "under review"), ("2", "rejected"),
                                              (10, "cancelled")])
def test_a_template_not_approved_refuses_the_send(verified, invoke, status, word):
    verified.register(SIGN, stdout=answer(sign(1)))
    verified.register(TEMPLATE, stdout=answer(template(status)))
    result = invoke(*ARGS, "-tp", '{"code":"1"}')
    assert result.code == 4 and word in result.stderr
    assert "list-templates --approved" in result.stderr
    assert not sent(verified)


def test_carrier_registration_is_shown_and_never_blocks(verified, invoke):
    verified.register(SIGN, stdout=answer(sign(1, CARRIERS)))
    verified.register(TEMPLATE, stdout=answer(template("1")))
    result = invoke(*ARGS, "-tp", '{"code":"1"}')
    assert result.code == 0
    assert ("mobile: registered, unicom: registering, telecom: registration failed"
            in result.stderr)


def test_a_missing_template_variable_is_named(verified, invoke):
    verified.register(SIGN, stdout=answer(sign(1)))
    verified.register(TEMPLATE, stdout=answer(template(
        "1", "Your code is ${code}, valid ${minutes} min")))
    result = invoke(*ARGS, "-tp", '{"code":"1"}')
    assert result.code == 4
    assert "minutes" in result.stderr and "code" not in result.stderr.split("variable(s)")[1][:9]
    assert not sent(verified)


def test_an_unused_key_is_only_a_warning(verified, invoke):
    verified.register(SIGN, stdout=answer(sign(1)))
    verified.register(TEMPLATE, stdout=answer(template("1")))
    result = invoke(*ARGS, "-tp", '{"code":"1","extra":"x"}')
    assert result.code == 0
    assert "warning" in result.stderr and "extra" in result.stderr


def test_batch_checks_every_distinct_signature_and_every_recipients_variables(verified, invoke):
    for name in ("A", "B"):
        verified.register(product("get-sms-sign", "--sign-name", name),
                          stdout=answer(sign(1) | {"SignName": name}))
    verified.register(TEMPLATE, stdout=answer(template("1")))
    result = invoke("batch-send", "--phone-number-json", '["13800138000","13900139000"]',
                    "--sign-name-json", '["B","A"]', "-t", "SMS_1",
                    "--template-param-json", '[{"code":"1"},{"nope":"2"}]', "--verify")
    assert result.code == 4 and "recipient 2" in result.stderr
    signs = [c[c.index("--sign-name") + 1] for c in verified.calls if "get-sms-sign" in c]
    assert signs == ["A", "B"]
