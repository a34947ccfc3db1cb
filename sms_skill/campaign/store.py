"""The campaign tables: every SQL statement of campaigns, as named methods.

A recipient file is stored row by row (``campaign_rows``) and cut into chunks; each chunk's
state is written before and after its call (planned -> in_flight -> sent, failed or
unknown), so a crash at any instant leaves a true record. Each chunk is leased to one live
run (its pid and process start time); a lease of a run that died is free again, and its
chunks in flight become unknown. Recipients sent to go to the per-recipient ledger
(``sms_skill.ledger``) in the same transactions.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from sms_skill import database, ledger, prog, recipient_filters, tunables
from sms_skill.errors import DuplicateSend, InputError
from sms_skill.liveness import is_alive, start_time

#: ``split``: refused as a whole over a number (nothing sent); its rows went to new chunks.
STATES = ("planned", "in_flight", "sent", "failed", "unknown", "split")

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY, created REAL NOT NULL, kind TEXT NOT NULL, source TEXT,
    fingerprint TEXT NOT NULL, sign_name TEXT, template_code TEXT NOT NULL,
    template_param TEXT, out_id TEXT, recipients INTEGER NOT NULL, skipped INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_rows (
    campaign_id TEXT NOT NULL, line INTEGER NOT NULL, chunk INTEGER NOT NULL,
    phone TEXT NOT NULL, sign_name TEXT, params TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    campaign_id TEXT NOT NULL, seq INTEGER NOT NULL, size INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'planned', attempts INTEGER NOT NULL DEFAULT 0,
    out_id TEXT NOT NULL, biz_id TEXT, code TEXT, message TEXT, started REAL, finished REAL,
    PRIMARY KEY (campaign_id, seq)
);
""" + ledger.SCHEMA
#: Rows by chunk, in file order: the journal's. A scratch database does without it (a dry
#: run reads one chunk: a scan of the rows costs less than sorting them all), and builds its
#: unique key (``SCRATCH_KEY``) once its rows are stored (one sort), not row by row: numbers
#: in no particular order made each insert a random b-tree walk through a bounded page cache.
CHUNK_INDEX = """
CREATE INDEX IF NOT EXISTS campaign_rows_chunk ON campaign_rows (campaign_id, chunk, line);
"""
#: Columns added after the first release: older databases get them on open.
ADDED_COLUMNS = {
    "campaigns": ["already_sent INTEGER NOT NULL DEFAULT 0", "forced INTEGER NOT NULL DEFAULT 0",
                  "over_limit INTEGER NOT NULL DEFAULT 0",
                  "suppressed INTEGER NOT NULL DEFAULT 0"],
    "campaign_rows": ["key TEXT", "message TEXT"],
    "chunks": ["owner_pid INTEGER", "owner_started TEXT"],
    **ledger.ADDED_COLUMNS,
}
#: The unique key is what refuses a number listed twice, in any spelling. (Databases made
#: before it also have a primary key on (campaign_id, phone), which it implies: new ones
#: do without that index, one more b-tree written per row.)
AFTER_COLUMNS = """
CREATE UNIQUE INDEX IF NOT EXISTS campaign_rows_key ON campaign_rows (campaign_id, key);
"""
#: ``AFTER_COLUMNS`` of a scratch database, which holds one campaign: on the key alone (half
#: the bytes to sort).
SCRATCH_KEY = """
CREATE UNIQUE INDEX IF NOT EXISTS campaign_rows_key ON campaign_rows (key);
"""
CHUNK_COLUMNS = ("seq", "size", "state", "attempts", "out_id", "biz_id", "code", "message",
                 "started", "finished", "owner_pid", "owner_started")

#: A run: its pid and its process start time (a reused pid is another run).
Owner = tuple[int, str]


class Begun(NamedTuple):
    """``Store.begin``'s answer: why the chunk is not sent (None: go ahead), and the
    recipients it left out just now."""

    refused: str | None
    left_out: recipient_filters.LeftOut | None = None


