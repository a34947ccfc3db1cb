"""The runner against real processes (sh), not pytest-subprocess: the calling thread alone
reads both pipes and sees the end, yet a hung call is still stopped at its timeout, output
past the cap still stops it, a signal sent by ``stop_running`` still ends it, and a
grandchild holding the pipes does not hold the run."""

from __future__ import annotations

import os
import threading
import time

import pytest

from sms_skill import runner


@pytest.fixture(params=["pidfd", "polling"])
def end_seen_by(request, monkeypatch):
    """With a pidfd (Linux), and without one (other systems): waitpid and polls."""
    if request.param == "polling":
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    elif not hasattr(os, "pidfd_open"):
        pytest.skip("no pidfd on this system")
    return request.param


def sh(script: str, timeout: float = 10) -> tuple[runner.Completed, float]:
    start = time.monotonic()
    done = runner.run(["sh", "-c", script], timeout=timeout)
    return done, time.monotonic() - start


def test_both_streams_are_read_in_full(end_seen_by):
    """Each past a pipe's buffer, so that a writer blocked on the one not read would hang."""
    done, _ = sh("head -c 300000 /dev/zero | tr '\\0' a; head -c 300000 /dev/zero | "
                 "tr '\\0' b >&2; echo '{\"Code\": \"OK\"}'; exit 3")
    assert done.returncode == 3 and not (done.timed_out or done.truncated)
    assert done.stdout == "a" * 300000 + '{"Code": "OK"}\n'
    assert done.stderr == "b" * 300000


def test_a_json_answer_is_parsed(end_seen_by):
    done, _ = sh("echo '{\"Code\": \"OK\"}'")
    assert done.returncode == 0 and done.data == {"Code": "OK"}


def test_a_hung_call_is_killed_at_its_timeout(end_seen_by):
    done, took = sh("echo started; sleep 30", timeout=0.3)
    assert done.timed_out and done.returncode is None
    assert done.stdout == "started\n"
    assert 0.3 <= took < 3


def test_a_call_that_closes_its_pipes_but_runs_on_still_times_out(end_seen_by):
    done, took = sh("exec >&- 2>&-; sleep 30", timeout=0.3)
    assert done.timed_out and 0.3 <= took < 3


def test_output_past_the_cap_stops_the_call(end_seen_by):
    done, took = sh(f"head -c {runner.OUTPUT_CAP + 100000} /dev/zero; sleep 30")
    assert done.truncated and len(done.stdout) == runner.OUTPUT_CAP
    assert took < 5


def test_a_grandchild_holding_the_pipes_does_not_hold_the_run(end_seen_by):
    """It left the call's group (setsid): the call's end, and a short grace, decide."""
    done, took = sh("setsid sleep 5 & sleep 0.2; echo '{\"Code\": \"OK\"}'")
    assert done.returncode == 0 and done.data == {"Code": "OK"}
    assert 1 <= took < 4


def test_stop_running_ends_a_call_under_way(end_seen_by):
    timer = threading.Timer(0.3, runner.stop_running)
    timer.start()
    try:
        done, took = sh("sleep 30")
    finally:
        timer.cancel()
    assert done.returncode == -15 and not done.timed_out
    assert took < 3


def test_no_descriptor_is_left_open(end_seen_by):
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    if before is None:
        pytest.skip("no /proc/self/fd")
    for _ in range(5):
        sh("echo out; echo err >&2")
    sh("sleep 30", timeout=0.2)
    assert len(os.listdir("/proc/self/fd")) == before
