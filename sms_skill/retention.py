"""How long the journal keeps sends and campaigns (they hold full phone numbers).

Both stores forget what is older than SMS_SKILL_RETENTION_DAYS (default 90) each time
they are opened; ``prune_older_than`` forgets more, on request (`history prune`).
"""

from __future__ import annotations

import time

from sms_skill import database


def prune_older_than(age_seconds: float) -> dict:
    """Delete sends and campaigns made more than ``age_seconds`` ago; returns the counts."""
    from sms_skill.campaign.store import Store
    from sms_skill.journal import Journal

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
