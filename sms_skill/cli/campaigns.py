"""The campaign group: list, show, retry and reconcile the campaigns of a file."""

from __future__ import annotations

import click

from sms_skill.cli import (
    INTEGER,
    NUMBER,
    Group,
    cli,
    local_command,
    run_operation,
)
from sms_skill.cli.sending import campaign_outcome, progress
from sms_skill.errors import InputError, SkillError


@cli.group(cls=Group)
def campaign():
    """Bulk campaigns from `send --phone-file` and `batch-send --csv`.

    \b
    Examples:
      {prog} campaign list
      {prog} campaign show 20261126-a1b2c3
      {prog} campaign reconcile 20261126-a1b2c3
      {prog} campaign retry 20261126-a1b2c3
    """


@campaign.command("list")
@local_command("chunk_list")
def campaign_list():
    """Every campaign, newest first, with counts of chunks and recipients by state.

    \b
    Example:
      {prog} campaign list --format table
    """
    from sms_skill import campaign as campaigns

    with campaigns.Store() as store:
        return campaigns.campaigns(store)


@campaign.command("show")
@click.argument("campaign_id", metavar="ID")
@click.option("--numbers", is_flag=True, help="List each chunk's recipients (masked).")
@click.option("--no-mask", is_flag=True, help="With --numbers: the numbers in full.")
@click.option("--chunk", type=INTEGER, help="Only this chunk (its number in chunk_list).")
@local_command("chunk_list")
def campaign_show(campaign_id, numbers, no_mask, chunk):
    """One campaign: parameters, counts, and each chunk's state, BizId and error.

    \b
    Examples:
      {prog} campaign show 20261126-a1b2c3
      {prog} campaign show 20261126-a1b2c3 --chunk 3 --numbers
    """
    from sms_skill import campaign as campaigns

    if no_mask and not numbers:
        raise InputError("--no-mask", "only goes with --numbers")
    with campaigns.Store() as store:
        return campaigns.show(store, campaign_id, numbers=numbers, unmask=no_mask,
                              chunk=chunk)


@campaign.command("retry")
@click.argument("campaign_id", metavar="ID")
@click.option("--parallel", type=INTEGER, default=4, show_default=True,
              help="Concurrent aliyun calls.")
@click.option("--rate", type=NUMBER, help="At most this many calls per second.")
@run_operation(outcome=campaign_outcome)
def campaign_retry(client, campaign_id, parallel, rate):
    """Send again the chunks that failed (a failure proves nothing was sent), once their
    cause is fixed. Chunks whose outcome is unknown are never resent: reconcile them.

    \b
    Example:
      {prog} campaign retry 20261126-a1b2c3
    """
    from sms_skill import campaign as campaigns
    from sms_skill.validation import int_range

    int_range(parallel, "--parallel", 1, 64)
    if rate is not None and rate <= 0:
        raise InputError("--rate", f"{rate} must be a positive number of calls per second")
    return campaigns.retry(client, campaign_id, parallel=parallel, rate=rate,
                           on_chunk=progress())


def _campaign_reconcile_outcome(result: object) -> SkillError | None:
    from sms_skill import campaign as campaigns

    return campaigns.reconcile_outcome(result) if isinstance(result, dict) else None


@campaign.command("reconcile")
@click.argument("campaign_id", metavar="ID")
@click.option("--min-age", type=INTEGER, default=120, show_default=True,
              help="Seconds a chunk without a receipt must be old before it counts as "
                   "never sent.")
@run_operation(outcome=_campaign_reconcile_outcome)
def campaign_reconcile(client, campaign_id, min_age):
    """Settle chunks whose outcome is unknown, from delivery receipts (QuerySendDetails).

    A receipt with the chunk's own OutId means it was sent; none, for a chunk older than
    --min-age seconds, means it never arrived, and `--resume ID` will send it. Younger
    chunks without a receipt, chunks whose receipts could not be read, and chunks a running
    run is sending, are left for later. Exit 0 once every chunk is settled, 5 while some
    stay in doubt.

    \b
    Example:
      {prog} campaign reconcile 20261126-a1b2c3

    Exit 0 once it settled all it could (chunks left to send: `to_resume`, `to_retry` and
    `next` in its JSON), 5 while some chunk's outcome is still unknown, 2 for an unknown ID.
    """
    from sms_skill import campaign as campaigns

    store = campaigns.Store()
    try:
        return campaigns.reconcile(client, store, campaign_id, min_age)
    finally:
        store.close()

