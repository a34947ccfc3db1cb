"""The per-recipient ledger: who got which message, or may have got it.

One row per recipient of every send that was accepted (``ok``), is under way (``pending``)
or ended with an unknown outcome (``unknown``), from single sends, batch sends and
campaigns alike. A send that failed (proof that nothing was sent) leaves no row. Rows are
keyed by the canonical recipient (``validation.recipient_key``) and the message: the
fingerprint of signature, template and parameters. A new send to someone who got, or may
have got, the same message within the duplicate window is refused (exit 6).

This is a store module: the ledger's SQL lives here. Callers pass a connection inside
their own write transaction, so that checking and recording are one step.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sms_skill import prog, tunables
from sms_skill.errors import DuplicateSend
from sms_skill.validation import mask

if TYPE_CHECKING:  # the dry-run path computes message keys without opening any database
    import sqlite3

    from sms_skill.database import Connection

#: A send whose outcome is unknown (or that never recorded one) blocks the same message to
#: the same recipient for this long.
UNKNOWN_HOLD_SECONDS = 24 * 3600
SAMPLES = 5

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    recipient TEXT NOT NULL, message TEXT NOT NULL, at REAL NOT NULL, state TEXT NOT NULL,
    origin TEXT NOT NULL, part INTEGER NOT NULL DEFAULT 0, biz_id TEXT
);
CREATE INDEX IF NOT EXISTS ledger_recipient ON ledger (recipient, message, at);
CREATE INDEX IF NOT EXISTS ledger_origin ON ledger (origin, part);
CREATE INDEX IF NOT EXISTS ledger_at ON ledger (at);
CREATE TABLE IF NOT EXISTS template_kinds (
    template TEXT PRIMARY KEY, kind TEXT NOT NULL, at REAL NOT NULL
);
"""
#: Columns added after the first release (the per-number limits count per signature and
#: template): older databases get them on open.
ADDED_COLUMNS = {"ledger": ["sign_name TEXT", "template TEXT"]}
#: Verification-code templates (TemplateType 0); every other type is a notification or
#: marketing template for the per-number limits.
CODE, NOTICE = "code", "notice"

#: The WHERE clause of an entry that blocks a new send: ok within the window, or pending
#: or unknown within the hold. Parameters: ``_blocking_args``. Its first bound, the earlier of
#: the two, makes one range of the (recipient, message, at) index per recipient; the others
#: (``+l.at``: no index bound) only filter it. Without it SQLite probes the index once per
#: branch of the OR, twice per recipient.
_BLOCKING = ("l.at>=? AND ((l.state='ok' AND +l.at>=?) OR "
             "(l.state IN ('pending','unknown') AND +l.at>=?))")


