"""Bulk sends as resumable campaigns, one module per step of the flow:

``store`` (the tables and every SQL statement) -> ``plan`` (validate the whole file, store
it in chunks) -> ``sender`` (send the chunks never attempted) -> ``reconcile`` (settle the
chunks in doubt from receipts); ``report`` turns the record into summaries and exit codes.
"""

from sms_skill.campaign.reconcile import RECONCILE_MIN_AGE, reconcile
from sms_skill.campaign.report import (
    campaigns,
    history_rows,
    outcome_error,
    reconcile_outcome,
    show,
    summary,
)
from sms_skill.campaign.sender import RateLimiter, resume, retry, run, start
from sms_skill.campaign.store import Store, current_owner

__all__ = ["RECONCILE_MIN_AGE", "RateLimiter", "Store", "campaigns", "current_owner",
           "history_rows", "outcome_error", "reconcile", "reconcile_outcome", "resume",
           "retry", "run", "show", "start", "summary"]
