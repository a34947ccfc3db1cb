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
from sms_skill.liveness import is_alive, start_time

REGISTRY = "ai-mode-runs.json"


class AiModeSession:
    """``start()`` before the first aliyun call, ``stop()`` at every exit (idempotent)."""

    def __init__(self, call: Callable[[tuple[str, ...]], object], state_dir: Path) -> None:
        self._call = call
        self._registry = state_dir / REGISTRY
        self._lock = state_dir / (REGISTRY + ".lock")
        self._me = {"pid": os.getpid(), "started": start_time(os.getpid())}
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
        return [e for e in self._read() if is_alive(e.get("pid"), e.get("started", ""))]

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
