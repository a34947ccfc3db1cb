"""The bench reports no figure for a run that failed."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_a_failing_command_is_not_timed():
    with pytest.raises(bench.RunFailed, match=r"`sh -c echo broken >&2; exit 2` exited 2: broken"):
        bench.alternating({"ok": (["true"], ""),
                           "broken": (["sh", "-c", "echo broken >&2; exit 2"], "")},
                          dict(os.environ), rounds=3)


def test_a_failing_command_has_no_memory_figure():
    with pytest.raises(bench.RunFailed, match="exited 3"):
        bench.peak_rss_mb(["sh", "-c", "exit 3"], dict(os.environ))


def test_passing_commands_are_timed_each():
    medians = bench.alternating({"a": (["true"], ""), "b": (["echo", "hi"], "hi")},
                                dict(os.environ), rounds=3)
    assert set(medians) == {"a", "b"} and all(ms > 0 for ms in medians.values())


def test_a_command_that_prints_nothing_is_not_timed():
    with pytest.raises(bench.RunFailed, match="without printing 'Usage:'"):
        bench.alternating({"help": (["true"], "Usage:")}, dict(os.environ), rounds=3)


def test_the_stand_in_aliyun_accepts_a_send_and_answers_the_pre_check():
    import json
    import subprocess

    env = {**os.environ, "STANDIN_DELAY": "0"}
    send = subprocess.run([str(bench.STANDIN), "dysmsapi", "send-sms", "--phone-numbers", "1"],
                          capture_output=True, text=True, env=env, check=True)
    assert json.loads(send.stdout)["Code"] == "OK"
    version = subprocess.run([str(bench.STANDIN), "version"], capture_output=True, text=True,
                             check=True)
    assert version.stdout.strip() == "3.4.7"
