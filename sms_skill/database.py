"""The skill's SQLite database (the send journal and the campaigns), shared by runs that
overlap."""

from __future__ import annotations

import fcntl
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sms_skill import paths

DB_FILE = "journal.sqlite3"


def default_path() -> Path:
    return paths.data_dir() / DB_FILE


def connect(path: Path, schema: str, added_columns: dict[str, list[str]] | None = None,
            after: str = "") -> sqlite3.Connection:
    """An autocommit connection that waits up to 30 s for other writers.

    ``added_columns`` (table: column definitions) are added to tables an older version
    created without them; ``after`` (indexes on those columns) runs last.

    Switching to WAL and creating tables happen under a file lock: two runs opening a new
    database at the same moment would otherwise fail with "database is locked", since
    SQLite does not wait (busy timeout) on a journal-mode change.
    """
    db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(schema)
            for table, columns in (added_columns or {}).items():
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column.split()[0] not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            db.executescript(after)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return db


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE), rolled back on any exit
    that is not a normal one."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def local_time(stamp: float) -> str:
    """A stored epoch time as the user reads it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))
