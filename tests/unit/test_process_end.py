"""How a run ends (lifecycle.end_process): exit handlers run and output is flushed before the
interpreter's teardown is skipped; with another thread still alive, the usual exit waits."""

from __future__ import annotations

import subprocess
import sys

from sms_skill import __version__
from tests.conftest import ROOT

ENDING = """
import atexit, sys, threading, time
from sms_skill.lifecycle import end_process
atexit.register(lambda: print("exit handler ran", file=sys.stderr))
print("result", end="")  # buffered: lost unless flushed
if sys.argv[1] == "thread":
    def late():
        time.sleep(0.3)
        print(" and the thread finished", end="")
    threading.Thread(target=late).start()
end_process(5)
"""


def ended(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENDING, mode], capture_output=True, text=True,
                          cwd=ROOT, check=False, env={"PYTHONPATH": str(ROOT),
                                                      "PATH": "/usr/bin:/bin"})


def test_the_exit_code_output_and_exit_handlers_survive_the_fast_exit():
    done = ended("alone")
    assert done.returncode == 5
    assert done.stdout == "result"
    assert done.stderr == "exit handler ran\n"


def test_a_thread_still_running_is_waited_for():
    done = ended("thread")
    assert done.returncode == 5
    assert done.stdout == "result and the thread finished"
    assert "exit handler ran" in done.stderr


def test_a_profiler_still_writes_its_report(tmp_path):
    """Under cProfile (or coverage) the run ends the usual way: the report is written at
    exit, which skipping the teardown would lose."""
    report = tmp_path / "run.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(report), "-m",
                           "sms_skill", "--version"], capture_output=True, text=True,
                          cwd=tmp_path, check=False,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == __version__  # it ran
    assert report.stat().st_size > 0
