"""AI mode for the length of a run, shared safely by runs that overlap.

The aliyun CLI keeps AI mode as one flag per user. Every run that calls aliyun registers
itself in a small file under a lock; only the last live run out switches AI mode off.
Entries of runs that died without cleaning up (SIGKILL) are dropped when found, and any
later run that finds only such entries switches AI mode off for them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from sms_skill import builder, lifecycle, paths
from sms_skill.errors import EnvironmentProblem
from sms_skill.liveness import is_alive, start_time

REGISTRY = "ai-mode-runs.json"
DISABLE_ATTEMPTS = 2


class AiModeSession:
    """``start()`` before the first aliyun call, ``stop()`` at every exit (idempotent).

    ``call(argv, **options)`` runs one aliyun command; for the switch-off it is given
    ``check=False`` and must return what ran (``returncode``, ``timed_out``).
    """

    def __init__(self, call: Callable[..., object], state_dir: Path) -> None:
        self._call = call
        self._registry = state_dir / REGISTRY
        self._lock = state_dir / (REGISTRY + ".lock")
        self._me = {"pid": os.getpid(), "started": start_time(os.getpid())}
        self.active = False

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        """The registry's lock, waited for at most paths.LOCK_WAIT (then an OSError: the
        start refuses with exit 3, the stop decides without it)."""
        return paths.exclusive(self._lock)

    def _read(self) -> list[dict]:
        try:
            entries = json.loads(self._registry.read_text())
        except (OSError, ValueError):
            return []  # missing, or half-written by a run that died: start afresh
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    def _write(self, entries: list[dict]) -> None:
        paths.write_private(self._registry, json.dumps(entries))

    def live_runs(self) -> list[dict]:
        """Registered runs whose process still exists."""
        return [e for e in self._read() if is_alive(e.get("pid"), e.get("started", ""))]

    def start(self) -> None:
        """Register this run and switch AI mode on (under the lock, so no run in the middle
        of stopping can switch it off after us). A registry that cannot be written is a
        StorageProblem, raised before AI mode is touched."""
        if self.active:
            return
        try:
            with self._locked():
                entries = [e for e in self.live_runs() if e.get("pid") != self._me["pid"]]
                self._write(entries + [self._me])
                self.active = True
                self._call(builder.AI_MODE_ENABLE)
                self._call(builder.AI_MODE_SET_USER_AGENT)
        except OSError as exc:
            raise paths.storage_problem(self._registry.parent, exc, "XDG_CACHE_HOME") from exc

    def stop(self) -> None:
        """Unregister; switch AI mode off when no other live run remains. The switch-off
        happens even when the registry cannot be written (a full or read-only disk)."""
        if not self.active:
            return
        with lifecycle.signals_deferred():  # from here to the switch-off, nothing cuts in
            self._stop()

    def _stop(self) -> None:
        self.active = False
        try:
            with self._locked():
                others = [e for e in self.live_runs() if e.get("pid") != self._me["pid"]]
                if not others:
                    self._switch_off()  # before the registry write, which a full disk fails
                with contextlib.suppress(OSError):  # our entry is dropped as dead later
                    self._write(others)
        except OSError:
            # No lock: decide without it. Leaving AI mode on is what the contract forbids.
            if not [e for e in self.live_runs() if e.get("pid") != self._me["pid"]]:
                self._switch_off()

    def clean_up_dead(self) -> bool:
        """Switch AI mode off for runs that died without doing it (SIGKILL): True when
        the registry held only dead runs. Never creates the registry."""
        if not self._registry.exists() or not self._read():
            return False
        with self._locked():
            entries = self._read()
            if not entries or any(is_alive(e.get("pid"), e.get("started", ""))
                                  for e in entries):
                return False
            self._switch_off()
            self._write([])
        return True

    def _switch_off(self) -> None:
        """``ai-mode disable``, shielded from our signals and from those sent to our process
        group, and tried once more if it did not complete."""
        with lifecycle.signals_deferred():
            for _attempt in range(DISABLE_ATTEMPTS):
                done = self._call(builder.AI_MODE_DISABLE, check=False)
                if done.returncode == 0 and not done.timed_out:
                    return
        reason = "timed out" if done.timed_out else f"exit {done.returncode}"
        raise EnvironmentProblem(f"`aliyun configure ai-mode disable` failed ({reason});",
                                 "run it by hand.")