def current_owner() -> Owner:
    return os.getpid(), start_time(os.getpid())


def _insert(table: str, columns: Iterable[str]) -> str:
    """A column-named INSERT statement with one placeholder per column."""
    names = tuple(columns)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({','.join('?' * len(names))})"


#: A planned recipient, as ``Draft.add_rows`` takes it.
ROW_COLUMNS = ("line", "phone", "sign_name", "params", "key", "message")


@functools.cache
def _has_json_each() -> bool:
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT count(*) FROM json_each('[1]')")
        return True
    except sqlite3.OperationalError:  # no such table: json_each
        return False
    finally:
        probe.close()


class Draft:
    """The statements that plan one campaign, inside the store's write transaction."""

    def __init__(self, db: sqlite3.Connection, ledger_table: str, known_schema: str,
                 scratch: bool) -> None:
        self.db = db
        self.ledger_table = ledger_table
        self.known_schema = known_schema
        self.scratch = scratch

    def add_rows(self, rows: list[tuple], first: int, size: int,
                 columns: tuple[str, ...] = ROW_COLUMNS) -> list[int]:
        """Store recipient rows, in file order, as the campaign's recipients ``first``,
        ``first + 1``, ... cut in chunks of ``size``: each row is (campaign_id, chunk, then
        ``columns``' values), its chunk the one it gets if no row is refused; the other
        columns stay NULL. One executemany under a savepoint. Returns the indexes of the rows
        refused because the number (in any spelling) is listed already; a batch holding one
        is stored again row by row, so the first spelling is kept and later rows keep their
        places."""
        insert = _insert("campaign_rows", ("campaign_id", "chunk", *columns))
        self.db.execute("SAVEPOINT plan_batch")
        try:
            self.db.executemany(insert, rows)
            refused = None
        except sqlite3.IntegrityError:
            self.db.execute("ROLLBACK TO plan_batch")
            refused = []
        self.db.execute("RELEASE plan_batch")
        if refused is None:
            return []
        for index, (campaign_id, _, *row) in enumerate(rows):
            try:
                self.db.execute(insert, (campaign_id, (first + index - len(refused)) // size,
                                         *row))
            except sqlite3.IntegrityError:
                refused.append(index)
        return refused

    def add_numbers(self, campaign_id: str, first: int, size: int, line: int,
                    phones: list[str], message: str) -> bool:
        """``add_rows`` for mainland numbers as written (the key: 86 and the number) on the
        lines from ``line`` on, all of one ``message``, in one statement (one executemany
        step per row costs more than storing it); False, and none stored, when one of them
        is listed already, or when this SQLite has no ``json_each`` (before 3.38 it was a
        build option)."""
        if not _has_json_each():
            return False
        try:
            self.db.execute(
                "INSERT INTO campaign_rows (campaign_id, chunk, line, phone, key, message) "
                "SELECT ?1, (?2 + j.key) / ?3, ?4 + j.key, j.value, '86' || j.value, ?5 "
                "FROM json_each(?6) j",
                (campaign_id, first, size, line, message, '["' + '","'.join(phones) + '"]'))
        except sqlite3.IntegrityError:
            return False
        return True

    def rows_stored(self, campaign_id: str, size: int,
                    shown: int) -> tuple[int, list[tuple[int, str]]]:
        """Every row is in: the unique key a scratch database put off. Its rows were stored
        without it, so the rows whose number (in any spelling) an earlier row has are
        dropped now, as ``add_rows`` refuses them (the first spelling is kept, later rows
        move up) and the chunks numbered again. Returns how many were dropped and the first
        ``shown`` of them, (line, phone) in file order."""
        if not self.scratch:  # the journal's key refused them as they came
            return 0, []
        try:
            self.db.execute(SCRATCH_KEY)
        except sqlite3.IntegrityError:  # the index it sorts for serves the same look-ups;
            return self._drop_repeats(campaign_id, size, shown)  # no row comes after
        return 0, []

    def _drop_repeats(self, campaign_id: str, size: int,
                      shown: int) -> tuple[int, list[tuple[int, str]]]:
        """The rows of a scratch database's campaign (its only one, stored in file order,
        so in rowid order) whose key an earlier row has: dropped, the chunks renumbered.
        Leaves an index on the key (not a unique one: nothing is stored after)."""
        db = self.db
        # The keys in order (one sort), then only the repeated keys' rows looked up.
        db.execute("CREATE INDEX campaign_rows_repeats ON campaign_rows (campaign_id, key)")
        db.execute("DROP TABLE IF EXISTS temp.repeats")
        db.execute("CREATE TEMP TABLE repeats AS SELECT r.rowid AS id, r.line, r.phone FROM "
                   "(SELECT key, min(rowid) AS first FROM campaign_rows WHERE campaign_id=?1 "
                   "GROUP BY key HAVING count(*) > 1) d CROSS JOIN campaign_rows r "
                   "INDEXED BY campaign_rows_repeats "
                   "WHERE r.campaign_id=?1 AND r.key=d.key AND r.rowid>d.first", (campaign_id,))
        count, start = db.execute("SELECT count(*), min(id) FROM temp.repeats").fetchone()
        listed = [tuple(row) for row in db.execute(
            "SELECT line, phone FROM temp.repeats ORDER BY id LIMIT ?", (shown,))]
        db.execute("DELETE FROM campaign_rows WHERE rowid IN (SELECT id FROM temp.repeats)")
        db.execute("DROP TABLE temp.repeats")
        # The rows after the first one dropped move up, a batch at a time (flat memory).
        # NOT INDEXED: by rowid ranges, never the key index and a sort per batch.
        position = db.execute("SELECT count(*) FROM campaign_rows NOT INDEXED WHERE "
                              "campaign_id=? AND rowid<?", (campaign_id, start)).fetchone()[0]
        after = start
        while True:
            rows = db.execute("SELECT rowid, chunk FROM campaign_rows NOT INDEXED WHERE "
                              "campaign_id=? AND rowid>? ORDER BY rowid LIMIT 5000",
                              (campaign_id, after)).fetchall()
            if not rows:
                break
            db.executemany("UPDATE campaign_rows SET chunk=? WHERE rowid=?", (  # moved only
                (n // size, rowid) for n, (rowid, chunk) in enumerate(rows, position)
                if n // size != chunk))
            position += len(rows)
            after = rows[-1][0]
        return count, listed

    def earlier_campaign(self, fingerprint: str) -> str | None:
        """The newest campaign of the same file and parameters, if any."""
        found = self.db.execute("SELECT id FROM campaigns WHERE fingerprint=? ORDER BY "
                                "created DESC LIMIT 1", (fingerprint,)).fetchone()
        return found[0] if found else None

    def prune_ledger(self) -> None:
        if self.ledger_table == "ledger":  # never the attached, read-only one
            ledger.prune(self.db)

    def conflicts(self, campaign_id: str, total: int) -> ledger.Conflicts:
        return ledger.campaign_conflicts(self.db, campaign_id, total, table=self.ledger_table)

    def filter_recipients(self, campaign_id: str, *, template_code: str,
                          sign_name: str | None, total: int, force: bool,
                          size: int) -> recipient_filters.LeftOut:
        """Leave out the numbers on the suppression list, and (unless ``force``) those one
        more send would put over a per-number limit."""
        return recipient_filters.leave_out(
            self.db, campaign_id, template_code=template_code, sign_name=sign_name,
            total=total, force=force, schema=self.known_schema,
            drop=lambda keys: self.leave_out(campaign_id, keys, size))

    def leave_out(self, campaign_id: str, keys: set[str], size: int) -> int:
        """Drop these recipients from the campaign and number the chunks again."""
        self.db.executemany("DELETE FROM campaign_rows WHERE campaign_id=? AND key=?",
                            ((campaign_id, key) for key in keys))
        rowids = self.db.execute("SELECT rowid FROM campaign_rows WHERE campaign_id=? "
                                 "ORDER BY line", (campaign_id,)).fetchall()
        self.db.executemany("UPDATE campaign_rows SET chunk=? WHERE rowid=?",
                            ((position // size, rowid)
                             for position, (rowid,) in enumerate(rowids)))
        return len(keys)

    def add_campaign(self, **columns: object) -> None:
        self.db.execute(_insert("campaigns", columns), tuple(columns.values()))

    def add_chunks(self, chunks: Iterable[dict]) -> None:
        """Chunk rows, each a dict of the same columns."""
        rows = iter(chunks)
        first = next(rows, None)
        if first is None:
            return
        self.db.execute(_insert("chunks", first), tuple(first.values()))
        self.db.executemany(_insert("chunks", first), (tuple(c.values()) for c in rows))


class Store:
    """The campaign tables; safe to share between the worker threads of one run."""

    def __init__(self, path: Path | None = None, known: Path | None = None, *,
                 scratch: bool = False) -> None:
        """``known``: another database whose ledger ``plan`` checks, read only (a dry run
        plans in a scratch database but must see what was really sent); ``scratch``: a
        throw-away database, deleted after the run (``database.connect``)."""
        self.path = path or database.default_path()
        self._db = database.connect(self.path, SCHEMA if scratch else SCHEMA + CHUNK_INDEX,
                                    ADDED_COLUMNS, "" if scratch else AFTER_COLUMNS,
                                    scratch=scratch)
        self.scratch = scratch
        self._lock = threading.Lock()
        self.ledger_table = "ledger"
        #: Where the per-number limits and the suppression list are read: ``known.`` when
        #: planning in a scratch database.
        self.known_schema = ""
        if known is not None and known.exists():
            self._db.execute("ATTACH DATABASE ? AS known", (str(known),))
            self.known_schema = "known."
            if self._db.has_table("ledger", "known."):
                self.ledger_table = "known.ledger"
        self.prune(tunables.retention_cutoff())  # the documented retention

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def planning(self) -> Iterator[Draft]:
        """Plan a campaign in one write transaction: all of it is stored, or nothing."""
        with self.transaction() as db:
            yield Draft(db, self.ledger_table, self.known_schema, self.scratch)

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """Several statements as one write transaction, under the store's lock
        (``durable``: see ``database.immediate``)."""
        with self._lock, database.immediate(self._db, durable=durable) as db:
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
        """Chunks and recipients by state; ``split`` only when a chunk was split (its
        recipients are counted in the chunks they went to)."""
        chunks = dict.fromkeys(STATES[:-1], 0)
        people = dict.fromkeys(STATES[:-1], 0)
        for state, number, size in self.execute(
                "SELECT state, count(*), sum(size) FROM chunks WHERE campaign_id=? "
                "GROUP BY state", (campaign_id,)):
            chunks[state], people[state] = number, size
        people.pop("split", None)
        return {"chunks": chunks, "recipients": people}

    def chunk_rows(self, campaign_id: str, seq: int) -> list[tuple[str, str, str]]:
        return self.execute("SELECT phone, sign_name, params FROM campaign_rows WHERE "
                            "campaign_id=? AND chunk=? ORDER BY line", (campaign_id, seq))

    def chunks(self, campaign_id: str, states: Iterable[str] = STATES) -> list[dict]:
        wanted = tuple(states)
        marks = ",".join("?" * len(wanted))
        rows = self.execute(
            f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks WHERE campaign_id=? AND state "  # noqa: S608
            f"IN ({marks}) ORDER BY seq", (campaign_id, *wanted))
        return [dict(zip(CHUNK_COLUMNS, row)) for row in rows]

    def rows_in_order(self, campaign_id: str) -> Iterator[tuple]:
        """(chunk, phone, sign_name, params) of every row, chunk by chunk, as sent."""
        with self._lock:
            rows = self._db.execute("SELECT chunk, phone, sign_name, params FROM campaign_rows "
                                    "WHERE campaign_id=? ORDER BY chunk, line", (campaign_id,))
            batch = rows.fetchmany(5000)
        while batch:
            yield from batch
            with self._lock:
                batch = rows.fetchmany(5000)

    def listing(self) -> list[tuple]:
        """Every campaign's headline, newest first."""
        return self.execute("SELECT id, created, kind, source, sign_name, template_code, "
                            "recipients, skipped FROM campaigns ORDER BY created DESC")

    def sign_names(self, campaign_id: str) -> list[str]:
        """The signatures the campaign's rows use."""
        return [s for (s,) in self.execute("SELECT DISTINCT sign_name FROM campaign_rows "
                                           "WHERE campaign_id=?", (campaign_id,))]

    def first_params(self, campaign_id: str) -> str | None:
        """The template parameters (JSON) of the campaign's first row."""
        first = self.execute("SELECT params FROM campaign_rows WHERE campaign_id=? "
                             "ORDER BY line LIMIT 1", (campaign_id,))
        return first[0][0] if first else None

    def learn_kind(self, template_code: str, template_type: object) -> None:
        """Remember a template's type (from --verify) for the per-number limits."""
        with self.transaction() as db:
            ledger.learn_kind(db, template_code, template_type)

    def discard(self, campaign_id: str) -> None:
        """Forget a campaign refused before its first call."""
        with self.transaction() as db:
            db.execute("DELETE FROM campaign_rows WHERE campaign_id=?", (campaign_id,))
            db.execute("DELETE FROM chunks WHERE campaign_id=?", (campaign_id,))
            db.execute("DELETE FROM campaigns WHERE id=?", (campaign_id,))

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

    def begin(self, campaign: dict, seq: int, me: Owner, attempt: int) -> Begun:
        """Mark a leased chunk in flight and its recipients pending in the ledger, in one
        transaction, just before its call. First its recipients are checked again, as they
        are now (a resume may come hours after the plan, and other runs send meanwhile):
        those on the suppression list, and (unless the campaign was forced) those one more
        send would put over a per-number limit, leave the chunk. Not sent at all: the lease
        was lost, (unless forced) another send reached some of its recipients with the same
        message since the campaign was planned, or no recipient is left."""
        campaign_id = campaign["id"]
        now = time.time()
        with self.transaction() as db:
            held = db.execute("SELECT size FROM chunks WHERE campaign_id=? AND seq=? AND "
                              "state='planned' AND owner_pid=? AND owner_started=?",
                              (campaign_id, seq, *me)).fetchone()
            if held is None:
                return Begun("lease lost")
            if not campaign["forced"]:
                conflicts = ledger.campaign_conflicts(db, campaign_id, 0, now, chunk=seq)
                if conflicts:
                    return Begun(self._fail(db, campaign_id, seq, "DUPLICATE",
                                            conflicts.error(single=False).message, now))
            left = recipient_filters.leave_out(
                db, campaign_id, template_code=campaign["template_code"],
                sign_name=campaign["sign_name"], total=held[0], force=bool(campaign["forced"]),
                schema="", now=now, chunk=seq,
                drop=lambda keys: self._drop(db, campaign_id, seq, keys))
            if left.count:
                db.execute("UPDATE campaigns SET recipients=recipients-?, "
                           "over_limit=over_limit+?, suppressed=suppressed+? WHERE id=?",
                           (left.count, len(left.over_limit), left.suppressed, campaign_id))
                if left.count >= held[0]:
                    return Begun(self._fail(
                        db, campaign_id, seq, "LEFT_OUT", "every recipient was left out just "
                        "before the call (suppression list or per-number limits); nothing "
                        "was sent", now), left)
            db.execute("UPDATE chunks SET state='in_flight', attempts=?, started=? WHERE "
                       "campaign_id=? AND seq=?", (attempt, now, campaign_id, seq))
            ledger.record_chunk(db, campaign_id, seq, now)
        return Begun(None, left)

    @staticmethod
    def _fail(db: sqlite3.Connection, campaign_id: str, seq: int, code: str, message: str,
              now: float) -> str:
        """A chunk not sent, for a reason that proves nothing went out; returns the reason."""
        db.execute("UPDATE chunks SET state='failed', code=?, message=?, finished=? WHERE "
                   "campaign_id=? AND seq=?", (code, message, now, campaign_id, seq))
        return message

    @staticmethod
    def _drop(db: sqlite3.Connection, campaign_id: str, seq: int, keys: set[str]) -> int:
        """Take these recipients out of a chunk about to be sent."""
        db.executemany("DELETE FROM campaign_rows WHERE campaign_id=? AND chunk=? AND key=?",
                       ((campaign_id, seq, key) for key in keys))
        db.execute("UPDATE chunks SET size=size-? WHERE campaign_id=? AND seq=?",
                   (len(keys), campaign_id, seq))
        return len(keys)

    def retry_later(self, campaign_id: str, seq: int, code: str | None) -> None:
        """A throttled call was not accepted, or none was made: planned again."""
        with self.transaction() as db:
            db.execute("UPDATE chunks SET state='planned', code=? WHERE campaign_id=? AND "
                       "seq=?", (code, campaign_id, seq))
            ledger.settle(db, campaign_id, seq, "failed")

    def finish(self, campaign_id: str, seq: int, state: str, biz_id: str | None,
               code: str | None, message: str | None) -> None:
        """A chunk's outcome. Not waited onto the disk: lost in a power cut, the chunk
        stays in flight, unknown to the next run (never resent); ``begin``'s mark, which
        prevents a resend, is."""
        with self.transaction(durable=False) as db:
            db.execute("UPDATE chunks SET state=?, biz_id=?, code=?, message=?, finished=? "
                       "WHERE campaign_id=? AND seq=?",
                       (state, biz_id, code, message, time.time(), campaign_id, seq))
            ledger.settle(db, campaign_id, seq, state, biz_id)

    def split(self, campaign_id: str, seq: int, me: Owner, code: str,
              out_id: Callable[[int], str]) -> list[dict]:
        """A chunk the gateway refused as a whole, proving nothing was sent: its rows go,
        in order, to two new chunks leased to ``me`` (``out_id(seq)`` names them); it
        stays on record as ``split``, with no rows left."""
        with self.transaction() as db:
            rowids = [r for (r,) in db.execute(
                "SELECT rowid FROM campaign_rows WHERE campaign_id=? AND chunk=? ORDER BY line",
                (campaign_id, seq))]
            top = db.execute("SELECT max(seq) FROM chunks WHERE campaign_id=?",
                             (campaign_id,)).fetchone()[0]
            half = (len(rowids) + 1) // 2
            made = []
            for number, part in enumerate((rowids[:half], rowids[half:]), top + 1):
                db.executemany("UPDATE campaign_rows SET chunk=? WHERE rowid=?",
                               ((number, rowid) for rowid in part))
                columns = {"campaign_id": campaign_id, "seq": number, "size": len(part),
                           "out_id": out_id(number), "owner_pid": me[0], "owner_started": me[1]}
                db.execute(_insert("chunks", columns), tuple(columns.values()))
                made.append(number)
            db.execute("UPDATE chunks SET state='split', size=0, code=?, message=?, "
                       "finished=? WHERE campaign_id=? AND seq=?",
                       (code, f"refused as a whole, nothing sent; split into chunks "
                        f"{made[0]} and {made[1]}", time.time(), campaign_id, seq))
            ledger.settle(db, campaign_id, seq, "failed")
        wanted = set(made)
        return [c for c in self.chunks(campaign_id, ["planned"]) if c["seq"] in wanted]

    def plan_again_failed(self, campaign_id: str) -> int:
        """Failed chunks (nothing was sent) planned again, for ``retry``; returns how many."""
        with self.transaction() as db:
            return db.execute("UPDATE chunks SET state='planned', owner_pid=NULL, "
                              "message='retried after: ' || coalesce(message, '') "
                              "WHERE campaign_id=? AND state='failed' AND size>0",
                              (campaign_id,)).rowcount

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
