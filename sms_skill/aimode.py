"""AI mode for the length of a run, shared safely by runs that overlap.

The aliyun CLI keeps AI mode as one flag per user. Every run that calls aliyun registers
itself in a small file under a lock; only the last live run out switches AI mode off.
Entries of runs that died without cleaning up (SIGKILL) are dropped when found.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from sms_skill import builder

REGISTRY = "ai-mode-runs.json"


def _start_time(pid: int) -> str:
    """The process start time from /proc (guards against a reused pid); empty elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(entry: dict) -> bool:
    pid = entry.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = entry.get("started", "")
    return not started or started == _start_time(pid)


class AiModeSession:
    """``start()`` before the first aliyun call, ``stop()`` at every exit (idempotent)."""

    def __init__(self, call: Callable[[tuple[str, ...]], object], state_dir: Path) -> None:
        self._call = call
        self._registry = state_dir / REGISTRY
        self._lock = state_dir / (REGISTRY + ".lock")
        self._me = {"pid": os.getpid(), "started": _start_time(os.getpid())}
        self.active = False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> list[dict]:
        try:
            entries = json.loads(self._registry.read_text())
        except (OSError, ValueError):
            return []  # missing, or half-written by a run that died: start afresh
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    def _write(self, entries: list[dict]) -> None:
        temp = self._registry.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps(entries))
        os.replace(temp, self._registry)

    def live_runs(self) -> list[dict]:
        """Registered runs whose process still exists."""
        return [e for e in self._read() if _alive(e)]

    def start(self) -> None:
        """Register this run and switch AI mode on (under the lock, so no run in the middle
        of stopping can switch it off after us)."""
        if self.active:
            return
        with self._locked():
            entries = [e for e in self.live_runs() if e.get("pid") != self._me["pid"]]
            self._write(entries + [self._me])
            self.active = True
            self._call(builder.AI_MODE_ENABLE)
            self._call(builder.AI_MODE_SET_USER_AGENT)

    def stop(self) -> None:
        """Unregister; switch AI mode off when no other live run remains."""
        if not self.active:
            return
        self.active = False
        with self._locked():
            others = [e for e in self.live_runs() if e.get("pid") != self._me["pid"]]
            self._write(others)
            if not others:
                self._call(builder.AI_MODE_DISABLE)
