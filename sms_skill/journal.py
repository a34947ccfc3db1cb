"""The send journal: every real send, so that the same send is not made twice by accident.

SQLite under the user's data folder. A send is reserved (``pending``) inside an immediate
transaction before aliyun is called, so of two overlapping identical sends only one gets
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

from sms_skill import database, prog, tunables
from sms_skill.errors import DuplicateSend
from sms_skill.liveness import is_alive

#: A send whose outcome is unknown blocks an identical resend for this long.
UNKNOWN_HOLD_SECONDS = 24 * 3600

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
"""


def fingerprint(action: str, recipients: Sequence[str], sign_names: Sequence[str],
                template_code: str, params: object) -> str:
    """Same recipients (in any order), signatures, template and parameters: same value."""
    canonical = json.dumps([action, sorted(recipients), sorted(set(sign_names)), template_code,
                            params], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
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


class Journal:
    """Open with ``Journal()`` (the user's data folder) or ``Journal(path)``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or database.default_path()
        self._db = database.connect(self.path, SCHEMA)
        self.prune(tunables.retention_cutoff())  # the documented retention

    def close(self) -> None:
        self._db.close()

    def _settle_dead(self, db: sqlite3.Connection) -> None:
        """A pending send whose process died (SIGKILL) may have gone out: unknown."""
        for row_id, pid in db.execute("SELECT id, pid FROM sends WHERE outcome='pending'"):
            if pid != os.getpid() and not is_alive(pid):
                db.execute("UPDATE sends SET outcome='unknown' WHERE id=?", (row_id,))

    def reserve(self, *, action: str, recipients: Sequence[str], sign_names: Sequence[str],
                template_code: str, params: object, out_id: str | None,
                force: bool = False) -> int:
        """Record a send about to be made; DuplicateSend (exit 6) if the same one was made
        within the window, is in flight, or ended with an unknown outcome."""
        print_ = fingerprint(action, recipients, sign_names, template_code, params)
        now = time.time()
        with database.immediate(self._db) as db:
            self._settle_dead(db)
            if not force:
                earlier = db.execute(
                    "SELECT created, outcome, biz_id FROM sends WHERE fingerprint=? AND ("
                    "(outcome IN ('ok', 'pending') AND created>=?) OR "
                    "(outcome='unknown' AND created>=?)) ORDER BY created DESC LIMIT 1",
                    (print_, now - tunables.seconds(tunables.DUPLICATE_WINDOW),
                     now - UNKNOWN_HOLD_SECONDS)).fetchone()
                if earlier:
                    raise _duplicate(earlier, recipients)
            cursor = db.execute(
                "INSERT INTO sends (created, fingerprint, action, recipients, sign_names,"
                " template_code, out_id, pid) VALUES (?,?,?,?,?,?,?,?)",
                (now, print_, action, ",".join(recipients), ",".join(sign_names),
                 template_code, out_id, os.getpid()))
            return int(cursor.lastrowid)

    def finish(self, send_id: int, outcome: str, biz_id: str | None = None,
               code: str | None = None) -> None:
        self._db.execute("UPDATE sends SET outcome=?, biz_id=?, code=?, finished=? WHERE id=?",
                         (outcome, biz_id, code, time.time(), send_id))

    def prune(self, before: float) -> int:
        """Forget sends made before ``before`` (epoch seconds) that are not in progress;
        returns how many."""
        return self._db.execute("DELETE FROM sends WHERE created<? AND outcome!='pending'",
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


def _duplicate(earlier: tuple, recipients: Sequence[str]) -> DuplicateSend:
    created, outcome, biz_id = earlier
    when = database.local_time(created)
    first = recipients[0]
    if outcome == "unknown":
        return DuplicateSend(
            f"the same send was attempted at {when} and its outcome is unknown; "
            "it was not sent again;",
            f"run `{prog.name()} query-status -p {first}` to see whether it arrived; "
            "add --force only if it did not.")
    if outcome == "pending":
        return DuplicateSend("the same send is in progress in another run; "
                             "it was not sent again;", "wait for it, then check `history`.")
    return DuplicateSend(
        f"the same send was made at {when} (BizId {biz_id}); it was not sent again;",
        f"check delivery with `{prog.name()} query-status -p {first} --biz-id "
        f"'{biz_id}'`; add --force to send it once more on purpose.")
