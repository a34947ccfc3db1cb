"""Bulk sends as resumable campaigns.

A recipient file is validated whole and stored, row by row, in the journal's SQLite
database; it is then cut into chunks (1000 numbers per SendSms, 100 per SendBatchSms).
Each chunk's state is written before and after its call (planned -> in_flight -> sent,
failed or unknown), so a crash at any instant leaves a true record: ``resume`` sends only
chunks never attempted, and ``reconcile`` settles the ones in doubt.

Each chunk is claimed by one live run: a lease (the run's pid and process start time)
taken on every chunk left to send, in one transaction, when the run starts. A second run
of the same campaign while the first is alive (a resume started too early, or two resumes
at once) is refused; a lease of a run that died is free again, and its chunks in flight
become unknown. Every recipient sent to is written to the per-recipient ledger
(``ledger``), which refuses a new campaign that would repeat a message.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sms_skill import (
    database,
    ledger,
    paths,
    prog,
    recipient_filters,
    suppression,
    tunables,
)
from sms_skill.errors import (
    ApiFailure,
    ConfirmationRequired,
    DuplicateSend,
    EnvironmentProblem,
    InputError,
    OutcomeUnknown,
    RunInterrupted,
    SkillError,
    StorageProblem,
)
from sms_skill.lifecycle import HANDLED, Interrupted
from sms_skill.liveness import is_alive, start_time
from sms_skill.recipients import BadRow, Row, describe, params_json
from sms_skill.validation import recipient_key

CHUNK_SIZE = {"send": 1000, "batch": 100}
THROTTLED = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api")
MAX_ATTEMPTS = 6
REPORTED_BAD_ROWS = 20
STATES = ("planned", "in_flight", "sent", "failed", "unknown")
#: After a signal, calls under way get this long to end before their chunks are left unknown.
STOP_GRACE_SECONDS = 0.8

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY, created REAL NOT NULL, kind TEXT NOT NULL, source TEXT,
    fingerprint TEXT NOT NULL, sign_name TEXT, template_code TEXT NOT NULL,
    template_param TEXT, out_id TEXT, recipients INTEGER NOT NULL, skipped INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_rows (
    campaign_id TEXT NOT NULL, line INTEGER NOT NULL, chunk INTEGER NOT NULL,
    phone TEXT NOT NULL, sign_name TEXT, params TEXT, PRIMARY KEY (campaign_id, phone)
);
CREATE INDEX IF NOT EXISTS campaign_rows_chunk ON campaign_rows (campaign_id, chunk, line);
CREATE TABLE IF NOT EXISTS chunks (
    campaign_id TEXT NOT NULL, seq INTEGER NOT NULL, size INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'planned', attempts INTEGER NOT NULL DEFAULT 0,
    out_id TEXT NOT NULL, biz_id TEXT, code TEXT, message TEXT, started REAL, finished REAL,
    PRIMARY KEY (campaign_id, seq)
);
""" + ledger.SCHEMA
#: Columns added after the first release: older databases get them on open.
ADDED_COLUMNS = {
    "campaigns": ["already_sent INTEGER NOT NULL DEFAULT 0", "forced INTEGER NOT NULL DEFAULT 0",
                  "over_limit INTEGER NOT NULL DEFAULT 0",
                  "suppressed INTEGER NOT NULL DEFAULT 0"],
    "campaign_rows": ["key TEXT", "message TEXT"],
    "chunks": ["owner_pid INTEGER", "owner_started TEXT"],
    **ledger.ADDED_COLUMNS,
}
AFTER_COLUMNS = """
CREATE UNIQUE INDEX IF NOT EXISTS campaign_rows_key ON campaign_rows (campaign_id, key);
"""

#: A run: its pid and its process start time (a reused pid is another run).
Owner = tuple[int, str]


def current_owner() -> Owner:
    return os.getpid(), start_time(os.getpid())


@dataclass
class Plan:
    """What ``plan`` stored: counts, and the rows it refused."""

    campaign_id: str
    recipients: int
    chunks: int
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_total: int = 0
    #: Left out by --skip-sent: they got, or may have got, this message already.
    already_sent: int = 0
    #: Left out because one more send would exceed a per-number limit (unless --force).
    over_limit: list = field(default_factory=list)
    #: Left out as on the suppression list.
    suppressed: int = 0


