"""The one place that starts processes: runs an aliyun argv and captures what it printed."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sms_skill import prog, redaction
from sms_skill.errors import EnvironmentProblem


def install_hint() -> str:
    """How to install the aliyun CLI, then what to run."""
    return ("ask the user to install it (it is their machine): `curl -fsSL "
            "https://aliyuncli.alicdn.com/setup.sh | bash`, or on macOS `brew install "
            f"aliyun-cli`; then run `{prog.name()} precheck`.")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Bytes kept of each of stdout and stderr; a call that prints more is stopped.
OUTPUT_CAP = 4 * 1024 * 1024
_READ_SIZE = 64 * 1024


def strip_ansi(text: str) -> str:
    """Remove the colour codes the CLI wraps around ERROR: lines even on a pipe."""
    return _ANSI.sub("", text)


@dataclass
class Completed:
    """What one aliyun process did. ``timed_out`` means we killed it after ``timeout``."""

    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    timeout: float
    timed_out: bool = False
    data: object = field(default=None)
    #: It printed more than OUTPUT_CAP and was stopped: what it said is incomplete.
    truncated: bool = False

    @property
    def problem(self) -> str:
        """Why the call did not succeed, in a few words."""
        if self.timed_out:
            return f"it did not answer within {self.timeout:g} s and was stopped"
        if self.truncated:
            return (f"it printed more than {OUTPUT_CAP // 2**20} MiB, more than any answer "
                    "has, and was stopped")
        if self.returncode is not None and self.returncode < 0:
            return f"it was killed by signal {-self.returncode}"
        return (self.error_text.splitlines() or [f"exit {self.returncode}"])[0]

    @property
    def error_text(self) -> str:
        """stderr then stdout, without colour codes and without the request's details."""
        return redaction.redact_request(strip_ansi(self.stderr + "\n" + self.stdout)).strip()


class _Ambiguous(Exception):
    """An object names a key twice: which value the service meant cannot be told."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Ambiguous
    return result


def parse_json_document(stdout: str) -> object:
    """The one JSON document in the CLI's stdout, or None.

    Plugin install lines may precede the JSON, so decoding starts at the first line that
    opens an object or an array. Output that says two things is unreadable (None): anything
    but whitespace after the document (a second document, say), or a key given twice.
    """
    text = strip_ansi(stdout)
    decoder = json.JSONDecoder(object_pairs_hook=_unique_keys)
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(("{", "[")):
            start = offset + len(line) - len(line.lstrip())
            try:
                document, end = decoder.raw_decode(text, start)
            except _Ambiguous:
                return None
            except (ValueError, RecursionError):  # not JSON, or nested beyond reason
                pass
            else:
                return None if text[end:].strip() else document
        offset += len(line)
    return None


_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()


def stop_running(*, kill: bool = False) -> None:
    """Terminate (or kill) every aliyun process under way: a campaign stopping on a
    signal."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        _signal_group(proc, signal.SIGKILL if kill else signal.SIGTERM)


def run(argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
        ) -> Completed:
    """Run ``argv`` (never through a shell) with stdin closed, capture output, parse JSON.
    ``env`` is the child's whole environment (default: ours).

    The call is stopped after ``timeout`` seconds, or as soon as it prints more than
    OUTPUT_CAP on a stream. Everything it printed is redacted before anyone sees it.
    It runs in a session of its own: signals sent to our process group (Ctrl-C) do not cut
    it short, the run decides, and it ends with all it started (a child left holding its
    output must not hold the run, nor outlive it).

    stdin is an empty pipe, not a terminal or ``/dev/null``: the CLI only prompts to install
    a missing plugin when stdin is a character device, and a prompt must never block a run.
    """
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, start_new_session=True)
    except FileNotFoundError as exc:
        raise EnvironmentProblem("the aliyun CLI is not installed (not found on PATH);",
                                 install_hint()) from exc
    except OSError as exc:  # E2BIG and the like: the command could not start at all
        raise EnvironmentProblem(f"could not start aliyun ({exc.strerror});",
                                 f"run `{prog.name()} precheck`.") from exc
    call = _Call(proc)
    timed_out = False
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        proc.stdin.close()
        if not call.ended_within(timeout):
            timed_out = True
            call.stop()
    except BaseException:  # interrupted: the call must not outlive the run
        call.stop()
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
        _signal_group(proc, signal.SIGKILL)  # whatever it left behind
        call.drain()
    out, err = (redaction.redact(c.text()) for c in call.captures)
    truncated = any(c.truncated for c in call.captures)
    done = Completed(list(argv), None if timed_out else proc.returncode, out, err, timeout,
                     timed_out=timed_out, truncated=truncated)
    if not (timed_out or truncated):
        done.data = parse_json_document(out)
    return done


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    """Signal the call's process group: aliyun and what it started (start_new_session made
    the call the leader of a group of its own, whose id is its pid). A stand-in process
    (tests) has a made-up pid that may name another group: it only gets a plain signal."""
    try:
        if type(proc) is subprocess.Popen and proc.pid > 1:
            os.killpg(proc.pid, signum)
        elif proc.poll() is None:
            proc.send_signal(signum)
    except (ProcessLookupError, PermissionError):
        pass  # all gone already


