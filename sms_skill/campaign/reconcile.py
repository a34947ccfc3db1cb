"""Settling chunks whose outcome is unknown, from delivery receipts."""

from __future__ import annotations

import time
from datetime import datetime

from sms_skill import prog
from sms_skill.campaign.store import Store, current_owner

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
    from sms_skill import delivery, suppression
    from sms_skill.errors import ApiFailure
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
    counts = store.counts(campaign_id)
    resume = "batch-send" if store.campaign(campaign_id)["kind"] == "batch" else "send"
    if any(s["now"] == "planned" for s in settled):
        client.report(f"next: `{prog.name()} {resume} --resume {campaign_id}` sends the "
                      "chunk(s) that never arrived.")
    return {"campaign": campaign_id, "settled": settled, **counts,
            "to_resume": counts["chunks"]["planned"], "to_retry": counts["chunks"]["failed"],
            "next": _next_step(counts, campaign_id, resume)}


def _next_step(counts: dict, campaign_id: str, resume: str) -> str | None:
    chunks = counts["chunks"]
    if chunks["unknown"] or chunks["in_flight"]:
        return f"`{prog.name()} campaign reconcile {campaign_id}` again later"
    steps = []
    if chunks["planned"]:
        steps.append(f"`{prog.name()} {resume} --resume {campaign_id}` sends the chunks "
                     "never attempted or never arrived")
    if chunks["failed"]:
        steps.append(f"`{prog.name()} campaign retry {campaign_id}` re-sends the failed "
                     "ones once their cause is fixed")
    return "; ".join(steps) or None
