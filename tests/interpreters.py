"""Find the CPython interpreters of this machine without naming one machine's paths: a
``pythonX.Y`` on PATH that really runs, else pyenv's versions (``$PYENV_ROOT``, ``pyenv root``
or ``~/.pyenv``). Used by the compatibility matrix (noxfile.py) and by tests."""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess


def _runs_as(path: str, version: str) -> bool:
    try:
        done = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def _pyenv_root() -> str:
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    if shutil.which("pyenv"):
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return os.path.expanduser("~/.pyenv")


@functools.cache
def find_python(version: str) -> str | None:
    """The path of a working Python ``version`` ("3.9"), or None."""
    major = version.split(".")[0]
    candidates = [shutil.which(f"python{version}")]
    for name in (f"python{version}", f"python{major}", "python"):
        candidates += sorted(glob.glob(os.path.join(_pyenv_root(), "versions", f"{version}.*",
                                                    "bin", name)), reverse=True)
    for path in candidates:
        if path and _runs_as(path, version):
            return path
    return None
