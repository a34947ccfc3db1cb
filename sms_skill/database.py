"""The skill's SQLite database (the send journal and the campaigns), shared by runs that
overlap. Files are private (0600); a database that cannot be used is a StorageProblem
(exit 3) naming the file and what to fix, never an internal error."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sms_skill import paths
from sms_skill.errors import StorageProblem

DB_FILE = paths.JOURNAL_FILE
BUSY_TIMEOUT = 30


def default_path() -> Path:
    return paths.data_dir() / DB_FILE


def storage_error(path: Path, exc: BaseException) -> StorageProblem:
    """What an unusable database means for the user, in one line."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StorageProblem(
            f"the journal {path} stayed locked by another run for {BUSY_TIMEOUT} s;",
            "wait for the other run to end (or stop it), then retry.")
    if "not a database" in text or "malformed" in text:
        return StorageProblem(
            f"the journal {path} is damaged ({text});",
            "move it aside (a new journal starts on the next run) and retry.")
    if "full" in text:
        return StorageProblem(f"the disk holding {path} is full;",
                              "free some space, or point XDG_DATA_HOME at another disk.")
    return paths.storage_problem(path, exc, "XDG_DATA_HOME")


def _storage_failures(error: BaseException) -> bool:
    """Errors of the storage, not of the program (constraint and usage errors stay)."""
    return isinstance(error, (sqlite3.OperationalError, OSError)) or type(error) in (
        sqlite3.DatabaseError, sqlite3.DataError)


class Connection(sqlite3.Connection):
    """A connection whose storage failures surface as StorageProblem."""

    path: Path

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._present: set[tuple[str, str, str]] = set()

    def has_table(self, name: str, schema: str = "") -> bool:
        """Whether ``schema``'s table ``name`` exists (``known.``: an attached database)."""
        return self._has(schema, name, "", lambda: self.execute(
            f"SELECT 1 FROM {schema}sqlite_master WHERE type='table' AND name=?",  # noqa: S608
            (name,)).fetchone() is not None)

    def has_column(self, table: str, column: str, schema: str = "") -> bool:
        """Whether ``schema``'s ``table`` exists with ``column``."""
        return self._has(schema, table, column, lambda: any(
            row[1] == column for row in self.execute(f"PRAGMA {schema}table_info({table})")))

    def _has(self, schema: str, table: str, column: str, probe) -> bool:
        """A schema probe, remembered once true (tables and columns are never dropped),
        asked again while false: another run may create them at any time."""
        key = (schema, table, column)
        if key not in self._present and probe():
            self._present.add(key)
        return key in self._present

    def _guard(self, method, *args):
        try:
            return method(self, *args)
        except (sqlite3.Error, OSError) as exc:
            if _storage_failures(exc):
                raise storage_error(self.path, exc) from exc
            raise

    def execute(self, *args):  # type: ignore[override]
        return self._guard(sqlite3.Connection.execute, *args)

    def executemany(self, *args):  # type: ignore[override]
        return self._guard(sqlite3.Connection.executemany, *args)

    def executescript(self, *args):  # type: ignore[override]
        return self._guard(sqlite3.Connection.executescript, *args)


def connect(path: Path, schema: str, added_columns: dict[str, list[str]] | None = None,
            after: str = "", *, scratch: bool = False) -> Connection:
    """An autocommit connection that waits up to 30 s for other writers.

    ``added_columns`` (table: column definitions) are added to tables an older version
    created without them; ``after`` (indexes on those columns) runs last. A ``scratch``
    database (a dry run's, deleted after the run) keeps a rollback journal, which
    savepoints need, but never waits for the disk (no fsync) nor writes pages twice (WAL);
    never the journal's, whose plans and sends must survive a crash. Its bigger pages make
    fewer, fuller b-tree pages to write (a tenth less CPU in a dry run of 100,000 numbers);
    the page cache stays the same number of bytes.

    Switching to WAL and creating tables happen under a file lock: two runs opening a new
    database at the same moment would otherwise fail with "database is locked", since
    SQLite does not wait (busy timeout) on a journal-mode change.
    """
    try:
        paths.private_file(path)  # SQLite gives its -wal and -shm files the same mode
        db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, isolation_level=None,
                             check_same_thread=False, factory=Connection)
    except (sqlite3.Error, OSError) as exc:
        raise storage_error(path, exc) from exc
    db.path = path
    try:
        # FULL, whatever the build's default: a commit is on disk before the next step
        # (a chunk's in-flight mark before its call); ``immediate(durable=False)`` relaxes it.
        db.execute("PRAGMA synchronous=FULL")
        with paths.exclusive(Path(f"{path}.lock")):
            if scratch:
                db.execute("PRAGMA main.synchronous=OFF")
                db.execute("PRAGMA main.page_size=16384")
            else:
                db.execute("PRAGMA journal_mode=WAL")
            db.executescript(schema)
            for table, columns in (added_columns or {}).items():
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column.split()[0] not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            db.executescript(after)
    except BaseException as exc:
        db.close()
        if isinstance(exc, OSError):  # the lock file: unusable, or held too long
            raise storage_error(path, exc) from exc
        raise
    return db


@contextmanager
def immediate(db: sqlite3.Connection, *, durable: bool = True,
              ) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE), rolled back on any exit
    that is not a normal one.

    ``durable=False``: committed without waiting for the disk (synchronous=NORMAL; in WAL
    mode the database stays consistent, but a power cut may lose this commit). Only for
    writes whose loss is safe, such as a chunk's outcome: lost, the chunk stays in flight,
    which the next run takes as unknown, for ``reconcile``. The next durable commit syncs
    it too (the WAL is written in order)."""
    if not durable:
        db.execute("PRAGMA synchronous=NORMAL")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        if not durable:
            db.execute("PRAGMA synchronous=FULL")


def local_time(stamp: float) -> str:
    """A stored epoch time as the user reads it, with its UTC offset (the service's own
    calendar is UTC+8: see ``service_day``)."""
    return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(stamp))


def service_day(stamp: float) -> str:
    """The day (yyyyMMdd) of a stored epoch time on the service's calendar (UTC+8): what
    ``query-status --send-date`` takes."""
    return time.strftime("%Y%m%d", time.gmtime(stamp + 8 * 3600))
