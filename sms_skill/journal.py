"""The send journal: every real send, for ``history`` and the per-recipient ledger.

SQLite under the user's data folder. A send is reserved (``pending``) inside an immediate
transaction before aliyun is called, and its recipients are checked against and written
to the ledger in that same transaction, so of two overlapping identical sends only one gets
through; the outcome (``ok``, ``failed``, ``unknown``) is written when the call returns.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sms_skill import database, ledger, tunables
from sms_skill.errors import InputError
from sms_skill.liveness import is_alive
from sms_skill.validation import recipient_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    fingerprint TEXT NOT NULL,
    action TEXT NOT NULL,
    recipients TEXT NOT NULL,
    sign_names TEXT NOT NULL,
    template_code TEXT NOT NULL,
    out_id TEXT,
    pid INTEGER NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'pending',
    biz_id TEXT,
    code TEXT,
    finished REAL
);
CREATE INDEX IF NOT EXISTS sends_fingerprint ON sends (fingerprint, created);
""" + ledger.SCHEMA


def fingerprint(action: str, recipients: Sequence[str], sign_names: Sequence[str],
                template_code: str, params: object) -> str:
    """Same recipients (in any order, any spelling), signatures, template and parameters:
    same value."""
    canonical = json.dumps([action, sorted(recipient_key(r) for r in recipients),
                            sorted(set(sign_names)), template_code, params],
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Entry:
    id: int
    created: float
    action: str
    recipients: list[str]
    sign_names: list[str]
    template_code: str
    out_id: str | None
    outcome: str
    biz_id: str | None
    code: str | None


class _Preview(Exception):  # noqa: N818 (not an error: ends a dry run's reserve)
    """A dry run's ``reserve`` ran its checks; raised to roll its writes back."""

    def __init__(self, keep: list[int]) -> None:
        super().__init__()
        self.keep = keep


class Journal:
    """Open with ``Journal()`` (the user's data folder) or ``Journal(path)``; ``prune``
    False (a dry run's preview) keeps the retention pruning for a real send."""

    def __init__(self, path: Path | None = None, *, prune: bool = True) -> None:
        self.path = path or database.default_path()
        self._db = database.connect(self.path, SCHEMA, ledger.ADDED_COLUMNS)
        #: Recipients of the last ``reserve`` left out as on the suppression list.
        self.suppressed = 0
        if prune:
            self.prune(tunables.retention_cutoff())  # the documented retention

    def preview(self, **send: object) -> list[int]:
        """What ``reserve`` would do for a dry run: its refusals (exit 6, 8, or 2 when all
        are suppressed) raised as they would be, the positions it would send to returned,
        nothing written."""
        try:
            self.reserve(**send, record=False)
        except _Preview as done:
            return done.keep
        raise AssertionError("reserve(record=False) always ends in _Preview")

    def close(self) -> None:
        self._db.close()

    def _settle_dead(self, db: sqlite3.Connection) -> None:
        """A pending send whose process died (SIGKILL) may have gone out: unknown."""
        for row_id, pid in db.execute("SELECT id, pid FROM sends WHERE outcome='pending'"):
            if pid != os.getpid() and not is_alive(pid):
                db.execute("UPDATE sends SET outcome='unknown' WHERE id=?", (row_id,))
                ledger.settle(db, f"send-{row_id}", 0, "unknown")

    def reserve(self, *, action: str, recipients: Sequence[str], sign_names: Sequence[str],
                template_code: str, params: object, messages: Sequence[str],
                out_id: str | None, force: bool = False, skip_sent: bool = False,
                signs: Sequence[str | None] | None = None, template_type: object = None,
                record: bool = True) -> tuple[int, list[int]]:
        """Record a send about to be made, and the positions of the recipients it goes to.

        Refused with DuplicateSend (exit 6) when a recipient got, or may have got, the same
        message (``messages[i]`` for ``recipients[i]``) within the duplicate window, unless
        ``force``; ``skip_sent`` leaves those recipients out instead (all of them: refused).
        Refused with OverLimit (exit 8) when one more send to a recipient would exceed a
        per-number limit (``signs[i]`` is recipient i's signature; ``template_type``, when
        known, the template's TemplateType), unless ``force``.
        """
        now = time.time()
        keys = [recipient_key(r) for r in recipients]
        with database.immediate(self._db) as db:
            self._settle_dead(db)
            ledger.prune(db, now)
            keep = self._unsuppressed(db, keys)
            if not force:
                conflicts = ledger.check(db, [recipients[i] for i in keep],
                                         [keys[i] for i in keep],
                                         [messages[i] for i in keep], now)
                if conflicts and skip_sent and len(conflicts.recipients) < len(
                        {keys[i] for i in keep}):
                    keep = [i for i in keep if keys[i] not in conflicts.recipients]
                elif conflicts:
                    raise conflicts.error(single=True, skip_sent=skip_sent)
            ledger.learn_kind(db, template_code, template_type)
            if not force:
                self._check_limits(db, recipients, keys, keep, signs, template_code, now)
            if not record:
                raise _Preview(keep)  # rolls back what the checks wrote (settled, learnt)
            kept = [recipients[i] for i in keep]
            cursor = db.execute(
                "INSERT INTO sends (created, fingerprint, action, recipients, sign_names,"
                " template_code, out_id, pid) VALUES (?,?,?,?,?,?,?,?)",
                (now, fingerprint(action, kept, sign_names, template_code, params), action,
                 ",".join(kept), ",".join(sign_names), template_code, out_id, os.getpid()))
            send_id = int(cursor.lastrowid)
            ledger.record(db, [keys[i] for i in keep], [messages[i] for i in keep],
                          f"send-{send_id}", now=now,
                          signs=[signs[i] for i in keep] if signs else None,
                          template=template_code)
            return send_id, keep

    def _unsuppressed(self, db: sqlite3.Connection, keys: list[str]) -> list[int]:
        """Positions of the recipients not on the suppression list (``self.suppressed``
        counts the others); all of them on it: InputError, nothing is sent."""
        from sms_skill import suppression

        listed = suppression.suppressed(db, keys)
        keep = [i for i, key in enumerate(keys) if key not in listed]
        self.suppressed = len(keys) - len(keep)
        if not keep:
            raise InputError("", f"every recipient ({len(keys)}) is on the suppression list "
                             "(a receipt said the number cannot receive); nothing was sent;",
                             "see `suppression list`; `suppression remove NUMBER` if the "
                             "number works again.")
        return keep

    @staticmethod
    def _check_limits(db: sqlite3.Connection, recipients: Sequence[str], keys: list[str],
                      keep: list[int], signs: Sequence[str | None] | None, template: str,
                      now: float) -> None:
        from sms_skill import limits

        planned = [(recipients[i], keys[i], signs[i] if signs else None) for i in keep]
        history = ledger.recent(db, [keys[i] for i in keep], now - limits.LOOKBACK)
        found = limits.breaches(planned, history, template, ledger.kind_of(db, template), now)
        if found:
            raise limits.refusal(found, len(keep), now)

    def finish(self, send_id: int, outcome: str, biz_id: str | None = None,
               code: str | None = None) -> None:
        with database.immediate(self._db) as db:
            db.execute("UPDATE sends SET outcome=?, biz_id=?, code=?, finished=? WHERE id=?",
                       (outcome, biz_id, code, time.time(), send_id))
            ledger.settle(db, f"send-{send_id}", 0, outcome, biz_id)

    def doubtful(self, since: float) -> list[Entry]:
        """Sends since ``since`` whose outcome is unknown (dead runs' pending ones too)."""
        with database.immediate(self._db) as db:
            self._settle_dead(db)
        rows = self._db.execute(
            "SELECT id, created, action, recipients, sign_names, template_code, out_id,"
            " outcome, biz_id, code FROM sends WHERE outcome='unknown' AND created>=? "
            "ORDER BY id", (since,))
        return [Entry(r[0], r[1], r[2], r[3].split(","), r[4].split(","), *r[5:])
                for r in rows]

    def settle(self, send_id: int, outcome: str) -> None:
        """Reconcile's verdict on an unknown send: ``ok`` (a receipt) or ``failed`` (none
        after the wait: never arrived, so the same send may be made again)."""
        with database.immediate(self._db) as db:
            db.execute("UPDATE sends SET outcome=?, code=? WHERE id=? AND outcome='unknown'",
                       (outcome, "reconciled", send_id))
            ledger.settle(db, f"send-{send_id}", 0, outcome)

    def sharing_out_id(self, out_id: str, recipient: str, start: float, end: float) -> int:
        """How many sends made between ``start`` and ``end`` to ``recipient`` (any spelling)
        carry ``out_id``, leaving out those refused outright (nothing was sent)."""
        key = recipient_key(recipient)
        rows = self._db.execute(
            "SELECT recipients FROM sends WHERE out_id=? AND created>=? AND created<? AND NOT"
            " (outcome='failed' AND COALESCE(code, '')!='reconciled')", (out_id, start, end))
        return sum(1 for (listed,) in rows
                   if key in {recipient_key(r) for r in listed.split(",")})

    def prune(self, before: float) -> int:
        """Forget sends made before ``before`` (epoch seconds) that are not in progress;
        returns how many."""
        with database.immediate(self._db) as db:
            ledger.forget(db, before)
            return db.execute("DELETE FROM sends WHERE created<? AND outcome!='pending'",
                              (before,)).rowcount

    def entries(self, limit: int = 20) -> list[Entry]:
        """The newest sends first."""
        with database.immediate(self._db) as db:
            self._settle_dead(db)
        rows = self._db.execute(
            "SELECT id, created, action, recipients, sign_names, template_code, out_id,"
            " outcome, biz_id, code FROM sends ORDER BY id DESC LIMIT ?", (limit,))
        return [Entry(r[0], r[1], r[2], r[3].split(","), r[4].split(","), *r[5:])
                for r in rows]

