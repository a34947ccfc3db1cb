"""The machine's own records: reconcile of single sends, history, the suppression list."""

from __future__ import annotations

import click

from sms_skill import validation
from sms_skill.cli import (
    INTEGER,
    Group,
    checked_target,
    clean_up_dead_runs,
    cli,
    emit,
    local_command,
    local_only,
    ops,
    run_operation,
    settings_of,
)
from sms_skill.errors import SkillError


def _reconcile_outcome(result: object) -> SkillError | None:
    from sms_skill.errors import OutcomeUnknown

    left = [s for s in result.get("settled", []) if s["now"] == "unknown"]
    if not left:
        return None
    return OutcomeUnknown(f"{len(left)} send(s) still with an unknown outcome;",
                          "run `reconcile` again later; do not resend meanwhile.")


@cli.command()
@click.option("--min-age", type=INTEGER, default=120, show_default=True,
              help="Seconds a send without a receipt must be old before it counts as "
                   "never sent.")
@run_operation(outcome=_reconcile_outcome)
def reconcile(client, min_age):
    """Settle single and batch sends whose outcome is unknown, from delivery receipts.

    A receipt with the send's OutId means it was accepted (history: ok); none, for a send
    older than --min-age seconds, means it never arrived (failed: the same send may be made
    again). Exit 5 while some stay unknown. For campaigns, use `campaign reconcile ID`.

    \b
    Example:
      {prog} reconcile
    """
    return ops().reconcile_sends(client, min_age)


@cli.group(cls=Group, invoke_without_command=True)
@click.option("--limit", type=INTEGER, default=20, show_default=True,
              help="How many sends, newest first.")
@click.option("--no-mask", is_flag=True, help="Show full phone numbers.")
@click.option("--chunks", "with_chunks", is_flag=True,
              help="Also one line per campaign chunk (campaigns show one line each).")
@click.pass_context
def history(ctx, limit, no_mask, with_chunks):
    """The local journal of sends: when, to whom (masked), BizId, outcome.

    Every real send is recorded, and so is each of its recipients: the same message to the
    same number (in any spelling) within SMS_SKILL_DUPLICATE_WINDOW seconds (default 600),
    or within 24 hours while its outcome is unknown, is refused with exit 6 unless --force
    or --skip-sent. Outcome "unknown" means the call timed out, was cut off or got an
    answer that proves nothing: check it with query-status before any resend.
    Sends and campaigns are kept SMS_SKILL_RETENTION_DAYS days (default 90); `history
    prune` forgets older ones now.

    \b
    Examples:
      {prog} history --limit 5
      {prog} history --chunks
      {prog} history prune --older-than 30d
    """
    if ctx.invoked_subcommand is not None:
        return
    from sms_skill import campaign, output
    from sms_skill.database import local_time, service_day
    from sms_skill.journal import Journal
    from sms_skill.validation import int_range, mask

    settings = settings_of(click.get_current_context())
    query = output.compile_query(settings.query)
    int_range(limit, "--limit", 1, 100_000)
    local_only(settings, "history")
    checked_target(settings, {})
    clean_up_dead_runs()
    journal = Journal()
    try:
        entries = journal.entries(limit)
    finally:
        journal.close()
    with campaign.Store() as store:
        bulk = campaign.history_rows(store, with_chunks=with_chunks)
    rows = [{
        "created": e.created, "Campaign": None, "Chunk": None,
        "Action": e.action,
        "Recipients": ",".join(n if no_mask else mask(n) for n in e.recipients[:3])
        + (f" (+{len(e.recipients) - 3} more)" if len(e.recipients) > 3 else ""),
        "Count": len(e.recipients), "SignName": ",".join(sorted(set(e.sign_names))),
        "TemplateCode": e.template_code, "OutId": e.out_id, "BizId": e.biz_id,
        "Outcome": e.outcome, "Code": e.code,
    } for e in entries]
    rows.extend({"Recipients": None, "OutId": None, **row} for row in bulk)
    rows.sort(key=lambda row: row["created"], reverse=True)
    rows = [{"Time": local_time(row["created"]), "SendDate": service_day(row.pop("created")),
             **row} for row in rows[:limit]]
    emit(output.render(rows, settings.format, query))


@history.command("prune")
@click.option("--older-than", required=True, metavar="AGE",
              help="Forget sends and campaigns older than this: 30d, 12h, 90m, 3600s or "
                   "2w (a bare number is days).")
@local_command()
def history_prune(older_than):
    """Forget sends and campaigns (with their phone numbers) older than --older-than.

    Sends still in progress and campaigns with a chunk in flight are kept. A forgotten
    send no longer blocks an identical one (exit 6), so the last 24 hours (the duplicate
    and per-number-limit windows) cannot be forgotten.

    \b
    Example:
      {prog} history prune --older-than 30d
    """
    from sms_skill import retention

    return retention.prune_older_than(validation.duration(older_than, "--older-than"))


@cli.group(cls=Group)
def suppression():
    """Numbers that cannot receive: sends and campaigns skip them and say how many.

    A delivery receipt (query-status, --wait, reconcile, campaign reconcile) that failed
    with a permanent code (marked in references/sms-error-codes.md: empty or invalid
    number, blocklisted, opted out) puts the number here. Numbers are masked unless
    --no-mask; any spelling of a number is the same entry.

    \b
    Examples:
      {prog} suppression list
      {prog} suppression add 13800138000 --reason "asked to stop"
      {prog} suppression remove 13800138000
      {prog} suppression import bounced.txt
    """


@suppression.command("list")
@click.option("--no-mask", is_flag=True, help="Show full phone numbers.")
@local_command()
def suppression_list(no_mask):
    """The numbers on the list, newest first, with why they are there."""
    from sms_skill import suppression as listed

    return listed.listing(unmask=no_mask)


@suppression.command("add")
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--reason", default="added by hand", show_default=True,
              help="Why (shown by `suppression list`).")
@local_command()
def suppression_add(numbers, reason):
    """Put numbers on the list: later sends skip them."""
    from sms_skill import suppression as listed

    return listed.add_numbers(numbers, reason)


@suppression.command("remove")
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@local_command()
def suppression_remove(numbers):
    """Take numbers off the list (e.g. a number that works again)."""
    from sms_skill import suppression as listed

    return listed.remove_numbers(numbers)


@suppression.command("import")
@click.argument("source", metavar="FILE")
@click.option("--reason", default="imported", show_default=True,
              help="Why (shown by `suppression list`).")
@local_command()
def suppression_import(source, reason):
    """Add every number of FILE: one per line or a CSV with a phone column; - for stdin."""
    from sms_skill import suppression as listed

    return listed.import_file(source, reason)

