"""The one place that starts processes: runs an aliyun argv and captures what it printed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
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

    The call is stopped after ``timeout`` seconds, or as soon as it prints more than
    OUTPUT_CAP on a stream. Everything it printed is redacted before anyone sees it.
    It runs in a session of its own: signals sent to our process group (Ctrl-C) do not cut
    it short, the run decides, and it ends with all it started (a child left holding its
    output must not hold the run, nor outlive it).

    stdin is an empty pipe, not a terminal or ``/dev/null``: the CLI only prompts to install
    a missing plugin when stdin is a character device, and a prompt must never block a run.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=full_env, start_new_session=True)
    except FileNotFoundError as exc:
        raise EnvironmentProblem("the aliyun CLI is not installed (not found on PATH);",
                                 install_hint()) from exc
    except OSError as exc:  # E2BIG and the like: the command could not start at all
        raise EnvironmentProblem(f"could not start aliyun ({exc.strerror});",
                                 f"run `{prog.name()} precheck`.") from exc
    streams = {"stdout": _Capture(proc, proc.stdout), "stderr": _Capture(proc, proc.stderr)}
    reaper = _Reaper(proc)
    timed_out = False
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        proc.stdin.close()
        if not reaper.ended_within(timeout):
            timed_out = True
            _stop(proc, reaper)
    except BaseException:  # interrupted: the call must not outlive the run
        _stop(proc, reaper)
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
        _signal_group(proc, signal.SIGKILL)  # whatever it left behind
        for capture in streams.values():
            capture.join()
    out, err = (redaction.redact(c.text()) for c in streams.values())
    truncated = any(c.truncated for c in streams.values())
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


class _Reaper:
    """Waits for the process in a thread blocked in waitpid, not with ``wait(timeout)``:
    that one polls with sleeps growing to 50 ms, adding up to 50 ms to every call (and a
    campaign's chunks wait on their calls one after another)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self._proc = proc
        self.exited = threading.Event()
        self._hung = False
        threading.Thread(target=self._reap, name="aliyun-wait", daemon=True).start()

    def _reap(self) -> None:
        try:
            self._proc.wait()
        except subprocess.TimeoutExpired:  # a stand-in process (tests) playing a hung one
            self._hung = True
        finally:
            self.exited.set()

    def ended_within(self, timeout: float) -> bool:
        return self.exited.wait(timeout) and not self._hung


def _stop(proc: subprocess.Popen, reaper: _Reaper) -> None:
    _signal_group(proc, signal.SIGKILL)
    reaper.exited.wait(5)  # unkillable (uninterruptible sleep): the run goes on without it


class _Capture:
    """Reads one of the child's streams in a thread, keeping at most OUTPUT_CAP bytes; past
    that it stops the child."""

    def __init__(self, proc: subprocess.Popen, stream) -> None:
        self._proc, self._stream = proc, stream
        self._parts: list[bytes] = []
        self._size = 0
        self.truncated = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        read = getattr(self._stream, "read1", self._stream.read)
        try:
            while chunk := read(_READ_SIZE):
                if self._size + len(chunk) > OUTPUT_CAP:
                    self.truncated = True
                    self._parts.append(chunk[:OUTPUT_CAP - self._size])
                    _signal_group(self._proc, signal.SIGKILL)
                    return
                self._parts.append(chunk)
                self._size += len(chunk)
        except (OSError, ValueError):
            return  # the pipe was closed under us: keep what was read

    def join(self) -> None:
        # Its group is gone by now; a grandchild that left it (setsid) and holds the pipe
        # open must not hold the run: give up soon.
        self._thread.join(timeout=1)
        if not self._thread.is_alive():
            self._stream.close()

    def text(self) -> str:
        return b"".join(self._parts).decode("utf-8", "replace")
