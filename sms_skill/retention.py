"""How long the journal keeps sends and campaigns (they hold full phone numbers).

Both stores forget what is older than SMS_SKILL_RETENTION_DAYS (default 90) each time
they are opened; ``prune_older_than`` forgets more, on request (`history prune`).
"""

from __future__ import annotations

import time

from sms_skill import database


def guard_seconds() -> float:
    """How long the ledger's entries still guard: against a double send (the duplicate
    window, and 24 hours for an unknown outcome) and for the per-number limits (a day)."""
    from sms_skill import ledger, limits, tunables

    return max(tunables.seconds(tunables.DUPLICATE_WINDOW), ledger.UNKNOWN_HOLD_SECONDS,
               limits.LOOKBACK)


def prune_older_than(age_seconds: float) -> dict:
    """Delete sends and campaigns made more than ``age_seconds`` ago; returns the counts.
    Refused (InputError) for an age within ``guard_seconds``: forgetting recent sends would
    let the same message go out twice, or past a per-number limit."""
    from sms_skill.campaign.store import Store
    from sms_skill.errors import InputError
    from sms_skill.journal import Journal

    guard = guard_seconds()
    if age_seconds < guard:
        raise InputError("--older-than", f"must be at least {guard / 3600:g} hours: newer "
                         "sends still guard against sending the same message twice and "
                         "against the per-number limits; nothing was forgotten")

    before = time.time() - age_seconds
    journal = Journal()
    try:
        sends = journal.prune(before)
    finally:
        journal.close()
    store = Store()
    try:
        campaigns = store.prune(before)
    finally:
        store.close()
    return {"before": database.local_time(before), "sends_removed": sends,
            "campaigns_removed": campaigns}
