"""What start-up loads: --help and a dry run stay light (the shim runs on every agent step)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

# Run as the shim runs it; the modules it loads beyond click's own, printed as JSON.
PROBE = """
import sys
import click
before = set(sys.modules)
sys.argv = ["-c", *ARGS]
try:
    import sms_skill.__main__  # exits: sys.modules then lacks it
except SystemExit:
    pass
loaded = sorted(set(sys.modules) - before)
import json
sys.stderr.write("MODULES " + json.dumps(loaded) + "\\n")
"""

HEAVY = {"jmespath", "sqlite3", "json", "subprocess", "threading", "shutil", "runpy",
         "importlib.util", "phonenumbers", "concurrent.futures", "secrets", "hashlib",
         "uuid", "tempfile", "csv", "fcntl"}


def loaded_by(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.replace("ARGS", repr(list(args)))],
                          capture_output=True, text=True, cwd=ROOT, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "LANG": "C.UTF-8",
                               "PYTHONPATH": str(ROOT)})
    [line] = [x for x in done.stderr.splitlines() if x.startswith("MODULES ")]
    return set(json.loads(line[len("MODULES "):]))


def test_help_loads_only_the_cli_and_what_it_prints_with():
    loaded = loaded_by("--help")
    assert {m for m in loaded if m.startswith("sms_skill")} == {
        "sms_skill", "sms_skill.cli", "sms_skill.errors",
        "sms_skill.lifecycle", "sms_skill.output", "sms_skill.prog", "sms_skill.validation",
        "sms_skill.builder"}
    # click before 8.2 loads shutil itself to size help (its own import, not ours to avoid).
    heavy = HEAVY - {"shutil"} if _click_before_8_2() else HEAVY
    assert not loaded & heavy, sorted(loaded & heavy)


def _click_before_8_2() -> bool:
    from importlib.metadata import version

    major, minor = (int(part) for part in version("click").split(".")[:2])
    return (major, minor) < (8, 2)


def test_a_dry_run_send_loads_no_storage_no_processes_no_threads():
    loaded = loaded_by("--dry-run", "send", "-p", "13800138000", "-s", "AliyunDemo",
                       "-t", "SMS_123456", "-tp", '{"code":"123456"}')
    assert not loaded & (HEAVY - {"json"}), sorted(loaded & HEAVY)
    assert "sms_skill.client" in loaded  # it did build the command
    assert {m for m in loaded if m.startswith("sms_skill")} == {
        "sms_skill", "sms_skill.cli", "sms_skill.errors", "sms_skill.lifecycle",
        "sms_skill.output", "sms_skill.prog", "sms_skill.validation", "sms_skill.builder",
        "sms_skill.client", "sms_skill.operations", "sms_skill.api", "sms_skill.tunables",
        "sms_skill.paths"}  # paths: whether a journal exists whose refusals to preview
    # Beyond click and the package: the JSON of -tp, shlex to print the command, signal for
    # the handlers. Not difflib (click's suggestions for each short option it parses) nor
    # locale (click's first gettext look-up): both cost a millisecond on every send.
    assert not loaded & {"difflib", "heapq", "locale"}, sorted(loaded)
    others = {m for m in loaded if not m.startswith(("sms_skill", "json", "_json"))}
    # (datetime: for a click older than the one that imports it itself)
    # (__future__: our modules import it; a newer Python has it loaded before)
    assert others <= {"shlex", "signal", "datetime", "_datetime", "math", "__future__"}, \
        sorted(others)
