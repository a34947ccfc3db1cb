"""Delivery receipts: decoding SendStatus and ErrCode, and waiting for final states."""

from __future__ import annotations

import time
from collections.abc import Callable

from sms_skill import api, prog, references
from sms_skill.errors import ApiFailure, OutcomeUnknown

SEND_STATUS = {1: "in flight", 2: "failed", 3: "delivered"}
ROWS = ("SmsSendDetailDTOs", "SmsSendDetailDTO")


def records(response: dict) -> list[dict]:
    return (response.get(ROWS[0]) or {}).get(ROWS[1]) or []


#: Receipts for one number on one day that reconcile reads at most (in pages of 50).
MAX_RECEIPTS = 1000
_PAGE = 50


class Undecided(Exception):
    """A QuerySendDetails answer that proves nothing: it cannot show that a receipt is
    missing."""


def _checked_page(response: object, page: int) -> tuple[list[dict], int]:
    """The records and TotalCount of a well-formed page; Undecided otherwise."""
    if not isinstance(response, dict) or response.get("Code") != "OK":
        code = response.get("Code") if isinstance(response, dict) else None
        raise Undecided(f"the answer has Code {code!r}, not 'OK'")
    holder = response.get(ROWS[0])
    found = holder.get(ROWS[1]) if isinstance(holder, dict) else None
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        raise Undecided(f"the answer has no list {ROWS[0]}.{ROWS[1]}")
    total = response.get("TotalCount")
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise Undecided(f"the answer's TotalCount is {response.get('TotalCount')!r}")
    if len(found) != max(0, min(_PAGE, total - (page - 1) * _PAGE)):
        raise Undecided(f"page {page} holds {len(found)} receipt(s) of TotalCount {total}")
    return found, total


def day_receipts(client, phone: str, day: str) -> list[dict] | None:
    """Every receipt for ``phone`` on ``day`` (yyyyMMdd), page by page; None in a dry run.

    Raises Undecided unless every page is well formed (Code OK, a list of receipts,
    consistent with TotalCount), and ApiFailure when a query fails: only then may a missing
    receipt count as "never arrived".
    """
    records: list[dict] = []
    page, total = 1, 1
    while len(records) < total:
        response = client.call("QuerySendDetails", api.query_send_details(
            phone, day, page_size=_PAGE, current_page=page))
        if client.dry_run:
            return None
        found, total = _checked_page(response, page)
        if total > MAX_RECEIPTS:
            raise Undecided(f"{total} receipts that day, more than the {MAX_RECEIPTS} read")
        records += found
        page += 1
    return records


def decode(response: dict) -> dict:
    """Adds ``SendStatusText`` and ``ErrCodeMeaning`` to every record, in place."""
    for record in records(response):
        try:
            status = int(record.get("SendStatus"))
        except (TypeError, ValueError):
            status = None
        record["SendStatusText"] = SEND_STATUS.get(status, "unknown")
        code = record.get("ErrCode")
        if code:
            entry = references.lookup(str(code))
            record["ErrCodeMeaning"] = (f"{entry.meaning} Next: {entry.action}" if entry
                                        else "not in references/sms-error-codes.md")
    return response


def settled(response: dict) -> bool:
    found = records(response)
    return bool(found) and all(r.get("SendStatusText") in ("failed", "delivered")
                               for r in found)


def wait(fetch: Callable[[], dict], timeout: float, first_interval: float = 2.0,
         report: Callable[[str], None] = lambda line: None,
         sleep: Callable[[float], None] = time.sleep) -> dict:
    """Polls with backoff until every record is delivered or failed, or ``timeout`` passes.

    Returns the last response when all were delivered; raises ApiFailure when any failed
    and OutcomeUnknown when some are still in flight (or not yet visible) at the timeout.
    """
    deadline = time.monotonic() + timeout
    interval = first_interval
    while True:
        response = decode(fetch())
        if settled(response):
            break
        left = deadline - time.monotonic()
        if left <= 0:
            found = records(response)
            pending = sum(r.get("SendStatusText") == "in flight" for r in found)
            state = (f"{pending} of {len(found)} record(s) still in flight" if found else
                     "no record found yet")
            error = OutcomeUnknown(
                f"after {timeout:g} s, {state};",
                "run query-status again later; do not resend meanwhile." if found else
                "a record can take minutes to appear: run query-status again later, or "
                f"`{prog.name()} reconcile` for a send of this skill; do not resend meanwhile.")
            error.result = {**response, "Wait": {"TimedOut": True, "Records": len(found),
                                                 "InFlight": pending}}
            raise error
        report(f"waiting for receipts: next check in {min(interval, left):.0f} s")
        sleep(min(interval, left))
        interval = min(interval * 2, 30.0)
    failed = [r for r in records(response) if r["SendStatusText"] == "failed"]
    if failed:
        codes = ", ".join(sorted({str(r.get("ErrCode")) for r in failed}))
        error = ApiFailure(f"{len(failed)} message(s) failed to deliver ({codes});",
                           f"run `{prog.name()} explain CODE` for each code.",
                           code=codes, response=response)
        error.result = response
        raise error
    return response
