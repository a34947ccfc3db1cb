"""``python -m sms_skill`` on a Python older than 3.9 refuses in one line (exit 3)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import ROOT
from tests.interpreters import find_python

OLD = [v for v in ("2.7", "3.6", "3.7", "3.8") if find_python(v)]


@pytest.mark.skipif(not OLD, reason="no Python older than 3.9 on this machine")
@pytest.mark.parametrize("version", OLD)
def test_an_old_python_gets_one_line_naming_it(version):
    python = find_python(version)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SMS_SKILL_PYTHON": python}
    done = subprocess.run([python, "-m", "sms_skill", "--help"], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == (f"error: SMS_SKILL_PYTHON={python} is Python {version}; 3.9 or newer "
                           "is required; point SMS_SKILL_PYTHON at a newer python3, or unset it.\n")
