"""The package as pip installs it: the ``sms-skill`` script and ``python -m sms_skill`` name
themselves in usage lines, examples and hints (not the shim), and the LICENSE ships."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("sms-skill")
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="the package is not installed")
SEND = ["send", "-p", "13800138000", "-s", "MySign", "-t", "SMS_123456"]


def run(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    return subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, check=False)


@needs_script
def test_the_script_dry_runs_and_names_itself(tmp_path):
    done = run([str(SCRIPT), "--dry-run", *SEND], tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = json.loads(done.stdout)["commands"]  # not a terminal: one JSON document
    assert line.startswith("aliyun dysmsapi send-sms --api-version 2017-05-25 ")
    helped = run([str(SCRIPT), "send", "--help"], tmp_path)
    assert helped.stdout.startswith("Usage: sms-skill send ")
    assert "    sms-skill send -p 13800138000" in helped.stdout
    assert "send_sms.sh" not in helped.stdout


@needs_script
def test_the_script_hints_name_the_script(tmp_path):
    done = run([str(SCRIPT), *SEND], tmp_path)  # no aliyun on PATH
    assert done.returncode == 3
    assert "then run `sms-skill precheck`" in done.stderr
    assert "send_sms.sh" not in done.stderr


def test_python_dash_m_names_itself(tmp_path):
    env = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "sms_skill", "--help"], capture_output=True,
                          text=True, env={**os.environ, **env}, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: python -m sms_skill [OPTIONS] COMMAND")
    assert "    python -m sms_skill precheck" in done.stdout


@needs_script
def test_the_license_is_installed_with_the_package():
    files = importlib.metadata.distribution("alibabacloud-sms-skill").files or []
    licenses = [f for f in files if f.name == "LICENSE"]
    assert licenses, "LICENSE is not in the installed distribution"
    assert "Apache License" in licenses[0].read_text()
