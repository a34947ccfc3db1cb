"""Two identical sends started together: exactly one reaches aliyun."""

from __future__ import annotations

from tests.e2e.conftest import needs_fake_log
from tests.fake_aliyun import scenarios

pytestmark = needs_fake_log

SEND = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
        "-tp", '{"code":"123456"}']


def test_two_overlapping_identical_sends_make_one_send(world):
    assert world.run("precheck").code == 0
    world.mock(scenarios.send_ok(times=0, delay_ms=1000))
    first, second = world.start(*SEND), world.start(*SEND)
    outcomes = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=60)
        outcomes.append((proc.returncode, err))
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 6], outcomes
    refused = next(err for code, err in outcomes if code == 6)
    assert "may have got it" in refused or "already got this message" in refused
    sends = [e for e in world.product_calls() if e["argv"][1] == "send-sms"]
    assert len(sends) == 1
    assert world.ai_mode()["enabled"] is False


def test_force_sends_the_same_message_again(world):
    world.mock(scenarios.send_ok(times=0))
    assert world.run(*SEND).code == 0
    assert world.run(*SEND).code == 6
    assert world.run(*SEND, "--force").code == 0
    assert sum(1 for e in world.product_calls() if e["argv"][1] == "send-sms") == 2


def test_a_send_interrupted_mid_call_is_unknown_and_blocks_a_resend(world):
    import signal

    world.mock(scenarios.hang())
    proc = world.start(*SEND)
    world.wait_for_call("send-sms")
    stopped = world.interrupt(proc, signal.SIGTERM)
    assert stopped.code == 143
    # The user is told the message may have gone out, and what to do instead of resending.
    assert "may have gone out" in stopped.stderr and "reconcile" in stopped.stderr
    assert world.run("history").json()[0]["Outcome"] == "unknown"
    world.mock(scenarios.send_ok(times=0))
    again = world.run(*SEND)
    assert again.code == 6 and "query-status -p 13800138000" in again.stderr


def test_a_send_interrupted_before_its_call_may_be_made_again(world):
    import signal

    world.mock(scenarios.mock_record("version", stdout="3.4.11\n", delay_ms=60_000))
    proc = world.start(*SEND)
    world.wait_for_call("version")
    assert world.interrupt(proc, signal.SIGINT).code == 130
    history = world.run("history").json()
    assert (history[0]["Outcome"], history[0]["Code"]) == ("failed", "interrupted")
    world.mock(scenarios.send_ok(times=0))
    assert world.run(*SEND).code == 0
