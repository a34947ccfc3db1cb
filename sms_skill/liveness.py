"""Is a run still alive? Used to drop what killed runs (SIGKILL) left behind."""

from __future__ import annotations

import os
from pathlib import Path


def start_time(pid: int) -> str:
    """The process start time from /proc (guards against a reused pid); empty elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def is_alive(pid: object, started: str = "") -> bool:
    """True while process ``pid`` exists (and, when ``started`` is known, is the same one)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not started or started == start_time(pid)