class Store:
    """The campaign tables; safe to share between the worker threads of one run."""

    def __init__(self, path: Path | None = None, known: Path | None = None) -> None:
        """``known``: another database whose ledger ``plan`` checks, read only (a dry run
        plans in a scratch database but must see what was really sent)."""
        self.path = path or database.default_path()
        self._db = database.connect(self.path, SCHEMA, ADDED_COLUMNS, AFTER_COLUMNS)
        self._lock = threading.Lock()
        self.ledger_table = "ledger"
        #: Where the per-number limits and the suppression list are read: ``known.`` when
        #: planning in a scratch database.
        self.known_schema = ""
        if known is not None and known.exists():
            self._db.execute("ATTACH DATABASE ? AS known", (str(known),))
            self.known_schema = "known."
            if self._db.execute("SELECT 1 FROM known.sqlite_master WHERE name='ledger'"
                                ).fetchone():
                self.ledger_table = "known.ledger"
        self.prune(tunables.retention_cutoff())  # the documented retention

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements as one write transaction, under the store's lock."""
        with self._lock, database.immediate(self._db) as db:
            yield db

    def execute(self, sql: str, args: Iterable = ()) -> list[tuple]:
        """One statement, committed at once (autocommit) under the store's lock."""
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def prune(self, before: float) -> int:
        """Delete campaigns created before ``before`` (epoch seconds), with their rows and
        chunks, unless a chunk is in flight; returns how many."""
        with self.transaction() as db:
            ids = [(cid,) for (cid,) in db.execute(
                "SELECT id FROM campaigns WHERE created<? AND id NOT IN (SELECT campaign_id "
                "FROM chunks WHERE state='in_flight')", (before,))]
            db.executemany("DELETE FROM campaign_rows WHERE campaign_id=?", ids)
            db.executemany("DELETE FROM chunks WHERE campaign_id=?", ids)
            db.executemany("DELETE FROM campaigns WHERE id=?", ids)
        return len(ids)

    def campaign(self, campaign_id: str) -> dict:
        rows = self._db.execute("SELECT * FROM campaigns WHERE id=?", (campaign_id,))
        names = [d[0] for d in rows.description]
        found = rows.fetchone()
        if not found:
            raise InputError("", f"no campaign {campaign_id!r}; `campaign list` shows them")
        return dict(zip(names, found))

    def counts(self, campaign_id: str) -> dict[str, dict[str, int]]:
        chunks = dict.fromkeys(STATES, 0)
        people = dict.fromkeys(STATES, 0)
        for state, number, size in self.execute(
                "SELECT state, count(*), sum(size) FROM chunks WHERE campaign_id=? "
                "GROUP BY state", (campaign_id,)):
            chunks[state], people[state] = number, size
        return {"chunks": chunks, "recipients": people}

    def chunk_rows(self, campaign_id: str, seq: int) -> list[tuple[str, str, str]]:
        return self.execute("SELECT phone, sign_name, params FROM campaign_rows WHERE "
                            "campaign_id=? AND chunk=? ORDER BY line", (campaign_id, seq))

    def chunks(self, campaign_id: str, states: Iterable[str] = STATES) -> list[dict]:
        wanted = tuple(states)
        marks = ",".join("?" * len(wanted))
        rows = self.execute(
            f"SELECT seq, size, state, attempts, out_id, biz_id, code, message, started, "  # noqa: S608
            f"finished, owner_pid, owner_started FROM chunks WHERE campaign_id=? AND state "
            f"IN ({marks}) ORDER BY seq", (campaign_id, *wanted))
        keys = ("seq", "size", "state", "attempts", "out_id", "biz_id", "code", "message",
                "started", "finished", "owner_pid", "owner_started")
        return [dict(zip(keys, row)) for row in rows]

    # -- leases: which live run sends which chunk

    @staticmethod
    def _settle_dead(db: sqlite3.Connection, campaign_id: str, me: Owner) -> None:
        """Chunks in flight in a run that died (SIGKILL, a crash) may have been sent:
        unknown, and their lease is free."""
        for seq, pid, started in db.execute(
                "SELECT seq, owner_pid, owner_started FROM chunks WHERE campaign_id=? AND "
                "state='in_flight'", (campaign_id,)).fetchall():
            if (pid, started) != me and not is_alive(pid, started or ""):
                db.execute("UPDATE chunks SET state='unknown', owner_pid=NULL, message=? "
                           "WHERE campaign_id=? AND seq=?",
                           ("the run sending it ended without recording the outcome",
                            campaign_id, seq))
                ledger.settle(db, campaign_id, seq, "unknown")

    @staticmethod
    def _live_owner(db: sqlite3.Connection, campaign_id: str,
                    me: Owner | None) -> Owner | None:
        """A live run other than ``me`` that holds chunks of the campaign, if any."""
        for pid, started in db.execute(
                "SELECT DISTINCT owner_pid, owner_started FROM chunks WHERE campaign_id=? "
                "AND owner_pid IS NOT NULL AND state IN ('planned','in_flight')",
                (campaign_id,)).fetchall():
            if (pid, started) != me and is_alive(pid, started or ""):
                return pid, started
        return None

    def sending_run(self, campaign_id: str) -> Owner | None:
        """The live run sending the campaign right now, if any."""
        with self._lock:
            return self._live_owner(self._db, campaign_id, None)

    def claim(self, campaign_id: str, me: Owner) -> list[dict]:
        """Lease every chunk left to send to run ``me``, in one transaction, and return
        them; DuplicateSend (exit 6) while another live run holds the campaign."""
        with self.transaction() as db:
            self._settle_dead(db, campaign_id, me)
            other = self._live_owner(db, campaign_id, me)
            if other is not None:
                raise DuplicateSend(
                    f"campaign {campaign_id} is being sent by another run (pid {other[0]}); "
                    "this run sent nothing, so no chunk goes out twice;",
                    f"wait for that run to end (`{prog.name()} campaign show "
                    f"{campaign_id}`), then `--resume {campaign_id}` continues what is left.")
            db.execute("UPDATE chunks SET owner_pid=?, owner_started=? WHERE campaign_id=? "
                       "AND state='planned'", (*me, campaign_id))
        return self.chunks(campaign_id, ["planned"])

    def begin(self, campaign: dict, seq: int, me: Owner, attempt: int) -> str | None:
        """Mark a leased chunk in flight and its recipients pending in the ledger, in one
        transaction, just before its call. Returns None to go ahead, or why not: the lease
        was lost, or (unless the campaign was forced) another send reached some of its
        recipients with the same message since the campaign was planned."""
        campaign_id = campaign["id"]
        now = time.time()
        with self.transaction() as db:
            if not campaign["forced"]:
                conflicts = ledger.campaign_conflicts(db, campaign_id, 0, now, chunk=seq)
                if conflicts:
                    error = conflicts.error(single=False)
                    db.execute("UPDATE chunks SET state='failed', code='DUPLICATE', message=?,"
                               " finished=? WHERE campaign_id=? AND seq=? AND state='planned'",
                               (error.message, now, campaign_id, seq))
                    return error.message
            moved = db.execute(
                "UPDATE chunks SET state='in_flight', attempts=?, started=? WHERE "
                "campaign_id=? AND seq=? AND state='planned' AND owner_pid=? AND "
                "owner_started=?", (attempt, now, campaign_id, seq, *me)).rowcount
            if not moved:
                return "lease lost"
            ledger.record_chunk(db, campaign_id, seq, now)
        return None

    def retry_later(self, campaign_id: str, seq: int, code: str | None) -> None:
        """A throttled call was not accepted, or none was made: planned again."""
        with self.transaction() as db:
            db.execute("UPDATE chunks SET state='planned', code=? WHERE campaign_id=? AND "
                       "seq=?", (code, campaign_id, seq))
            ledger.settle(db, campaign_id, seq, "failed")

    def finish(self, campaign_id: str, seq: int, state: str, biz_id: str | None,
               code: str | None, message: str | None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE chunks SET state=?, biz_id=?, code=?, message=?, finished=? "
                       "WHERE campaign_id=? AND seq=?",
                       (state, biz_id, code, message, time.time(), campaign_id, seq))
            ledger.settle(db, campaign_id, seq, state, biz_id)

    def interrupt(self, campaign_id: str, me: Owner, message: str) -> None:
        """This run's chunks still in flight after a signal: unknown."""
        with self.transaction() as db:
            seqs = [seq for (seq,) in db.execute(
                "SELECT seq FROM chunks WHERE campaign_id=? AND state='in_flight' AND "
                "owner_pid=? AND owner_started=?", (campaign_id, *me)).fetchall()]
            for seq in seqs:
                db.execute("UPDATE chunks SET state='unknown', message=?, finished=? WHERE "
                           "campaign_id=? AND seq=?", (message, time.time(), campaign_id, seq))
                ledger.settle(db, campaign_id, seq, "unknown")

    def doubtful(self, campaign_id: str, me: Owner) -> list[dict]:
        """Chunks whose outcome is unknown, after settling those of dead runs; chunks in
        flight in a live run are left to it."""
        with self.transaction() as db:
            self._settle_dead(db, campaign_id, me)
        return self.chunks(campaign_id, ["in_flight", "unknown"])

    def reconciled(self, campaign_id: str, seq: int, state: str) -> None:
        """Reconcile's verdict: sent (a receipt), or planned (none: never arrived)."""
        with self.transaction() as db:
            db.execute("UPDATE chunks SET state=?, message=?, owner_pid=NULL WHERE "
                       "campaign_id=? AND seq=?",
                       (state, "settled by reconcile", campaign_id, seq))
            ledger.settle(db, campaign_id, seq, state)


