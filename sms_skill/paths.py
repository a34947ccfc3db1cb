"""Where the skill keeps its own state (a cache folder and a data folder per user), and how
it writes there: folders 0700, files 0600, problems as StorageProblem (exit 3)."""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sms_skill.errors import StorageProblem

if TYPE_CHECKING:  # pathlib costs 3.5 ms of start-up: loaded when a path is first made
    from pathlib import Path

APP = "alibabacloud-sms-skill"
FOLDER_MODE = 0o700
FILE_MODE = 0o600
#: The journal, the ledger, campaigns and the suppression list: one SQLite file in data_dir().
JOURNAL_FILE = "journal.sqlite3"
#: Seconds a run waits for a lock another run holds (as long as SQLite's busy timeout).
LOCK_WAIT = 30.0


def home(required: bool = True) -> Path:
    """``$HOME``; the aliyun CLI keeps AI mode under it, so it must be set and absolute."""
    value = os.environ.get("HOME", "")
    if not os.path.isabs(value):
        if not required:
            return _path("/nonexistent")
        raise StorageProblem("HOME is not set to an absolute folder;",
                             "set HOME to your home folder (the aliyun CLI keeps its "
                             "configuration and AI mode under it).")
    return _path(value)


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def _base_text(variable: str, fallback: str) -> str | None:
    """``$XDG_...`` when it is an absolute path (a relative one is ignored: XDG spec), else
    ``fallback`` under an absolute ``$HOME``; None without either."""
    value = os.environ.get(variable, "")
    if os.path.isabs(value):
        return value
    user_home = os.environ.get("HOME", "")
    return os.path.join(user_home, fallback) if os.path.isabs(user_home) else None


def _base(variable: str, fallback: str) -> Path:
    found = _base_text(variable, fallback)
    return _path(found) if found is not None else home() / fallback  # home() says why not


_DATA = ("XDG_DATA_HOME", ".local/share")


def journal_exists() -> bool:
    """Whether the journal is there, in the folder ``data_dir`` names (looking creates
    nothing, and makes no path object: a dry run asks it)."""
    base = _base_text(*_DATA)
    return base is not None and os.path.exists(os.path.join(base, APP, JOURNAL_FILE))


def _private_dir(path: Path, variable: str) -> Path:
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(FOLDER_MODE)
        probe = path / f".probe.{os.getpid()}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE))
        probe.unlink()
    except OSError as exc:
        raise storage_problem(path, exc, variable) from exc
    return path


@contextlib.contextmanager
def exclusive(path: Path, wait: float | None = None) -> Iterator[None]:
    """An exclusive flock on ``path`` (created 0600), waited for at most ``wait`` seconds:
    a run that was suspended (Ctrl-Z) or hangs must not hold every other run forever.
    ``wait`` defaults to LOCK_WAIT; past it, TimeoutError (an OSError)."""
    import fcntl

    wait = LOCK_WAIT if wait is None else wait
    with open(private_file(path), "a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(errno.ETIMEDOUT, f"held by another run for {wait:.0f} "
                                       "s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def storage_problem(path: Path, exc: BaseException, variable: str = "") -> StorageProblem:
    """One line naming the folder or file, the reason and what to fix."""
    if isinstance(exc, TimeoutError):
        return StorageProblem(f"cannot use {path} ({exc.strerror});",
                              "wait for that run to end, or end it (a run suspended with "
                              "Ctrl-Z holds it: `fg` it, or kill it), then retry.")
    reason = getattr(exc, "strerror", None) or str(exc)
    where = f" or point {variable} at a writable folder" if variable else ""
    return StorageProblem(f"cannot use {path} ({reason});",
                          f"free space or fix its permissions{where}, then retry.")


def cache_dir() -> Path:
    """Pre-check cache and the registry of live runs (``$XDG_CACHE_HOME`` or ~/.cache)."""
    return _private_dir(_base("XDG_CACHE_HOME", ".cache") / APP, "XDG_CACHE_HOME")


def cache_dir_if_present() -> Path | None:
    """The cache folder when it already exists (looking never creates it)."""
    try:
        path = _base("XDG_CACHE_HOME", ".cache") / APP
    except StorageProblem:
        return None
    return path if path.is_dir() else None


def data_dir(create: bool = True) -> Path:
    """The send journal (``$XDG_DATA_HOME`` or ~/.local/share), created (private) unless
    ``create`` is false."""
    path = _base(*_DATA) / APP
    return _private_dir(path, "XDG_DATA_HOME") if create else path


def aliyun_config_file(required: bool = True) -> Path:
    """The aliyun CLI's own profile file; only HOME moves it."""
    return home(required) / ".aliyun" / "config.json"


def private_file(path: Path) -> Path:
    """Create ``path`` (mode 0600) if missing, so that SQLite and lock files start private."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, mode 0600."""
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