#: Without a pidfd (not Linux), how often a call still holding its pipes is checked for its
#: end; once they are closed, its end is waited for in waitpid.
_EXIT_POLL_SECONDS = 0.05
#: After the call ended, how long a grandchild that left its group (setsid) and holds its
#: pipes open may keep the run waiting.
_DRAIN_SECONDS = 1.0


class _Call:
    """A started call's output and end, watched by the calling thread alone: one selector
    over both pipes and (on Linux) a pidfd that turns readable when it exits. Three threads
    (a reader per pipe, a waiter in waitpid) cost as much CPU as the rest of the call, and
    ``Popen.wait(timeout)`` polls with sleeps growing to 50 ms, late by that much."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self._proc = proc
        self._ended = False
        self.captures = (_Capture(proc.stdout), _Capture(proc.stderr))
        self._selector = selectors.DefaultSelector()
        for capture in self.captures:
            if capture.fd is None:  # a stand-in's buffer (tests): read at once, never blocks
                self._keep(capture, capture.stream.read(OUTPUT_CAP + 1))
            else:
                self._selector.register(capture.fd, selectors.EVENT_READ, capture)
        self._pidfd = _pidfd(proc)
        if self._pidfd is not None:
            self._selector.register(self._pidfd, selectors.EVENT_READ, None)

    def ended_within(self, timeout: float) -> bool:
        """Read what it prints until it ends, for at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._has_ended():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self._selector.get_map():  # pipes closed, no pidfd: waitpid
                return self._wait(left)
            self._read(left if self._pidfd is not None else min(left, _EXIT_POLL_SECONDS))
        return True

    def stop(self) -> None:
        _signal_group(self._proc, signal.SIGKILL)
        self.ended_within(5)  # unkillable (uninterruptible sleep): the run goes on without it

    def drain(self) -> None:
        """What is left in the pipes once the call ended, then every descriptor closed: a
        pipe still open after ``_DRAIN_SECONDS`` is given up."""
        try:
            if self._pidfd is not None and self._pidfd in self._selector.get_map():
                self._selector.unregister(self._pidfd)
            deadline = time.monotonic() + _DRAIN_SECONDS
            while self._selector.get_map() and (left := deadline - time.monotonic()) > 0:
                self._read(left)
        finally:
            self._selector.close()
            if self._pidfd is not None:
                os.close(self._pidfd)
            for capture in self.captures:
                capture.stream.close()

    def _read(self, timeout: float) -> None:
        for key, _ in self._selector.select(timeout):
            if key.data is None:  # the pidfd: it exited
                self._selector.unregister(key.fd)
                continue
            try:
                chunk = os.read(key.fd, _READ_SIZE)
            except OSError:  # closed under us: keep what was read
                chunk = b""
            if not (chunk and self._keep(key.data, chunk)):
                self._selector.unregister(key.fd)

    def _keep(self, capture: _Capture, chunk: bytes) -> bool:
        """Keep what it printed; False when that was all (or past the cap: it is stopped)."""
        if not capture.keep(chunk):
            _signal_group(self._proc, signal.SIGKILL)
            return False
        return bool(chunk)

    def _has_ended(self) -> bool:
        if not self._ended:
            try:
                self._ended = self._proc.poll() is not None
            except subprocess.TimeoutExpired:  # a stand-in process (tests) playing a hung one
                pass
        return self._ended

    def _wait(self, timeout: float) -> bool:
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self._ended = True
        return True


def _pidfd(proc: subprocess.Popen) -> int | None:
    """A descriptor that turns readable when the call exits (Linux 5.3+), or None."""
    if type(proc) is not subprocess.Popen or not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(proc.pid)
    except OSError:  # an older kernel, or already reaped
        return None


class _Capture:
    """What the child printed on one stream, at most OUTPUT_CAP bytes."""

    def __init__(self, stream) -> None:
        self.stream = stream
        try:
            self.fd: int | None = stream.fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation: not an OS pipe
            self.fd = None
        self._parts: list[bytes] = []
        self._size = 0
        self.truncated = False

    def keep(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False past the cap (the part that fits is kept)."""
        if self._size + len(chunk) > OUTPUT_CAP:
            self.truncated = True
            self._parts.append(chunk[:OUTPUT_CAP - self._size])
            self._size = OUTPUT_CAP
            return False
        self._parts.append(chunk)
        self._size += len(chunk)
        return True

    def text(self) -> str:
        return b"".join(self._parts).decode("utf-8", "replace")