def campaign_fingerprint(kind: str, source_sha256: str, template_code: str,
                         sign_name: str | None, template_param: str | None) -> str:
    import hashlib

    canonical = json.dumps([kind, source_sha256, template_code, sign_name, template_param])
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan(store: Store, *, kind: str, rows: Iterable[Row | BadRow], source: str,
         source_sha256: Callable[[], str], template_code: str, sign_name: str | None,
         template_param: str | None, out_id: str | None, skip_invalid: bool,
         force: bool = False, skip_sent: bool = False,
         owner: Owner | None = None) -> Plan:
    """Validate every row and store the campaign, or store nothing and raise InputError
    listing the bad rows (unless ``skip_invalid``). Duplicate numbers, in any spelling,
    count as bad rows. Recipients who got, or may have got, the same message recently
    make it DuplicateSend (exit 6) unless ``force``; ``skip_sent`` leaves them out. The
    chunks are leased to ``owner`` (this run) from the start."""
    size = CHUNK_SIZE[kind]
    campaign_id = time.strftime("%Y%m%d") + "-" + secrets.token_hex(3)
    result = Plan(campaign_id, 0, 0)
    same_message = ledger.message_key(sign_name, template_code,
                                      json.loads(template_param) if template_param else None)
    def message_of(row: Row) -> str:
        return (same_message if kind == "send" else
                ledger.message_key(row.sign_name, template_code, row.params))

    with store.transaction() as db:
        batch: list[Row | BadRow] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= PLAN_BATCH:
                _store_rows(db, campaign_id, batch, size, message_of, result)
                batch.clear()
        _store_rows(db, campaign_id, batch, size, message_of, result)
        if result.bad_total and not skip_invalid:
            raise InputError(source, f"{result.bad_total} bad row(s), nothing was sent: "
                             + describe(result.bad_rows, result.bad_total),
                             "Fix them, or add --skip-invalid to send the valid rows only.")
        if not result.recipients:
            raise InputError(source, "no valid recipient in the file")
        fingerprint = campaign_fingerprint(kind, source_sha256(), template_code, sign_name,
                                           template_param)
        earlier = db.execute("SELECT id FROM campaigns WHERE fingerprint=? ORDER BY "
                             "created DESC LIMIT 1", (fingerprint,)).fetchone()
        if earlier and not (force or skip_sent):
            raise DuplicateSend(
                f"campaign {earlier[0]} already sends this file with these parameters; "
                "nothing new was started;",
                f"see `campaign show {earlier[0]}`, continue it with `--resume "
                f"{earlier[0]}`, add --skip-sent to send only to those it did not reach, "
                "or add --force for a second campaign on purpose.")
        if store.ledger_table == "ledger":
            ledger.prune(db)
        if not force:
            conflicts = ledger.campaign_conflicts(db, campaign_id, result.recipients,
                                                  table=store.ledger_table)
            if conflicts and (not skip_sent or len(conflicts.recipients) >= result.recipients):
                raise conflicts.error(single=False, skip_sent=skip_sent)
            if conflicts:
                result.already_sent = _leave_out(db, campaign_id, conflicts.recipients, size)
                result.recipients -= result.already_sent
        left = recipient_filters.leave_out(
            db, campaign_id, template_code=template_code, sign_name=sign_name,
            total=result.recipients, force=force, schema=store.known_schema,
            drop=lambda keys: _leave_out(db, campaign_id, keys, size))
        result.over_limit, result.suppressed = left.over_limit, left.suppressed
        result.recipients -= left.count
        result.chunks = -(-result.recipients // size)
        db.execute("INSERT INTO campaigns (id, created, kind, source, fingerprint, sign_name, "
                   "template_code, template_param, out_id, recipients, skipped, already_sent,"
                   " forced) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (campaign_id, time.time(), kind, source, fingerprint, sign_name,
                    template_code, template_param, out_id, result.recipients,
                    result.bad_total, result.already_sent, int(force)))
        db.execute("UPDATE campaigns SET over_limit=?, suppressed=? WHERE id=?",
                   (len(result.over_limit), result.suppressed, campaign_id))
        me = owner or current_owner()
        db.executemany(
            "INSERT INTO chunks (campaign_id, seq, size, out_id, owner_pid, owner_started) "
            "VALUES (?,?,?,?,?,?)",
            ((campaign_id, seq, min(size, result.recipients - seq * size),
              chunk_out_id(out_id, campaign_id, seq), *me) for seq in range(result.chunks)))
    return result


