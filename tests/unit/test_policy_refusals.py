"""The tool recognizes the aliyun CLI's safety-policy refusals (facts section 11)."""

from __future__ import annotations

import pytest

from sms_skill import builder, responses
from sms_skill.errors import (
    CONFIRMATION_REQUIRED,
    ENVIRONMENT,
    ConfirmationRequired,
    OutcomeUnknown,
    PolicyDenied,
)
from sms_skill.runner import Completed

CONFIRM = ("\x1b[1;31mERROR: Safety policy requires confirmation for: dysmsapi send-sms\n"
           "This operation cannot run in non-interactive mode without explicit approval. If "
           "you are an agent, ask the user whether this operation is allowed; after they "
           "confirm (e.g. reply yes or 确认), re-run the same command with --yes.\n\x1b[0m")
DENY = ("\x1b[1;31mERROR: operation blocked by safety policy: dysmsapi send-sms "
        "(rule: dysmsapi:send-*)\n\x1b[0m")


def interpret(stderr: str):
    done = Completed(["aliyun", "dysmsapi", "send-sms"], 1, "", stderr, 10)
    return responses.interpret(done, action="SendSms", is_send=True, recipient="13800138000")


def test_a_confirm_rule_is_exit_7_with_what_to_ask():
    with pytest.raises(ConfirmationRequired) as caught:
        interpret(CONFIRM)
    assert caught.value.exit_code == CONFIRMATION_REQUIRED == 7
    text = str(caught.value)
    assert "\n" not in text
    assert "nothing was sent" in text
    assert "your approval for `dysmsapi send-sms` (SendSms)" in text
    assert "re-run the same command with --yes" in text


def test_the_question_says_that_yes_approves_the_send_too():
    """A confirm rule on a lookup (--verify's get-sms-sign) asks about that lookup, but the
    re-run's --yes goes to every call, the send included: the question must say so."""
    with pytest.raises(ConfirmationRequired) as caught:
        interpret(CONFIRM.replace("send-sms", "get-sms-sign"))
    assert "`dysmsapi get-sms-sign`" in str(caught.value)
    assert "--yes approves every aliyun call of this command, including any send" in str(
        caught.value)


def test_a_deny_rule_is_an_environment_refusal_naming_the_rule():
    with pytest.raises(PolicyDenied) as caught:
        interpret(DENY)
    assert caught.value.exit_code == ENVIRONMENT
    assert "(rule: dysmsapi:send-*)" in str(caught.value)


def test_another_unexplained_failure_of_a_send_stays_unknown():
    with pytest.raises(OutcomeUnknown):
        interpret("ERROR: something else\n")


def test_yes_only_when_the_caller_gives_it():
    target = builder.Target()
    assert "--yes" not in builder.product_command("SendSms", {"PhoneNumbers": "1"}, target)
    confirmed = builder.product_command("SendSms", {"PhoneNumbers": "1"}, target,
                                        confirmed=True)
    assert confirmed.count("--yes") == 1
