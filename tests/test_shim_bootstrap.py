"""The shim on a machine whose python3 has neither click nor jmespath."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """A python3 without click or jmespath: a fresh virtual environment's bin folder."""
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import click"],
                           capture_output=True, check=False)
    assert probe.returncode != 0, "the bare interpreter must not see click"
    return venv / "bin"


@pytest.fixture
def skill_copy(tmp_path: Path) -> Path:
    skill = tmp_path / "alibabacloud-sms-send-short-message"
    for part in ("scripts", "sms_skill", "references"):
        shutil.copytree(ROOT / part, skill / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return skill


def test_first_run_builds_a_private_environment_once_then_dry_runs(bare_python, skill_copy):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bare_python}{os.pathsep}/usr/bin{os.pathsep}/bin"
    shim = skill_copy / "scripts" / "send_sms.sh"
    args = [str(shim), "--dry-run", "--format", "table", "send", "-p", "13800138000",
            "-s", "Sign", "-t", "SMS_1", "-o", "order-1"]  # without -o, a new OutId each run

    first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300,
                           check=False)
    assert first.returncode == 0, first.stderr
    assert "first run: creating a private Python environment" in first.stderr
    assert first.stdout.startswith("aliyun dysmsapi send-sms --api-version 2017-05-25 ")
    assert (skill_copy / ".runtime" / "bin" / "python").exists()
    assert not list(skill_copy.glob(".runtime.build.*"))

    second = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60,
                            check=False)
    assert second.returncode == 0
    assert "first run" not in second.stderr
    assert second.stdout == first.stdout