INSERT_ROW = ("INSERT INTO campaign_rows (campaign_id, line, chunk, phone, sign_name, params,"
              " key, message) VALUES (?,?,?,?,?,?,?,?)")
#: Rows stored per executemany; a batch holding a duplicate is stored again row by row.
PLAN_BATCH = 5000


def _store_rows(db: sqlite3.Connection, campaign_id: str, batch: list[Row | BadRow],
                size: int, message_of: Callable[[Row], str], result: Plan) -> None:
    """Store a batch of rows in file order (one executemany, under a savepoint), counting
    the bad ones; a number listed twice (the unique key refuses it) is a bad row."""
    def values(row: Row, position: int) -> tuple:
        return (campaign_id, row.line, position // size, row.phone, row.sign_name,
                params_json(row.params), recipient_key(row.phone), message_of(row))

    good = [row for row in batch if isinstance(row, Row)]
    db.execute("SAVEPOINT plan_batch")
    try:
        db.executemany(INSERT_ROW, (values(row, result.recipients + n)
                                    for n, row in enumerate(good)))
        slow = False
    except sqlite3.IntegrityError:
        db.execute("ROLLBACK TO plan_batch")
        slow = True
    db.execute("RELEASE plan_batch")
    if not slow:
        result.recipients += len(good)
    for row in batch:
        if isinstance(row, Row):
            if not slow:
                continue
            try:
                db.execute(INSERT_ROW, values(row, result.recipients))
                result.recipients += 1
                continue
            except sqlite3.IntegrityError:
                row = BadRow(row.line, f"{row.phone} is listed twice in the file")
        result.bad_total += 1
        if len(result.bad_rows) < REPORTED_BAD_ROWS:
            result.bad_rows.append(row)


