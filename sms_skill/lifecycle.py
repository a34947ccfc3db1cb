"""Signals become an exception, so that every exit path runs the same cleanup."""

from __future__ import annotations

# _signal: the C module under ``signal``, with the same functions and constants but not the
# enum classes that ``signal`` builds on import (a millisecond of every start-up).
import _signal
import contextlib
import os
from collections.abc import Iterator

#: The signals handled, with the exit code each ends the run with, and their names.
HANDLED = {_signal.SIGINT: 130, _signal.SIGTERM: 143, _signal.SIGHUP: 129}
NAMES = {_signal.SIGINT: "SIGINT", _signal.SIGTERM: "SIGTERM", _signal.SIGHUP: "SIGHUP"}
BROKEN_PIPE_EXIT = 141


class Interrupted(BaseException):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP (not an Exception: nothing
    may swallow it on the way out)."""

    def __init__(self, signum: int) -> None:
        super().__init__(NAMES[signum])
        self.signum = signum
        self.exit_code = HANDLED[signum]
        #: What to do next, when the run knows (a send was under way, say).
        self.hint = ""


def _raise(signum: int, _frame: object) -> None:
    # Cleanup (switching AI mode off) must not be cut short by a second signal.
    for sig in HANDLED:
        _signal.signal(sig, _signal.SIG_IGN)
    raise Interrupted(signum)


_INSTALLED = []


def install_signal_handlers() -> None:
    """Signals become Interrupted; any the shim held while Python started arrive now.
    Once per process: installing again could meet a signal halfway, outside any handler of
    Interrupted (a traceback), or undo the SIG_IGN that the first one set."""
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    for sig in HANDLED:
        _signal.signal(sig, _raise)
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, set(HANDLED))


def ignore_signals() -> None:
    """Once the exit code is decided: a late signal must not print a traceback (nor, held
    back, kill the interpreter while it shuts down and resets its handlers)."""
    for sig in HANDLED:
        _signal.signal(sig, _signal.SIG_IGN)
    _signal.pthread_sigmask(_signal.SIG_BLOCK, set(HANDLED))


def end_process(code: int) -> None:
    """Exit with ``code`` once the run is over: the exit handlers run (AI mode off, should
    anything have left it on), output is flushed, and then, with no other thread alive, the
    interpreter's teardown is skipped. Freeing every loaded module costs each run about
    10 ms of CPU, and an agent starts the shim on every step."""
    import atexit
    import sys

    threading = sys.modules.get("threading")
    # (Python 3.12+: cProfile and coverage may watch through sys.monitoring, tools 0 to 5.)
    monitoring = getattr(sys, "monitoring", None)
    watched = sys.getprofile() or sys.gettrace() or (
        monitoring is not None and any(monitoring.get_tool(tool) for tool in range(6)))
    if ((threading is not None and threading.active_count() > 1) or watched
            or not hasattr(atexit, "_run_exitfuncs")):
        # Threads to wait for, a profiler or coverage to write its report at exit, or a
        # Python without the hook: the usual way.
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed or gone: nothing more can reach it
            pass
    os._exit(code)


def quiet_exit(exc: BaseException) -> None:
    """Exit for a signal that came before any work started: one line, no traceback."""
    import sys

    ignore_signals()
    interrupted = exc if isinstance(exc, Interrupted) else Interrupted(_signal.SIGINT)
    print(f"error: interrupted by {interrupted}; nothing was called or sent.", file=sys.stderr)
    sys.exit(interrupted.exit_code)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends (they are delivered then), so
    that cleanup in progress is not cut short."""
    old = _signal.pthread_sigmask(_signal.SIG_BLOCK, set(HANDLED))
    try:
        yield
    finally:
        _signal.pthread_sigmask(_signal.SIG_SETMASK, old)
