"""The campaign hook of the per-number limits (and the suppression list): which recipients
a campaign leaves out.

One call, ``leave_out``: while the campaign is planned, and again for each chunk just before
its call (a resume hours later, or another run meanwhile, may have changed the answer),
inside the transaction that plans or begins it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sms_skill import ledger, limits, suppression
from sms_skill.errors import InputError

if TYPE_CHECKING:
    import sqlite3


@dataclass
class LeftOut:
    """Recipients a campaign leaves out, and why."""

    over_limit: list[limits.Breach] = field(default_factory=list)
    suppressed: int = 0  # on the suppression list

    @property
    def count(self) -> int:
        return len(self.over_limit) + self.suppressed


def leave_out(db: sqlite3.Connection, campaign_id: str, *, template_code: str,
              sign_name: str | None, total: int, force: bool, schema: str,
              drop: Callable[[set[str]], int], now: float | None = None,
              chunk: int | None = None) -> LeftOut:
    """Drop (``drop(keys)``) the recipients one more send would put over a per-number
    limit, unless ``force``, and those on the suppression list (always). While planning,
    all of them over a limit is OverLimit (exit 8) and all suppressed InputError; for one
    ``chunk`` about to be sent (``total`` its size) they are only dropped. ``schema`` is
    where the ledger lives (``known.`` for a dry run's attached database)."""
    result = LeftOut()
    listed = suppression.campaign_suppressed(db, campaign_id, schema, chunk)
    if listed:
        if len(listed) >= total and chunk is None:
            raise InputError("", f"every recipient ({total}) is on the suppression list (a "
                             "receipt said the number cannot receive); nothing was sent;",
                             "see `suppression list`; `suppression remove NUMBER` if a number "
                             "works again.")
        result.suppressed = drop(listed)
        total -= result.suppressed
    if force or total <= 0:
        return result
    now = now or time.time()
    history = ledger.campaign_recent(db, campaign_id, now - limits.LOOKBACK, schema, chunk)
    if not history:
        return result
    planned = [(phone, key, sign or sign_name)
               for phone, key, sign in ledger.campaign_planned(db, campaign_id, chunk)
               if key in history]
    found = limits.breaches(planned, history, template_code,
                            ledger.kind_of(db, template_code, schema), now)
    if not found:
        return result
    if len(found) >= total and chunk is None:
        raise limits.refusal(found, total, now)
    drop(set(found))
    result.over_limit = list(found.values())
    return result