def chunk_out_id(out_id: str | None, campaign_id: str, seq: int) -> str:
    """Unique per campaign and chunk, so that a receipt names the request behind it; the
    user's own OutId, if any, leads (cut so that the unique end survives 255 characters)."""
    if not out_id:
        return f"sms-{campaign_id}.{seq}"
    suffix = f".{campaign_id}.{seq}"
    return out_id[:255 - len(suffix)] + suffix


def _leave_out(db: sqlite3.Connection, campaign_id: str, keys: set[str], size: int) -> int:
    """Drop these recipients from a campaign being planned and number the chunks again."""
    db.executemany("DELETE FROM campaign_rows WHERE campaign_id=? AND key=?",
                   ((campaign_id, key) for key in keys))
    rowids = db.execute("SELECT rowid FROM campaign_rows WHERE campaign_id=? ORDER BY line",
                        (campaign_id,)).fetchall()
    db.executemany("UPDATE campaign_rows SET chunk=? WHERE rowid=?",
                   ((position // size, rowid) for position, (rowid,) in enumerate(rowids)))
    return len(keys)


def chunk_call(store: Store, campaign: dict, chunk: dict) -> tuple[str, dict, str]:
    """The API action and parameters of one chunk, and its first recipient."""
    rows = store.chunk_rows(campaign["id"], chunk["seq"])
    first = rows[0][0]
    if campaign["kind"] == "send":
        return "SendSms", {
            "PhoneNumbers": ",".join(phone for phone, _, _ in rows),
            "SignName": campaign["sign_name"], "TemplateCode": campaign["template_code"],
            "TemplateParam": campaign["template_param"], "OutId": chunk["out_id"],
        }, first
    params = [json.loads(p) if p else None for _, _, p in rows]
    return "SendBatchSms", {
        "PhoneNumberJson": json.dumps([phone for phone, _, _ in rows], separators=(",", ":")),
        "SignNameJson": json.dumps([sign for _, sign, _ in rows], ensure_ascii=False,
                                   separators=(",", ":")),
        "TemplateCode": campaign["template_code"],
        "TemplateParamJson": (json.dumps([p or {} for p in params], ensure_ascii=False,
                                         separators=(",", ":"))
                              if any(p is not None for p in params) else None),
        "OutId": chunk["out_id"],
    }, first


class RateLimiter:
    """At most ``rate`` call starts per second, shared by all workers (None: no limit)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        self._sleep(max(0.0, start - now))


ChunkHook = Callable[[dict, int, int], None]


def run(client, store: Store, campaign_id: str, *, parallel: int = 4,
        rate: float | None = None, on_chunk: ChunkHook = lambda chunk, done, total: None,
        sleep: Callable[[float], None] = time.sleep) -> dict:
    """Send every chunk never attempted; returns the summary. Chunks in flight or unknown
    from an earlier run are left alone (``reconcile`` settles them), and the run is refused
    while another live run holds the campaign. ``on_chunk(chunk, done, total)`` follows
    progress.

    On SIGINT, SIGTERM or SIGHUP no new chunk starts, the calls under way are stopped, and
    within about a second the chunks still in flight are left unknown ("interrupted by
    signal"); the summary then carries ``interrupted`` (see ``outcome_error``).
    """
    campaign = store.campaign(campaign_id)
    me = current_owner()
    todo = store.claim(campaign_id, me)
    limiter = RateLimiter(rate)
    stop = threading.Event()
    signalled: list[str] = []
    queue = deque(todo)
    queue_lock = threading.Lock()
    finished = iter(range(1, len(todo) + 1))  # next() is atomic under the GIL
    errors: list[BaseException] = []
    confirmation: list[ConfirmationRequired] = []  # the CLI's safety policy asked

    def send_chunk(chunk: dict) -> None:
        seq = chunk["seq"]
        action, params, first_recipient = chunk_call(store, campaign, chunk)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            limiter.wait()
            if stop.is_set():
                return
            refused = store.begin(campaign, seq, me, attempt)
            if refused:
                if refused != "lease lost":
                    on_chunk({**chunk, "state": "failed", "code": "DUPLICATE"},
                             next(finished), len(todo))
                return
            if stop.is_set():  # stopped between the claim and the call: nothing went out
                store.retry_later(campaign_id, seq, None)
                return
            state, biz_id, code, message = "unknown", None, None, None
            try:
                response = client.call(action, params, recipient=first_recipient)
                state, biz_id = "sent", response.get("BizId")
            except ApiFailure as exc:
                state, code, message = "failed", exc.code or None, str(exc)
                if code in THROTTLED and attempt < MAX_ATTEMPTS and not stop.is_set():
                    # A throttled request was not accepted: safe to try again, later.
                    store.retry_later(campaign_id, seq, code)
                    sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
                    continue
            except OutcomeUnknown as exc:
                state, code, message = "unknown", exc.code or None, str(exc)
                if signalled:
                    message = interrupted_message(signalled[0])
            except ConfirmationRequired as exc:  # nothing went out: planned again
                store.retry_later(campaign_id, seq, exc.code)
                confirmation.append(exc)
                stop.set()
                return
            except EnvironmentProblem as exc:
                state, message = "failed", str(exc)
                code = getattr(exc, "code", None)  # a safety policy's deny rule
                stop.set()  # the next chunk would fail the same way
            try:
                store.finish(campaign_id, seq, state, biz_id, code, message)
            except StorageProblem as exc:  # what the service said must not be lost
                stop.set()
                client.report(f"warning: chunk {seq} was {state} (BizId {biz_id}), "
                              f"but the journal could not record it ({exc}); it stays in "
                              "flight for `campaign reconcile`.")
                raise
            on_chunk({**chunk, "state": state, "code": code}, next(finished), len(todo))
            return

    def worker() -> None:
        try:
            while not stop.is_set():
                with queue_lock:
                    if not queue:
                        return
                    chunk = queue.popleft()
                try:
                    send_chunk(chunk)
                except SkillError:
                    pass  # recorded in the chunk's state
        except BaseException as exc:  # a bug: stop the others and report it
            if not stop.is_set():
                errors.append(exc)
                stop.set()

    threads = [threading.Thread(target=worker, name=f"campaign-{n}", daemon=True)
               for n in range(min(max(1, parallel), len(todo)))]
    try:
        if todo and not client.dry_run:
            client.ensure_started()  # once, before the workers share the client
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    except Interrupted as exc:
        signalled.append(str(exc))
        stop.set()
        _stop_calls(threads)
        store.interrupt(campaign_id, me, interrupted_message(str(exc)))
        return {**summary(store, campaign_id), "interrupted": str(exc)}
    if errors:
        raise errors[0]
    if confirmation:
        return {**summary(store, campaign_id), "confirmation_required": str(confirmation[0])}
    return summary(store, campaign_id)


def interrupted_message(signal_name: str) -> str:
    return f"interrupted by signal ({signal_name}); the outcome is unknown"


def _stop_calls(threads: list[threading.Thread]) -> None:
    """Stop the aliyun calls under way and give their threads a moment to record them."""
    from sms_skill import runner

    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        runner.stop_running()  # again and again: a worker may just be starting a call
        for thread in threads:
            thread.join(0.02)
    runner.stop_running(kill=True)  # an aliyun that ignored SIGTERM must not go on sending


def summary(store: Store, campaign_id: str) -> dict:
    campaign = store.campaign(campaign_id)
    counts = store.counts(campaign_id)
    problems = store.chunks(campaign_id, ["failed", "unknown", "in_flight"])
    return {
        "campaign": campaign_id, "kind": campaign["kind"],
        "total_recipients": campaign["recipients"], "skipped_rows": campaign["skipped"],
        "already_sent": campaign["already_sent"], "over_limit": campaign["over_limit"],
        "suppressed": campaign["suppressed"],
        **counts,
        "errors": [{"chunk": c["seq"], "state": c["state"], "code": c["code"],
                    "message": c["message"]} for c in problems[:5]],
    }


def outcome_error(result: dict) -> SkillError | None:
    """None when every chunk was sent; RunInterrupted (130, 143, 129) after a signal;
    OutcomeUnknown (exit 5) when any is in doubt; ApiFailure (exit 1) when any failed or
    was not sent."""
    chunks = result.get("chunks")
    if not isinstance(chunks, dict):
        return None
    campaign_id = result["campaign"]
    resume = "batch-send" if result.get("kind") == "batch" else "send"
    doubtful = chunks["unknown"] + chunks["in_flight"]
    if result.get("interrupted"):
        name = result["interrupted"]
        return RunInterrupted(
            f"campaign {campaign_id} interrupted by {name}: {chunks['sent']} chunk(s) sent, "
            f"{doubtful} with an unknown outcome, {chunks['planned']} not sent;",
            (f"run `{prog.name()} campaign reconcile {campaign_id}`, then " if doubtful
             else "run ") + f"`{prog.name()} {resume} --resume {campaign_id}` to send "
            "the rest.", HANDLED.get(signal.Signals[name], 130))
    if doubtful:
        return OutcomeUnknown(
            f"campaign {campaign_id}: {doubtful} chunk(s) with an unknown outcome; they were "
            "not resent;",
            f"run `{prog.name()} campaign reconcile {campaign_id}`, then `--resume "
            f"{campaign_id}` sends what never arrived.")
    if result.get("confirmation_required"):
        return ConfirmationRequired(
            f"campaign {campaign_id}: the aliyun CLI's safety policy requires the user's "
            f"confirmation; {chunks['planned']} chunk(s) not sent;",
            f"ask the user whether campaign {campaign_id} may be sent, and only after they "
            f"say yes run `{prog.name()} {resume} --resume {campaign_id} --yes`.")
    if any(e.get("code") == "DUPLICATE" for e in result.get("errors", [])):
        return ApiFailure(
            f"campaign {campaign_id}: {chunks['failed']} chunk(s) failed, some because another"
            f" send reached their numbers meanwhile (DUPLICATE), {chunks['planned']} not sent;",
            "run the same command again with --skip-sent to send only to the numbers not "
            f"reached (`--resume {campaign_id}` does not resend failed chunks).")
    if chunks["failed"] or chunks["planned"]:
        return ApiFailure(
            f"campaign {campaign_id}: {chunks['failed']} chunk(s) failed, "
            f"{chunks['planned']} not sent;",
            f"see `{prog.name()} campaign show {campaign_id}`; `--resume {campaign_id}` "
            "sends the chunks never attempted.")
    return None


def campaigns(store: Store) -> list[dict]:
    """Every campaign, newest first, with its progress."""
    rows = store.execute("SELECT id, created, kind, source, sign_name, template_code, "
                         "recipients, skipped FROM campaigns ORDER BY created DESC")
    out = []
    for cid, created, kind, source, sign, template, people, skipped in rows:
        out.append({"id": cid, "created": database.local_time(created), "kind": kind,
                    "source": source, "sign_name": sign, "template_code": template,
                    "total_recipients": people, "skipped_rows": skipped,
                    **store.counts(cid)})
    return out


def show(store: Store, campaign_id: str) -> dict:
    campaign = store.campaign(campaign_id)
    campaign["created"] = database.local_time(campaign["created"])
    del campaign["fingerprint"]
    campaign["total_recipients"] = campaign.pop("recipients")
    chunks = store.chunks(campaign_id)
    running = store.sending_run(campaign_id)
    for chunk in chunks:
        for key in ("started", "finished"):
            chunk[key] = database.local_time(chunk[key]) if chunk[key] else None
        del chunk["owner_pid"], chunk["owner_started"]
    return {**campaign, "sending_pid": running[0] if running else None,
            **store.counts(campaign_id), "chunk_list": chunks}


#: Receipts usually arrive within 10 to 30 s; without one, a chunk must be this old before
#: reconcile concludes it never reached the service.
RECONCILE_MIN_AGE = 120


def reconcile(client, store: Store, campaign_id: str,
              min_age: float = RECONCILE_MIN_AGE) -> dict:
    """Settle chunks in flight or unknown with QuerySendDetails: a receipt carrying the
    chunk's own OutId (unique to this campaign and chunk) for its first recipient means it
    was accepted (sent); none in a well-formed answer, for a chunk started at least
    ``min_age`` seconds ago, means it never arrived, and the chunk goes back to planned for
    ``--resume``. Younger chunks without a receipt, chunks whose receipts could not be read,
    and chunks a live run is sending right now, stay as they are."""
    from sms_skill import delivery
    from sms_skill.operations import SERVICE_TZ

    store.campaign(campaign_id)  # an unknown id is an input error, not an empty result
    settled = []
    for chunk in store.doubtful(campaign_id, current_owner()):
        if chunk["state"] == "in_flight":
            settled.append({"chunk": chunk["seq"], "was": "in_flight", "now": "in_flight",
                            "note": f"being sent by a running run (pid {chunk['owner_pid']})"})
            continue
        phone = store.chunk_rows(campaign_id, chunk["seq"])[0][0]
        day = datetime.fromtimestamp(chunk["started"] or time.time(), SERVICE_TZ)
        try:
            receipts = delivery.day_receipts(client, phone, day.strftime("%Y%m%d"))
        except (delivery.Undecided, ApiFailure) as exc:
            settled.append({"chunk": chunk["seq"], "was": chunk["state"],
                            "now": chunk["state"], "note": (
                                f"could not tell: {getattr(exc, 'message', exc)}; run "
                                "`campaign reconcile` again later")})
            continue
        if receipts is None:  # dry run
            continue
        suppression.note_receipts(receipts, phone, client.report)
        found = [r for r in receipts if r.get("OutId") == chunk["out_id"]]
        age = time.time() - (chunk["started"] or 0)
        if not found and age < min_age:
            settled.append({"chunk": chunk["seq"], "was": chunk["state"],
                            "now": chunk["state"],
                            "note": f"no receipt yet; try again in {min_age - age:.0f} s"})
            continue
        state = "sent" if found else "planned"
        store.reconciled(campaign_id, chunk["seq"], state)
        settled.append({"chunk": chunk["seq"], "was": chunk["state"], "now": state})
    if any(s["now"] == "planned" for s in settled):
        resume = "batch-send" if store.campaign(campaign_id)["kind"] == "batch" else "send"
        client.report(f"next: `{prog.name()} {resume} --resume {campaign_id}` sends the "
                      "chunk(s) that never arrived.")
    return {"campaign": campaign_id, "settled": settled, **store.counts(campaign_id)}


def start(client, *, kind: str, source: str, template_code: str,
          sign_name: str | None = None, template_param: str | None = None,
          out_id: str | None = None, skip_invalid: bool = False, force: bool = False,
          skip_sent: bool = False, verify: bool = False, parallel: int = 4,
          rate: float | None = None,
          on_plan: Callable[[Plan], None] = lambda plan: None,
          on_chunk: ChunkHook = lambda chunk, done, total: None) -> dict:
    """Validate the whole file, store the campaign, then send it (see ``run``).

    ``source`` is a path or ``-`` (stdin). A dry run plans in memory and returns the plan
    with the first and last command instead of sending.
    """
    from sms_skill import recipients, validation

    option = "--phone-file" if kind == "send" else "--csv"
    params = validation.template_param(template_param)
    validation.out_id(out_id)
    reader, raw = recipients.open_source(source, option)
    # A dry run plans in a throw-away database file: rows stream to disk, not to memory.
    scratch = tempfile.TemporaryDirectory(prefix="sms-plan-") if client.dry_run else None
    store = (Store(Path(scratch.name) / database.DB_FILE,
                   known=paths.data_dir(create=False) / database.DB_FILE)
             if scratch else Store())
    try:
        rows = (recipients.phone_rows(reader) if kind == "send"
                else recipients.batch_rows(reader, sign_name))
        planned = plan(store, kind=kind, rows=rows, source=option,
                       source_sha256=lambda: reader.sha256.hexdigest(),
                       template_code=template_code, sign_name=sign_name,
                       template_param=template_param, out_id=out_id,
                       skip_invalid=skip_invalid, force=force, skip_sent=skip_sent)
        _check_commands(client, store, planned.campaign_id, option)
        on_plan(planned)
        if verify:
            _verify(client, store, planned.campaign_id, kind, sign_name, template_code, params)
        if client.dry_run:
            return dry_plan(client, store, planned)
        return run(client, store, planned.campaign_id, parallel=parallel, rate=rate,
                   on_chunk=on_chunk)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()
        store.close()
        if scratch:
            scratch.cleanup()


def _verify(client, store: Store, campaign_id: str, kind: str, sign_name: str | None,
            template_code: str, params: dict | None) -> None:
    from sms_skill import verify

    if kind == "send":
        signs, samples = [sign_name], [params or {}]
    else:
        signs = [s for (s,) in store.execute("SELECT DISTINCT sign_name FROM campaign_rows "
                                             "WHERE campaign_id=?", (campaign_id,))]
        first = store.execute("SELECT params FROM campaign_rows WHERE campaign_id=? "
                              "ORDER BY line LIMIT 1", (campaign_id,))
        samples = [json.loads(first[0][0]) if first and first[0][0] else {}]
    try:
        template_type = verify.verify_send(client, sorted(signs), template_code, samples)
    except SkillError:
        _discard(store, campaign_id)
        raise
    if not client.dry_run:  # for the per-number limits of later sends
        with store.transaction() as db:
            ledger.learn_kind(db, template_code, template_type)


def _discard(store: Store, campaign_id: str) -> None:
    """Forget a campaign refused before its first call."""
    for table in ("campaign_rows", "chunks"):
        store.execute(f"DELETE FROM {table} WHERE campaign_id=?", (campaign_id,))  # noqa: S608
    store.execute("DELETE FROM campaigns WHERE id=?", (campaign_id,))


def _check_commands(client, store: Store, campaign_id: str, option: str) -> None:
    """Every chunk's aliyun command can start (within the OS limits, no value that aliyun
    would read as an option): refused now, dry run included, not as a chunk stuck in
    flight."""
    campaign = store.campaign(campaign_id)
    chunks = store.chunks(campaign_id)
    for chunk in chunks:
        action, params, _ = chunk_call(store, campaign, chunk)
        try:
            client.command(action, params)
        except InputError as exc:
            _discard(store, campaign_id)
            raise InputError(option, f"chunk {chunk['seq'] + 1} of {len(chunks)}: "
                                         f"{exc.message}; nothing was sent",
                             exc.hint) from exc


def dry_plan(client, store: Store, planned: Plan) -> dict:
    """What a real run would do: counts and the first and last command, shell-quoted."""
    import shlex

    campaign = store.campaign(planned.campaign_id)
    chunks = store.chunks(planned.campaign_id)
    commands = []
    for chunk in (chunks[0], chunks[-1]) if len(chunks) > 1 else chunks:
        action, params, _ = chunk_call(store, campaign, chunk)
        commands.append(shlex.join(client.command(action, params)))
    return {"dry_run": True, "recipients": planned.recipients, "chunks": planned.chunks,
            "calls": planned.chunks, "skipped_rows": planned.bad_total,
            "already_sent": planned.already_sent, "over_limit": len(planned.over_limit),
            "suppressed": planned.suppressed,
            "over_limit_numbers": [breach.as_dict() for breach in planned.over_limit],
            "first_command": commands[0], "last_command": commands[-1]}


def resume(client, campaign_id: str, *, parallel: int = 4, rate: float | None = None,
           on_chunk: ChunkHook = lambda chunk, done, total: None) -> dict:
    """Continue a campaign: only chunks never attempted are sent; the summary lists the
    ones in doubt, which ``reconcile`` can settle."""
    store = Store()
    try:
        store.campaign(campaign_id)
        if client.dry_run:
            todo = store.chunks(campaign_id, ["planned"])
            return {"dry_run": True, "campaign": campaign_id, "chunks_to_send": len(todo),
                    **store.counts(campaign_id)}
        return run(client, store, campaign_id, parallel=parallel, rate=rate,
                   on_chunk=on_chunk)
    finally:
        store.close()
