"""send: one message to listed numbers, or a file sent as a campaign; what batch-send
shares with it."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from sms_skill.cli import (
    INTEGER,
    NUMBER,
    cli,
    ops,
    required,
    run_operation,
)
from sms_skill.errors import InputError, SkillError


def resend_options(func: Callable) -> Callable:
    """--force and --skip-sent: what to do about numbers that got the message recently."""
    func = click.option("--skip-sent", is_flag=True,
                        help="Leave out the numbers that got, or may have got, this message "
                             "recently and send to the others.")(func)
    return click.option("--force", is_flag=True,
                        help="Send even to numbers that got, or may have got, this message "
                             "recently.")(func)


def bulk_options(func: Callable) -> Callable:
    for option in reversed([
        click.option("--resume", "resume_id", metavar="ID",
                     help="Continue campaign ID: send only chunks never attempted (refused "
                          "with exit 6 while another run is sending it)."),
        click.option("--skip-invalid", is_flag=True,
                     help="Send the valid rows of the file and report the bad ones."),
        click.option("--parallel", type=INTEGER,
                     help="Concurrent aliyun calls for a file [default: 4]."),
        click.option("--rate", type=NUMBER, help="At most this many calls per second."),
        click.option("--confirm", metavar="PLAN_ID",
                     help="With a file: send only if the plan is this plan_id, the one a "
                          "--dry-run showed and the user approved."),
        click.option("--price", type=NUMBER, envvar="SMS_SKILL_PRICE",
                     help="Price of one billed message, for the plan's cost (env "
                          "SMS_SKILL_PRICE); no default."),
        click.option("--template-text", metavar="TEXT",
                     help="The template's content (query-template), for the plan's segment "
                          "count."),
    ]):
        func = option(func)
    return func


def campaign_outcome(result: object) -> SkillError | None:
    from sms_skill import campaign

    return campaign.outcome_error(result) if isinstance(result, dict) else None


def progress():
    """A progress bar on a terminal, plain lines every few seconds otherwise (stderr)."""
    import time

    state = {"said": time.monotonic(), "bar": None}

    def on_chunk(chunk: dict, done: int, total: int) -> None:
        if sys.stderr.isatty():
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label="chunks", file=sys.stderr)
            state["bar"].update(1)
            if done == total:
                state["bar"].render_finish()
        elif time.monotonic() - state["said"] >= 2 or done == total:
            state["said"] = time.monotonic()
            click.echo(f"progress: {done}/{total} chunks", err=True)

    return on_chunk


def start_bulk(client, kind, source, resume_id, *, parallel, rate, **fields):
    from sms_skill import campaign
    from sms_skill.validation import int_range

    parallel = 4 if parallel is None else parallel
    int_range(parallel, "--parallel", 1, 64)
    if rate is not None and rate <= 0:
        raise InputError("--rate", f"{rate} must be a positive number of calls per second")
    if fields["price"] is not None and not 0 < fields["price"] <= 100:
        raise InputError("--price", f"{fields['price']} must be a positive price per message, "
                         "at most 100 (SMS_SKILL_PRICE sets it too)")
    if resume_id:
        for option in ("confirm", "template_text"):
            if fields[option] is not None:
                raise InputError("--" + option.replace("_", "-"),
                                 "goes with a new file, not with --resume")
        return campaign.resume(client, resume_id, parallel=parallel, rate=rate,
                               on_chunk=progress())

    def on_plan(plan):
        name = (f"plan {plan.plan_id} (dry run: no campaign was created)" if plan.dry_run
                else f"campaign {plan.campaign_id}")
        click.echo(f"{name}: {plan.recipients} recipients in "
                   f"{plan.chunks} chunk(s)"
                   + (f"; {plan.bad_total} bad row(s) skipped" if plan.bad_total else "")
                   + (f"; --skip-sent left out {plan.already_sent} who got it, or may have"
                      if plan.already_sent else ""), err=True)
        if plan.suppressed:
            from sms_skill.suppression import skipped_note

            click.echo(f"suppression: {skipped_note(plan.suppressed)}", err=True)
        if plan.over_limit:
            from sms_skill.limits import describe_left_out

            click.echo(describe_left_out(plan.over_limit), err=True)
        if plan.bad_total:
            from sms_skill.recipients import describe

            click.echo(f"skipped: {describe(plan.bad_rows, plan.bad_total)}", err=True)

    return campaign.start(client, kind=kind, source=source, parallel=parallel, rate=rate,
                          on_plan=on_plan, on_chunk=progress(), **fields)


def one_source(**given: object) -> None:
    named = [name for name, value in given.items() if value is not None]
    if len(named) != 1:
        listed = ", ".join(given)
        raise InputError(named[1] if len(named) > 1 else next(iter(given)),
                         f"give exactly one of {listed}")


def file_only(source: str, **given: object) -> None:
    """Refuse campaign options on a send without a file: they would be ignored (and
    --confirm would then gate nothing)."""
    for name, value in given.items():
        if value not in (None, False):
            option = "--" + name.replace("_", "-")
            raise InputError(option, f"goes with --phone-file or --csv (a campaign), not with "
                             f"{source}; nothing was sent",
                             "a send to listed numbers shows its exact command with --dry-run.")


def not_both(force: bool, skip_sent: bool) -> None:
    if force and skip_sent:
        raise InputError("--skip-sent", "cannot be combined with --force: --force sends to "
                         "everyone again, --skip-sent only to those not reached; choose one")


@cli.command()
@click.option("-p", "--phone-numbers",
              help="Comma-separated numbers, at most 1000 (e.g. 13800138000,+85261234567).")
@click.option("--phone-file", metavar="FILE",
              help="One number per line, or a CSV with a phone column; - for stdin. "
                   "Sent in chunks of 1000 as a resumable campaign.")
@click.option("-s", "--sign-name", help="Approved signature name.")
@click.option("-t", "--template-code", help="Approved template code.")
@click.option("-tp", "--template-param", metavar="JSON",
              help="Template variables as a JSON object, e.g. '{\"code\":\"123456\"}'.")
@click.option("-o", "--out-id", help="Your own tracking id (under 256 characters).")
@click.option("--verify", is_flag=True,
              help="Refuse unless signature and template are approved and every template "
                   "variable has a value (exit 4).")
@resend_options
@bulk_options
@run_operation(outcome=campaign_outcome)
def send(client, phone_numbers, phone_file, sign_name, template_code, template_param, out_id,
         verify, force, skip_sent, resume_id, skip_invalid, parallel, rate, confirm, price,
         template_text):
    """Send one message to up to 1000 numbers (SendSms), or to a whole file.

    Code=OK means the gateway accepted it, not that it was delivered: check with
    query-status. A file becomes a campaign (see `campaign`); its summary is printed as
    JSON and the exit code is 5 if any chunk's outcome is unknown, 1 if any failed.

    \b
    Examples:
      {prog} send -p 13800138000 -s MySign -t SMS_123456 -tp '{"code":"123456"}'
      {prog} send -p 13800138000,13900139000 -s MySign -t SMS_123456 --verify
      {prog} send --phone-file numbers.txt -s MySign -t SMS_123456 --dry-run --price 0.045
      {prog} send --phone-file numbers.txt -s MySign -t SMS_123456 --confirm plan-0123abcd...
      {prog} send --resume 20261126-a1b2c3
    """
    one_source(**{"--phone-numbers": phone_numbers, "--phone-file": phone_file,
                   "--resume": resume_id})
    not_both(force, skip_sent)
    if not resume_id:
        required(sign_name, "--sign-name")
        required(template_code, "--template-code")
    if phone_numbers is not None:
        file_only("--phone-numbers", confirm=confirm, template_text=template_text,
                   skip_invalid=skip_invalid, rate=rate, parallel=parallel)
        return ops().send(client, phone_numbers, sign_name, template_code, template_param,
                           out_id, verify=verify, force=force, skip_sent=skip_sent)
    return start_bulk(client, "send", phone_file, resume_id, parallel=parallel, rate=rate,
                 confirm=confirm, price=price, template_text=template_text,
                 template_code=template_code, sign_name=sign_name,
                 template_param=template_param, out_id=out_id, skip_invalid=skip_invalid,
                 force=force, skip_sent=skip_sent, verify=verify)
