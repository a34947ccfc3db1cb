"""What start-up loads: --help and a dry run stay light (the shim runs on every agent step)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

# Run as the shim runs it; the modules it loads beyond click's own, printed as JSON.
PROBE = """
import atexit
import sys
import click
before = set(sys.modules)

def report():  # the run ends the process: its exit handlers are the last code to run
    loaded = sorted(set(sys.modules) - before - {"sms_skill.__main__"})
    import json
    sys.stderr.write("MODULES " + json.dumps(loaded) + "\\n")

atexit.register(report)
sys.argv = ["-c", *ARGS]
import sms_skill.__main__
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
    # No subcommand is built: the command list comes from cli.SUBCOMMANDS.
    assert {m for m in loaded if m.startswith("sms_skill")} == {
        "sms_skill", "sms_skill.cli", "sms_skill.errors",
        "sms_skill.lifecycle", "sms_skill.output", "sms_skill.prog", "sms_skill.validation",
        "sms_skill.builder"}
    # click before 8.2 loads shutil itself to size help (its own import, not ours to avoid).
    heavy = HEAVY - {"shutil"} if _click_before_8_2() else HEAVY
    assert not loaded & heavy, sorted(loaded & heavy)
    # Nor locale (click's first gettext look-up, for its headings), nor signal's enums.
    assert not loaded & {"locale", "signal", "shlex", "difflib"}, sorted(loaded)


def test_the_command_list_names_each_command_where_it_is_built():
    """cli.SUBCOMMANDS lists every subcommand, the module that builds it, and the line the
    top-level help shows for it: each module builds exactly the commands listed for it."""
    import importlib

    from sms_skill import cli

    for module in {where for where, _ in cli.SUBCOMMANDS.values()}:
        importlib.import_module(f"sms_skill.cli.{module}")
    assert set(cli.cli.commands) == set(cli.SUBCOMMANDS)
    for name, (module, line) in cli.SUBCOMMANDS.items():
        assert cli.cli.commands[name].callback.__module__ == f"sms_skill.cli.{module}", name
        assert line.endswith(".") and len(line) <= 55, name  # one line at 80 columns


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
        "sms_skill.paths",  # paths: whether a journal exists whose refusals to preview
        "sms_skill.cli.sending"}  # the one subcommand module it needs
    # Beyond click and the package: the JSON of -tp. Not difflib (click's suggestions for
    # each short option it parses), locale (click's first gettext look-up), shlex (to print
    # the command) nor signal (its enums): each costs every send up to a millisecond.
    assert not loaded & {"difflib", "heapq", "locale", "shlex", "signal"}, sorted(loaded)
    others = {m for m in loaded if not m.startswith(("sms_skill", "json", "_json"))}
    # (datetime: for a click older than the one that imports it itself)
    # (__future__: our modules import it; a newer Python has it loaded before)
    assert others <= {"datetime", "_datetime", "math", "__future__"}, sorted(others)
