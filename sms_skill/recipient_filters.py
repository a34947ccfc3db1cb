"""The campaign hook of the per-number limits (and the suppression list): which planned
recipients a campaign leaves out before its first chunk.

One call, ``leave_out``, made while the campaign is planned, inside its transaction.
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
              drop: Callable[[set[str]], int], now: float | None = None) -> LeftOut:
    """Drop (``drop(keys)``) the planned recipients one more send would put over a
    per-number limit, unless ``force``, and those on the suppression list (always). All of
    them over a limit: OverLimit (exit 8); all suppressed: InputError. ``schema`` is where
    the ledger lives (``known.`` for a dry run's attached database)."""
    result = LeftOut()
    listed = suppression.campaign_suppressed(db, campaign_id, schema)
    if listed:
        if len(listed) >= total:
            raise InputError("", f"every recipient ({total}) is on the suppression list (a "
                             "receipt said the number cannot receive); nothing was sent;",
                             "see `suppression list`; `suppression remove NUMBER` if a number "
                             "works again.")
        result.suppressed = drop(listed)
        total -= result.suppressed
    if force:
        return result
    now = now or time.time()
    history = ledger.campaign_recent(db, campaign_id, now - limits.LOOKBACK, schema)
    if not history:
        return result
    planned = [(phone, key, sign or sign_name)
               for phone, key, sign in ledger.campaign_planned(db, campaign_id)
               if key in history]
    found = limits.breaches(planned, history, template_code,
                            ledger.kind_of(db, template_code, schema), now)
    if not found:
        return result
    if len(found) >= total:
        raise limits.refusal(found, total, now)
    drop(set(found))
    result.over_limit = list(found.values())
    return result
