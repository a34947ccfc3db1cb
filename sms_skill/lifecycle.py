"""Signals become an exception, so that every exit path runs the same cleanup."""

from __future__ import annotations

import signal

HANDLED = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
BROKEN_PIPE_EXIT = 141


class Interrupted(BaseException):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP (not an Exception: nothing
    may swallow it on the way out)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = HANDLED.get(signum, 128 + signum)


def _raise(signum: int, _frame: object) -> None:
    # Cleanup (switching AI mode off) must not be cut short by a second signal.
    for sig in HANDLED:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    for sig in HANDLED:
        signal.signal(sig, _raise)
