"""The one place that starts processes: runs an aliyun argv and captures what it printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sms_skill.errors import EnvironmentProblem

INSTALL_HINT = (
    "install it with `curl -fsSL https://aliyuncli.alicdn.com/setup.sh | bash` "
    "(macOS: `brew install aliyun-cli`), then run `scripts/send_sms.sh precheck`."
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Go's network errors quote the signed request URL (AccessKeyId, phone numbers, signature),
# and SignatureDoesNotMatch quotes the string to sign: none of that may reach the user.
_URL_QUERY = re.compile(r"(https?://[^\s\"?]+)\?[^\s\"]*")
_KEY_ID = re.compile(r"(AccessKeyId(?:=|%3D))[^&%\s\"]+")
_STRING_TO_SIGN = re.compile(r"(string to sign is:)\S+")


def strip_ansi(text: str) -> str:
    """Remove the colour codes the CLI wraps around ERROR: lines even on a pipe."""
    return _ANSI.sub("", text)


def redact(text: str) -> str:
    """Drop request query strings and AccessKey ids from CLI error text."""
    text = _STRING_TO_SIGN.sub(r"\1 (withheld)", _URL_QUERY.sub(r"\1?...", text))
    return _KEY_ID.sub(r"\1***", text)


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

    @property
    def error_text(self) -> str:
        """stderr then stdout, without colour codes and without request secrets."""
        return redact(strip_ansi(self.stderr + "\n" + self.stdout)).strip()


def parse_json_document(stdout: str) -> object:
    """The JSON document in the CLI's stdout, or None.

    Plugin install lines may precede the JSON, so decoding starts at the first line that
    opens an object or an array.
    """
    text = strip_ansi(stdout)
    decoder = json.JSONDecoder()
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(("{", "[")):
            try:
                return decoder.raw_decode(text, offset + len(line) - len(line.lstrip()))[0]
            except (ValueError, RecursionError):  # not JSON, or nested beyond reason
                pass
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
        try:
            proc.kill() if kill else proc.terminate()
        except OSError:
            pass


def run(
    argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> Completed:
    """Run ``argv`` (never through a shell) with stdin closed, capture output, parse JSON.

    stdin is an empty pipe, not a terminal or ``/dev/null``: the CLI only prompts to install
    a missing plugin when stdin is a character device, and a prompt must never block a run.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace", env=full_env)
    except FileNotFoundError as exc:
        raise EnvironmentProblem("the aliyun CLI is not installed (not found on PATH);",
                                 INSTALL_HINT) from exc
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        try:
            stdout, stderr = proc.communicate(input="", timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                stdout, stderr = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:  # its pipes are held by a grandchild
                stdout, stderr = "", ""
            return Completed(list(argv), None, _text(stdout), _text(stderr), timeout,
                             timed_out=True)
        except BaseException:  # e.g. a signal: the call must not outlive the run
            proc.kill()
            raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
    done = Completed(list(argv), proc.returncode, stdout, stderr, timeout)
    done.data = parse_json_document(stdout)
    return done


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
