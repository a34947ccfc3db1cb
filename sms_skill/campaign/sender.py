"""Sending a planned campaign: chunk by chunk, in parallel, each chunk's state written
before and after its call.

Only chunks never attempted are sent (``resume`` continues a campaign the same way); a
throttled chunk is tried again later, since it was not accepted. On a signal no new chunk
starts and the calls under way are stopped; chunks still in flight are left unknown for
``reconcile``.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from sms_skill import database, paths
from sms_skill.campaign import report
from sms_skill.campaign.plan import Plan, chunk_call, chunk_out_id
from sms_skill.campaign.store import Store, current_owner
from sms_skill.errors import (
    ApiFailure,
    ConfirmationRequired,
    EnvironmentProblem,
    InputError,
    OutcomeUnknown,
    SkillError,
    StorageProblem,
)
from sms_skill.lifecycle import Interrupted

THROTTLED = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api")
MAX_ATTEMPTS = 6
#: A chunk refused as a whole over one of its numbers, which the answer does not name:
#: nothing was sent, so it is split in two until the bad number is alone and the rest sent.
NUMBER_REFUSED = ("isv.MOBILE_NUMBER_ILLEGAL",)
#: After a signal, calls under way get this long to end before their chunks are left unknown.
STOP_GRACE_SECONDS = 0.8


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
    finished = itertools.count(1)  # next() is atomic under the GIL
    total = [len(todo)]  # grows when a chunk is split
    errors: list[BaseException] = []
    confirmation: list[ConfirmationRequired] = []  # the CLI's safety policy asked

    def send_chunk(chunk: dict) -> None:
        seq = chunk["seq"]
        action, params, first_recipient = chunk_call(store, campaign, chunk)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            limiter.wait()
            if stop.is_set():
                return
            begun = store.begin(campaign, seq, me, attempt)
            if begun.left_out and begun.left_out.count:
                _report_left_out(client, seq, begun.left_out)
            if begun.refused:
                if begun.refused != "lease lost":
                    code = "LEFT_OUT" if begun.left_out else "DUPLICATE"
                    on_chunk({**chunk, "state": "failed", "code": code},
                             next(finished), total[0])
                return
            if begun.left_out and begun.left_out.count:  # fewer recipients than planned
                action, params, first_recipient = chunk_call(store, campaign, chunk)
            if stop.is_set():  # stopped between the claim and the call: nothing went out
                store.retry_later(campaign_id, seq, None)
                return
            state, biz_id, code, message = "unknown", None, None, None
            try:
                response = client.call(action, params, recipient=first_recipient)
                state, biz_id = "sent", response.get("BizId")
            except ApiFailure as exc:
                state, code, message = "failed", exc.code or None, str(exc)
                if code in NUMBER_REFUSED and chunk["size"] > 1 and not stop.is_set():
                    # Refused as a whole over a number it does not name: nothing was sent.
                    halves = store.split(campaign_id, seq, me, code, lambda new: chunk_out_id(
                        campaign["out_id"], campaign_id, new))
                    with queue_lock:
                        queue.extendleft(reversed(halves))
                        total[0] += len(halves)
                    on_chunk({**chunk, "state": "split", "code": code}, next(finished),
                             total[0])
                    return
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
            on_chunk({**chunk, "state": state, "code": code}, next(finished), total[0])
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
        return {**report.summary(store, campaign_id), "interrupted": str(exc)}
    if errors:
        raise errors[0]
    if confirmation:
        return {**report.summary(store, campaign_id),
                "confirmation_required": str(confirmation[0])}
    return report.summary(store, campaign_id)


def _report_left_out(client, seq: int, left) -> None:
    """Say on stderr which recipients a chunk left out just before its call."""
    if left.suppressed:
        from sms_skill.suppression import skipped_note

        client.report(f"chunk {seq}: {skipped_note(left.suppressed)}")
    if left.over_limit:
        from sms_skill.limits import describe_left_out

        client.report(f"chunk {seq}: {describe_left_out(left.over_limit)}")


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


def start(client, *, kind: str, source: str, template_code: str,
          sign_name: str | None = None, template_param: str | None = None,
          out_id: str | None = None, skip_invalid: bool = False, force: bool = False,
          skip_sent: bool = False, verify: bool = False, parallel: int = 4,
          rate: float | None = None, confirm: str | None = None,
          price: float | None = None, template_text: str | None = None,
          on_plan: Callable[[Plan], None] = lambda plan: None,
          on_chunk: ChunkHook = lambda chunk, done, total: None) -> dict:
    """Validate the whole file, store the campaign, then send it (see ``run``).

    ``source`` is a path or ``-`` (stdin). A dry run plans in a scratch database and
    returns the compact plan (``plan.dry_plan``; ``price`` and ``template_text`` give its
    segments and cost) instead of sending. ``confirm``: send only if the plan id is this
    one (what the user approved), else InputError and nothing is stored or sent.
    """
    from sms_skill import recipients, validation
    from sms_skill.campaign import plan as planning

    option = "--phone-file" if kind == "send" else "--csv"
    params = validation.template_param(template_param)
    validation.out_id(out_id)
    reader, raw = recipients.open_source(source, option)
    # A dry run plans in a throw-away database file: rows stream to disk, not to memory.
    scratch = tempfile.TemporaryDirectory(prefix="sms-plan-") if client.dry_run else None
    store = (Store(Path(scratch.name) / database.DB_FILE,
                   known=paths.data_dir(create=False) / database.DB_FILE, scratch=True)
             if scratch else Store())
    try:
        rows = (recipients.phone_runs(reader) if kind == "send"
                else recipients.batch_rows(reader, sign_name))
        planned = planning.plan(store, kind=kind, rows=rows, source=option,
                       source_sha256=lambda: reader.sha256.hexdigest(),
                       template_code=template_code, sign_name=sign_name,
                       template_param=template_param, out_id=out_id,
                       skip_invalid=skip_invalid, force=force, skip_sent=skip_sent,
                       command=client.command,
                       where=(client.target.region, client.target.profile))
        planning.seal(client, store, planned, option)
        planned.dry_run = client.dry_run
        if confirm is not None and confirm != planned.plan_id:
            store.discard(planned.campaign_id)
            # The new id is not shown: it belongs to a plan the user has not seen.
            raise InputError("--confirm", f"this send's plan is not {confirm}: the file, the "
                             "numbers already sent, the parameters, the region or the profile "
                             "changed since that plan was shown; nothing was sent;",
                             "run the same command with --dry-run, show the user the new "
                             "plan, and confirm its plan_id only after they approve it.")
        on_plan(planned)
        if verify:
            planning.verify(client, store, planned.campaign_id, kind, sign_name,
                            template_code, params)
        if client.dry_run:
            return planning.dry_plan(client, store, planned, price=price,
                                     template_text=template_text)
        return run(client, store, planned.campaign_id, parallel=parallel, rate=rate,
                   on_chunk=on_chunk)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()
        store.close()
        if scratch:
            scratch.cleanup()


def resume(client, campaign_id: str, *, parallel: int = 4, rate: float | None = None,
           on_chunk: ChunkHook = lambda chunk, done, total: None) -> dict:
    """Continue a campaign: only chunks never attempted are sent; the summary lists the
    ones in doubt, which ``reconcile`` can settle."""
    with Store() as store:
        store.campaign(campaign_id)
        if client.dry_run:
            todo = store.chunks(campaign_id, ["planned"])
            return {"dry_run": True, "campaign": campaign_id, "chunks_to_send": len(todo),
                    **store.counts(campaign_id)}
        return run(client, store, campaign_id, parallel=parallel, rate=rate,
                   on_chunk=on_chunk)


def retry(client, campaign_id: str, *, parallel: int = 4, rate: float | None = None,
          on_chunk: ChunkHook = lambda chunk, done, total: None) -> dict:
    """Send again the chunks that failed, a failure proving nothing was sent (the cause
    fixed, say a signature approved since); chunks whose outcome is unknown are never
    resent. Chunks never attempted go out too, as with ``resume``."""
    with Store() as store:
        store.campaign(campaign_id)
        if client.dry_run:
            failed = store.chunks(campaign_id, ["failed"])
            todo = store.chunks(campaign_id, ["planned"])
            return {"dry_run": True, "campaign": campaign_id,
                    "chunks_to_retry": len(failed), "chunks_to_send": len(todo),
                    **store.counts(campaign_id)}
        if store.sending_run(campaign_id) is None:
            store.plan_again_failed(campaign_id)
        return run(client, store, campaign_id, parallel=parallel, rate=rate,
                   on_chunk=on_chunk)