def message_key(sign_name: str | None, template_code: str, params: object) -> str:
    """The same signature, template and parameters: the same message."""
    canonical = json.dumps([sign_name, template_code, params], sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def _since(now: float) -> tuple[float, float]:
    return now - tunables.seconds(tunables.DUPLICATE_WINDOW), now - UNKNOWN_HOLD_SECONDS


def _blocking_args(now: float) -> tuple[float, float, float]:
    ok_since, unknown_since = _since(now)
    return min(ok_since, unknown_since), ok_since, unknown_since


@dataclass
class Conflicts:
    """Recipients who already got, or may have got, the message."""

    recipients: set[str] = field(default_factory=set)  # canonical keys
    total: int = 0  # recipients of the new send
    states: dict[str, int] = field(default_factory=dict)  # surest state per recipient: count
    origins: list[str] = field(default_factory=list)  # "campaign ID" or "BizId X"
    samples: list[str] = field(default_factory=list)  # numbers as the user spelled them
    masked: list[str] = field(default_factory=list)  # the same, masked, in one spelling

    def __bool__(self) -> bool:
        return bool(self.recipients)

    def _add(self, spelling: str, key: str, state: str, origin: str, biz_id: str | None,
             ) -> None:
        if key not in self.recipients:
            self.recipients.add(key)
            self.states[state] = self.states.get(state, 0) + 1
            if len(self.samples) < SAMPLES:
                self.samples.append(spelling)
                self.masked.append(mask(_readable(key)))
        label = (f"campaign {origin}" if not origin.startswith("send-")
                 else f"BizId {biz_id}" if biz_id else f"send {origin[5:]} in `history`")
        if label not in self.origins:
            self.origins.append(label)

    def error(self, *, single: bool, skip_sent: bool = False) -> DuplicateSend:
        """The refusal: counts, where they came from, masked samples, and what to do
        (``skip_sent``: it was given, and left no one to send to)."""
        got = self.states.get("ok", 0)
        maybe = len(self.recipients) - got
        parts = []
        if got:
            parts.append(f"{got} already got this message")
        if maybe:
            parts.append(f"{maybe} may have got it (the outcome is unknown, or the send is "
                         "still under way)")
        shown = ", ".join(self.masked)
        more = " ..." if len(self.recipients) > len(self.samples) else ""
        origins = "; ".join(self.origins[:5]) + (" ..." if len(self.origins) > 5 else "")
        message = (f"{len(self.recipients)} of {self.total} recipient(s): "
                   f"{' and '.join(parts)} ({origins}): {shown}{more}; nothing was sent;")
        check = (f"check with `{prog.name()} query-status -p {self.samples[0]}`"
                 if single else
                 f"check arrivals with `{prog.name()} campaign reconcile ID` or query-status")
        if skip_sent:
            message = message.replace("; nothing was sent;",
                                      "; with --skip-sent nothing is left to send;")
            hint = (f"{check}; add --force (without --skip-sent) only to send to everyone "
                    "again on purpose.")
        elif self.total == 1:
            hint = (f"{check}; only if it shows the message did not arrive and the user asks "
                    "for it again, add --force.")
        else:
            hint = (f"{check}; add --skip-sent to send only to the others, or --force to "
                    "send to everyone again on purpose.")
        return DuplicateSend(message, hint)


def _readable(key: str) -> str:
    """A canonical key as people write it: 11 digits on the mainland, +CC... elsewhere."""
    return key[2:] if len(key) == 13 and key.startswith("861") else "+" + key


def check(db: sqlite3.Connection, spellings: Sequence[str], keys: Sequence[str],
          messages: Sequence[str], now: float | None = None) -> Conflicts:
    """The blocking entries for a few recipients (one single or batch send)."""
    blocking = _blocking_args(now or time.time())
    found = Conflicts(total=len(keys))
    for spelling, key, message in zip(spellings, keys, messages):
        for state, origin, biz_id in db.execute(
                f"SELECT l.state, l.origin, l.biz_id FROM ledger l WHERE l.recipient=? "  # noqa: S608
                f"AND l.message=? AND {_BLOCKING} ORDER BY l.state='ok' DESC",
                (key, message, *blocking)):
            found._add(spelling, key, state, origin, biz_id)
    return found


def chunk_filter(chunk: int | None, alias: str = "r.") -> tuple[str, tuple]:
    """The SQL condition (and its argument) on campaign rows of one ``chunk``, or none.
    Written only when a chunk is given: ``(? IS NULL OR chunk=?)`` would keep SQLite off the
    (campaign_id, chunk) index, a scan of every row of the campaign for each chunk sent."""
    return ("", ()) if chunk is None else (f"AND {alias}chunk=? ", (chunk,))


def campaign_conflicts(db: sqlite3.Connection, campaign_id: str, total: int,
                       now: float | None = None, chunk: int | None = None,
                       table: str = "ledger") -> Conflicts:
    """The blocking entries of other sends for the rows of a campaign (or of one chunk),
    from ``table`` (``known.ledger``: an attached database's)."""
    blocking = _blocking_args(now or time.time())
    found = Conflicts(total=total)
    if _empty(db, table):  # nothing to look up, row by row
        return found
    in_chunk = "" if chunk is None else "AND r.chunk=? "
    rows = db.execute(
        f"SELECT r.phone, r.key, l.state, l.origin, l.biz_id FROM campaign_rows r "  # noqa: S608
        f"JOIN {table} l ON l.recipient=r.key AND l.message=r.message "
        f"WHERE r.campaign_id=? {in_chunk}AND l.origin!=? AND {_BLOCKING} "
        f"ORDER BY r.line, l.state='ok' DESC",
        (campaign_id, *(() if chunk is None else (chunk,)), campaign_id, *blocking))
    for phone, key, state, origin, biz_id in rows:
        found._add(phone, key, state, origin, biz_id)
    if chunk is not None and found:
        found.total = db.execute("SELECT count(*) FROM campaign_rows WHERE campaign_id=? AND "
                                 "chunk=?", (campaign_id, chunk)).fetchone()[0]
    return found


def _empty(db: sqlite3.Connection, table: str) -> bool:
    """No entry at all: a campaign's rows need not be looked up one by one."""
    return db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None  # noqa: S608


def prune(db: sqlite3.Connection, now: float | None = None) -> None:
    """Forget entries too old to block anything."""
    ok_since, unknown_since = _since(now or time.time())
    db.execute("DELETE FROM ledger WHERE at<?", (min(ok_since, unknown_since),))


def forget(db: sqlite3.Connection, before: float) -> None:
    """Forget settled entries made before ``before`` (``history prune``): what the user
    asked to forget no longer blocks a send. Pending entries stay: a run is sending them."""
    db.execute("DELETE FROM ledger WHERE at<? AND state!='pending'", (before,))


def record(db: sqlite3.Connection, keys: Iterable[str], messages: Iterable[str], origin: str,
           part: int = 0, now: float | None = None, signs: Iterable[str | None] | None = None,
           template: str | None = None) -> None:
    """Recipients about to be sent to: ``pending`` until ``settle``; ``signs[i]`` and
    ``template`` are what the per-number limits count."""
    at = now or time.time()
    keys = list(keys)
    signs = list(signs) if signs is not None else [None] * len(keys)
    db.executemany("INSERT INTO ledger (recipient, message, at, state, origin, part, "
                   "sign_name, template) VALUES (?,?,?,'pending',?,?,?,?)",
                   ((key, message, at, origin, part, sign, template)
                    for key, message, sign in zip(keys, messages, signs)))


def record_chunk(db: sqlite3.Connection, campaign_id: str, chunk: int,
                 now: float | None = None) -> None:
    """The rows of one campaign chunk about to be sent: ``pending``."""
    db.execute("INSERT INTO ledger (recipient, message, at, state, origin, part, sign_name, "
               "template) SELECT r.key, r.message, ?, 'pending', r.campaign_id, r.chunk, "
               "coalesce(r.sign_name, c.sign_name), c.template_code FROM campaign_rows r "
               "JOIN campaigns c ON c.id=r.campaign_id "
               # +r.key: not the (campaign_id, key) index, a scan of the whole campaign.
               "WHERE r.campaign_id=? AND r.chunk=? AND +r.key IS NOT NULL",  # NULL: planned
               (now or time.time(), campaign_id, chunk))  # by an older version, without keys


def learn_kind(db: sqlite3.Connection, template: str, template_type: object) -> None:
    """Remember a template's type (from GetSmsTemplate): which limits its sends count in."""
    if template_type is None or str(template_type).strip() == "":
        return
    kind = CODE if str(template_type).strip() == "0" else NOTICE
    db.execute("INSERT OR REPLACE INTO template_kinds (template, kind, at) VALUES (?,?,?)",
               (template, kind, time.time()))


def kind_of(db: sqlite3.Connection, template: str, schema: str = "") -> str | None:
    """``code``, ``notice``, or None when the template's type was never looked up."""
    row = db.execute(f"SELECT kind FROM {schema}template_kinds WHERE template=?",  # noqa: S608
                     (template,)).fetchone()
    return row[0] if row else None


#: One earlier send to a recipient as the limits count it: (at, signature, template, kind).
Past = tuple[float, "str | None", "str | None", "str | None"]
_PAST_COLUMNS = ("l.at, l.sign_name, l.template, k.kind")


def recent(db: sqlite3.Connection, keys: Iterable[str], since: float) -> dict[str, list[Past]]:
    """Every send on record to these recipients since ``since`` (accepted, under way or
    unknown: each may count against a limit), oldest first."""
    found: dict[str, list[Past]] = {}
    for key in set(keys):
        rows = db.execute(f"SELECT {_PAST_COLUMNS} FROM ledger l LEFT JOIN template_kinds k "  # noqa: S608
                          "ON k.template=l.template WHERE l.recipient=? AND l.at>=? "
                          "ORDER BY l.at", (key, since)).fetchall()
        if rows:
            found[key] = [tuple(row) for row in rows]
    return found


def campaign_recent(db: Connection, campaign_id: str, since: float,
                    schema: str = "", chunk: int | None = None) -> dict[str, list[Past]]:
    """``recent`` for every row of a campaign (of one ``chunk``, if given), from
    ``schema``'s ledger (``known.``: an attached database's), leaving out the campaign's own
    sends; empty when that ledger predates the limits."""
    if not (db.has_column("ledger", "template", schema)
            and db.has_table("template_kinds", schema)) or _empty(db, f"{schema}ledger"):
        return {}
    found: dict[str, list[Past]] = {}
    in_chunk, chunk_args = chunk_filter(chunk)
    for key, *past in db.execute(
            f"SELECT r.key, {_PAST_COLUMNS} FROM campaign_rows r "  # noqa: S608
            f"JOIN {schema}ledger l ON l.recipient=r.key LEFT JOIN {schema}template_kinds k "
            "ON k.template=l.template WHERE r.campaign_id=? AND l.origin!=? AND l.at>=? "
            f"{in_chunk}ORDER BY l.at", (campaign_id, campaign_id, since, *chunk_args)):
        found.setdefault(key, []).append(tuple(past))
    return found


def settle(db: sqlite3.Connection, origin: str, part: int, outcome: str,
           biz_id: str | None = None) -> None:
    """The outcome of a send: ``ok`` or ``unknown`` stay on record; ``failed`` (nothing
    was sent) and ``planned`` (reconciled as never arrived) remove the entries."""
    if outcome in ("failed", "planned"):
        db.execute("DELETE FROM ledger WHERE origin=? AND part=?", (origin, part))
        return
    state = "ok" if outcome in ("ok", "sent") else "unknown" if outcome == "unknown" else None
    if state is None:
        raise ValueError(f"not an outcome: {outcome!r}")
    db.execute("UPDATE ledger SET state=?, biz_id=coalesce(?, biz_id) WHERE origin=? AND part=?",
               (state, biz_id, origin, part))


def campaign_planned(db: sqlite3.Connection, campaign_id: str,
                     chunk: int | None = None) -> list[tuple[str, str, str | None]]:
    """(number, key, signature) of every row of a campaign (of one ``chunk``, if given)."""
    in_chunk, chunk_args = chunk_filter(chunk, "")
    return [tuple(row) for row in db.execute(
        "SELECT phone, key, sign_name FROM campaign_rows WHERE campaign_id=? AND +key IS NOT "  # noqa: S608
        f"NULL {in_chunk}ORDER BY line", (campaign_id, *chunk_args))]
