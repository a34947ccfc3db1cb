"""The registry of live runs that decides who switches AI mode off."""

from __future__ import annotations

import json
import subprocess
import sys

from sms_skill.aimode import REGISTRY, AiModeSession
from sms_skill.runner import Completed

ENABLE = ("aliyun", "configure", "ai-mode", "enable")
DISABLE = ("aliyun", "configure", "ai-mode", "disable")


def session(tmp_path, calls):
    def call(argv, **_options):
        calls.append(argv[3])
        return Completed(list(argv), 0, "", "", 10)

    return AiModeSession(call, tmp_path)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_lone_run_enables_then_disables(tmp_path):
    calls = []
    run = session(tmp_path, calls)
    run.start()
    run.stop()
    run.stop()  # idempotent
    assert calls == ["enable", "set-user-agent", "disable"]


def test_a_live_other_run_keeps_ai_mode_on(tmp_path):
    calls = []
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / REGISTRY).write_text(json.dumps([{"pid": other.pid, "started": ""}]))
        run = session(tmp_path, calls)
        run.start()
        run.stop()
        assert calls == ["enable", "set-user-agent"]
        assert [e["pid"] for e in json.loads((tmp_path / REGISTRY).read_text())] == [other.pid]
    finally:
        other.kill()
        other.wait()


def test_an_entry_left_by_a_killed_run_is_dropped(tmp_path):
    calls = []
    (tmp_path / REGISTRY).write_text(json.dumps([{"pid": dead_pid(), "started": ""}]))
    run = session(tmp_path, calls)
    run.start()
    run.stop()
    assert calls[-1] == "disable"
    assert json.loads((tmp_path / REGISTRY).read_text()) == []


def test_a_reused_pid_with_another_start_time_counts_as_gone(tmp_path):
    import os

    calls = []
    (tmp_path / REGISTRY).write_text(json.dumps([{"pid": os.getppid(), "started": "1"}]))
    run = session(tmp_path, calls)
    run.start()
    run.stop()
    assert calls[-1] == "disable"


def test_a_corrupt_or_half_written_registry_is_survived(tmp_path):
    for garbage in ('[{"pid": 12', "not json", '{"pid": 1}', "[1, null, {}]"):
        calls = []
        (tmp_path / REGISTRY).write_text(garbage)
        run = session(tmp_path, calls)
        run.start()
        run.stop()
        assert calls == ["enable", "set-user-agent", "disable"], garbage
