"""No double sends: the journal refuses a repeat within the window; history shows it."""

from __future__ import annotations

import json

from sms_skill.validation import mask
from tests.unit.helpers import SEND_OK, answer, product

ARGS = ["send", "-p", "13800138000,13900139000", "-s", "Sign", "-t", "SMS_1",
        "-tp", '{"code":"1"}']
ARGV = product("send-sms", "--phone-numbers", "13800138000,13900139000", "--sign-name",
               "Sign", "--template-code", "SMS_1", "--template-param", '{"code":"1"}')


def sends(fp) -> int:
    return sum(1 for call in fp.calls if "send-sms" in call)


def test_the_same_send_twice_is_refused_with_exit_6(session, invoke):
    session.register(ARGV, stdout=answer(SEND_OK))
    assert invoke(*ARGS).code == 0
    again = invoke(*ARGS)
    assert again.code == 6
    assert "900619746936498440^0" in again.stderr and "--force" in again.stderr
    assert sends(session) == 1


def test_recipients_in_another_order_are_the_same_send(session, invoke):
    session.register(ARGV, stdout=answer(SEND_OK))
    assert invoke(*ARGS).code == 0
    swapped = list(ARGS)
    swapped[2] = "13900139000,13800138000"
    assert invoke(*swapped).code == 6


def test_force_sends_again(session, invoke):
    session.register(ARGV, stdout=answer(SEND_OK))
    assert invoke(*ARGS).code == 0
    assert invoke(*ARGS, "--force").code == 0
    assert sends(session) == 2


def test_other_params_are_another_send(session, invoke):
    session.register(ARGV, stdout=answer(SEND_OK))
    other = product("send-sms", "--phone-numbers", "13800138000,13900139000", "--sign-name",
                    "Sign", "--template-code", "SMS_1", "--template-param", '{"code":"2"}')
    session.register(other, stdout=answer(SEND_OK))
    assert invoke(*ARGS).code == 0
    assert invoke(*ARGS[:-1], '{"code":"2"}').code == 0


def test_outside_the_window_it_may_be_sent_again(session, invoke, monkeypatch):
    monkeypatch.setenv("SMS_SKILL_DUPLICATE_WINDOW", "0")
    session.register(ARGV, stdout=answer(SEND_OK))
    assert invoke(*ARGS).code == 0
    assert invoke(*ARGS).code == 0


def test_a_failed_send_may_be_retried(session, invoke):
    session.register(ARGV, stdout=answer({"Code": "isv.BUSINESS_LIMIT_CONTROL",
                                          "Message": "limit"}))
    assert invoke(*ARGS).code == 1
    assert invoke(*ARGS).code == 1
    assert sends(session) == 2


def test_an_unknown_outcome_blocks_a_resend_and_names_query_status(session, invoke):
    session.register(ARGV, returncode=1, stderr="ERROR: context deadline exceeded\n")
    assert invoke(*ARGS).code == 5
    again = invoke(*ARGS)
    assert again.code == 6
    assert "outcome is unknown" in again.stderr and "query-status -p 13800138000" in again.stderr
    assert sends(session) == 1


def test_history_lists_sends_with_masked_numbers(session, invoke):
    session.register(ARGV, stdout=answer(SEND_OK))
    invoke(*ARGS)
    result = invoke("history")
    rows = json.loads(result.stdout)
    assert rows[0]["Outcome"] == "ok" and rows[0]["BizId"] == "900619746936498440^0"
    assert rows[0]["Recipients"] == "138****8000,139****9000"
    assert "13800138000" not in result.stdout
    assert "13800138000" in invoke("history", "--no-mask").stdout


def test_dry_run_is_not_journaled(fp, invoke):
    invoke("--dry-run", *ARGS)
    assert json.loads(invoke("history").stdout) == []


def test_mask_keeps_head_and_tail():
    assert mask("13800138000") == "138****8000"
    assert mask("+8613800138000") == "+86****8000"
    assert mask("12345") == "1***5"
