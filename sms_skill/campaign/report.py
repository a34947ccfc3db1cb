"""What a campaign did: its summary, the error its outcome means, and the listings."""

from __future__ import annotations

from sms_skill import database, prog
from sms_skill.campaign.store import Store
from sms_skill.errors import (
    ApiFailure,
    ConfirmationRequired,
    InputError,
    OutcomeUnknown,
    RunInterrupted,
    SkillError,
)
from sms_skill.lifecycle import HANDLED, NAMES

#: A signal's name (as a summary gives it) to the exit code it ends a run with.
EXIT_CODES = {NAMES[signum]: code for signum, code in HANDLED.items()}


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
    if not isinstance(chunks, dict) or result.get("dry_run"):
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
            "the rest.", EXIT_CODES.get(name, 130))
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
            f"run the `{resume}` command that started the campaign again, with --skip-sent, to "
            f"send only to the numbers not reached (`--resume {campaign_id}` and `campaign "
            "retry` do not resend them).")
    if chunks["failed"] or chunks["planned"]:
        return ApiFailure(
            f"campaign {campaign_id}: {chunks['failed']} chunk(s) failed, "
            f"{chunks['planned']} not sent;",
            f"see `{prog.name()} campaign show {campaign_id}`; `--resume {campaign_id}` "
            "sends the chunks never attempted.")
    return None


def reconcile_outcome(result: dict) -> SkillError | None:
    """``campaign reconcile``: exit 0 once it settled all it could (what is left to send
    is in its JSON, ``to_resume`` and ``to_retry``); OutcomeUnknown (exit 5) while some
    chunk's outcome is still unknown."""
    chunks = result.get("chunks")
    if not isinstance(chunks, dict):
        return None
    doubtful = chunks["unknown"] + chunks["in_flight"]
    if doubtful:
        return OutcomeUnknown(
            f"campaign {result['campaign']}: {doubtful} chunk(s) still with an unknown "
            "outcome;", f"run `{prog.name()} campaign reconcile {result['campaign']}` again "
            "in a few minutes; do not resend meanwhile.")
    return None


def outcome_word(chunks: dict[str, int]) -> str:
    """One word for a campaign's progress: unknown beats failed beats incomplete."""
    if chunks["unknown"] or chunks["in_flight"]:
        return "unknown"
    if chunks["failed"]:
        return "failed"
    return "incomplete" if chunks["planned"] else "sent"


def history_rows(store: Store, *, with_chunks: bool = False) -> list[dict]:
    """``history`` lines for campaigns: one per campaign with its counts, and with
    ``with_chunks`` one per chunk after it; each has ``created`` (epoch) for sorting."""
    rows = []
    action = {"send": "SendSms", "batch": "SendBatchSms"}
    for cid, created, kind, _, sign, template, people, _ in store.listing():
        counts = store.counts(cid)
        chunks = counts["chunks"]
        rows.append({"created": created, "Campaign": cid, "Chunk": None,
                     "Action": f"{action[kind]} campaign", "Count": people,
                     "SignName": sign, "TemplateCode": template, "BizId": None,
                     "Outcome": outcome_word(chunks),
                     "Code": ", ".join(f"{n} {state}" for state, n in chunks.items() if n)
                     + " chunk(s)"})
        if with_chunks:
            for chunk in store.chunks(cid):
                rows.append({"created": chunk["started"] or created, "Campaign": cid,
                             "Chunk": chunk["seq"], "Action": f"{action[kind]} chunk",
                             "Count": chunk["size"], "SignName": sign,
                             "TemplateCode": template, "BizId": chunk["biz_id"],
                             "Outcome": chunk["state"], "Code": chunk["code"]})
    return rows


def campaigns(store: Store) -> list[dict]:
    """Every campaign, newest first, with its progress."""
    out = []
    for cid, created, kind, source, sign, template, people, skipped in store.listing():
        out.append({"id": cid, "created": database.local_time(created), "kind": kind,
                    "source": source, "sign_name": sign, "template_code": template,
                    "total_recipients": people, "skipped_rows": skipped,
                    **store.counts(cid)})
    return out


def show(store: Store, campaign_id: str, *, numbers: bool = False, unmask: bool = False,
         chunk: int | None = None) -> dict:
    """One campaign with its chunks (only chunk ``chunk`` if given); ``numbers`` lists each
    chunk's recipients, masked unless ``unmask``."""
    from sms_skill.validation import mask

    campaign = store.campaign(campaign_id)
    campaign["created"] = database.local_time(campaign["created"])
    del campaign["fingerprint"]
    campaign["total_recipients"] = campaign.pop("recipients")
    chunks = store.chunks(campaign_id)
    if chunk is not None:
        chunks = [c for c in chunks if c["seq"] == chunk]
        if not chunks:
            raise InputError("--chunk", f"campaign {campaign_id} has no chunk {chunk}")
    running = store.sending_run(campaign_id)
    for item in chunks:
        for key in ("started", "finished"):
            item[key] = database.local_time(item[key]) if item[key] else None
        del item["owner_pid"], item["owner_started"]
        if numbers:
            item["numbers"] = [phone if unmask else mask(phone)
                               for phone, _, _ in store.chunk_rows(campaign_id, item["seq"])]
    return {**campaign, "sending_pid": running[0] if running else None,
            **store.counts(campaign_id), "chunk_list": chunks}
