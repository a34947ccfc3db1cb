"""The suppression list: numbers that cannot receive, so later sends skip them.

A delivery receipt whose ``ErrCode`` is marked **Permanent.** in
``references/sms-error-codes.md`` (seen by ``query-status``, ``--wait`` or a reconcile) puts
its number on the list; ``suppression add|remove|import`` manage it by hand. Numbers are
stored by canonical key (``validation.recipient_key``), in the journal's database.

This is a store module: the list's SQL lives here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sms_skill import database, references
from sms_skill.validation import mask, recipient_key

if TYPE_CHECKING:
    import sqlite3

    from sms_skill.database import Connection

SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressed (
    key TEXT PRIMARY KEY, number TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL
);
"""


def skipped_note(count: int) -> str:
    """What a send or campaign says of the numbers it left out as listed."""
    return f"skipped {count} number(s) on the suppression list (`suppression list`)."


def open_list() -> sqlite3.Connection:
    """The journal's database, with the list's table."""
    return database.connect(database.default_path(), SCHEMA)


def add(db: sqlite3.Connection, numbers: Iterable[str], reason: str) -> int:
    """Put numbers on the list (again: the newest reason wins); returns how many."""
    rows = {recipient_key(number): number for number in numbers}
    now = time.time()
    with database.immediate(db):
        db.executemany("INSERT OR REPLACE INTO suppressed (key, number, reason, at) "
                       "VALUES (?,?,?,?)",
                       ((key, number, reason, now) for key, number in rows.items()))
    return len(rows)


def remove(db: sqlite3.Connection, numbers: Iterable[str]) -> int:
    """Take numbers off the list; returns how many were on it."""
    with database.immediate(db):
        return sum(db.execute("DELETE FROM suppressed WHERE key=?",
                              (recipient_key(number),)).rowcount for number in numbers)


def entries(db: sqlite3.Connection, *, unmask: bool = False) -> list[dict]:
    """The list, newest first, numbers masked unless ``unmask``."""
    return [{"Number": number if unmask else mask(number), "Reason": reason,
             "Added": database.local_time(at)}
            for number, reason, at in db.execute(
                "SELECT number, reason, at FROM suppressed ORDER BY at DESC, number")]


def suppressed(db: Connection, keys: Iterable[str], schema: str = "") -> set[str]:
    """The keys among ``keys`` on the list (``schema``: an attached database's list)."""
    if not db.has_table("suppressed", schema):
        return set()
    found = set()
    for key in set(keys):
        if db.execute(f"SELECT 1 FROM {schema}suppressed WHERE key=?", (key,)).fetchone():  # noqa: S608
            found.add(key)
    return found


def campaign_suppressed(db: Connection, campaign_id: str, schema: str = "",
                        chunk: int | None = None) -> set[str]:
    """The keys of a campaign's rows (of one ``chunk``, if given) that are on the list."""
    if not db.has_table("suppressed", schema) or not db.execute(
            f"SELECT 1 FROM {schema}suppressed LIMIT 1").fetchone():  # noqa: S608
        return set()
    # The chunk's condition only when given: (? IS NULL OR ...) would scan every row.
    in_chunk, chunk_args = ("", ()) if chunk is None else ("AND r.chunk=?", (chunk,))
    return {key for (key,) in db.execute(
        f"SELECT r.key FROM campaign_rows r JOIN {schema}suppressed s ON s.key=r.key "  # noqa: S608
        f"WHERE r.campaign_id=? {in_chunk}", (campaign_id, *chunk_args))}


def permanent_failures(records: Iterable[dict], number: str) -> dict[str, str]:
    """number -> ErrCode for receipts that failed (SendStatus 2) with a permanent code."""
    found = {}
    for record in records:
        code = str(record.get("ErrCode") or "")
        if str(record.get("SendStatus")) == "2" and references.is_permanent(code):
            found[str(record.get("PhoneNum") or number)] = code
    return found


def note_receipts(records: Iterable[dict], number: str,
                  report=lambda line: None) -> int:
    """Put the numbers of permanently failed receipts on the list; returns how many. A list
    that cannot be written costs only a warning: the receipts themselves are the answer."""
    from sms_skill.errors import StorageProblem

    failed = permanent_failures(records, number)
    if not failed:
        return 0
    try:
        db = open_list()
    except StorageProblem as exc:
        report(f"warning: could not add {len(failed)} number(s) to the suppression list "
               f"({exc.message})")
        return 0
    try:
        for phone, code in failed.items():
            add(db, [phone], f"receipt {code}")
    finally:
        db.close()
    report(f"suppression: {len(failed)} number(s) cannot receive ("
           + ", ".join(sorted(set(failed.values())))
           + "); later sends skip them (`suppression list`).")
    return len(failed)


def add_numbers(numbers: Iterable[str], reason: str = "added by hand") -> dict:
    """``suppression add``: checked numbers onto the list."""
    from sms_skill import validation

    checked = [validation.phone_number(n, "NUMBER") for n in numbers]
    db = open_list()
    try:
        return {"added": add(db, checked, reason)}
    finally:
        db.close()


def remove_numbers(numbers: Iterable[str]) -> dict:
    """``suppression remove``: numbers off the list (any spelling)."""
    from sms_skill import validation

    checked = [validation.phone_number(n, "NUMBER") for n in numbers]
    db = open_list()
    try:
        removed = remove(db, checked)
    finally:
        db.close()
    return {"removed": removed, "not_listed": len(set(map(recipient_key, checked))) - removed}


def import_file(source: str, reason: str = "imported") -> dict:
    """``suppression import FILE``: one number per line or a CSV with a phone column (``-``:
    stdin). Any bad row refuses the whole file (InputError), listing the bad rows."""
    import sys

    from sms_skill import recipients
    from sms_skill.errors import InputError

    reader, raw = recipients.open_source(source, "FILE")
    try:
        numbers, bad = [], []
        for row in recipients.phone_rows(reader):
            if isinstance(row, recipients.Row):
                numbers.append(row.phone)
            else:
                bad.append(row)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()
    if bad:
        raise InputError("FILE", f"{len(bad)} bad row(s), nothing was imported: "
                         + recipients.describe(bad[:20], len(bad)), "Fix them, then import.")
    if not numbers:
        raise InputError("FILE", "no number in the file")
    db = open_list()
    try:
        return {"imported": add(db, numbers, reason)}
    finally:
        db.close()


def listing(*, unmask: bool = False) -> list[dict]:
    """``suppression list``: masked unless ``unmask``."""
    db = open_list()
    try:
        return entries(db, unmask=unmask)
    finally:
        db.close()
