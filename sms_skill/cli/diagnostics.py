"""precheck and explain: the aliyun CLI's readiness, and what an error code means."""

from __future__ import annotations

import click

from sms_skill.cli import (
    checked_target,
    cli,
    emit,
    local_command,
    settings_of,
)
from sms_skill.errors import InputError, SkillError


@cli.command()
def precheck():
    """Run the pre-check now and report each step on stderr.

    Checks aliyun >= 3.3.3, turns on plugin auto-install, updates plugins and looks for
    credentials. Other commands run it by themselves when no fresh result is cached
    (SMS_SKILL_PRECHECK_TTL seconds, default 86400).

    \b
    Example:
      {prog} precheck
    """
    from dataclasses import asdict

    from sms_skill import output
    from sms_skill.client import Client

    settings = settings_of(click.get_current_context())
    query = output.compile_query(settings.query)
    if settings.dry_run:
        raise InputError("--dry-run", "precheck only reads the local aliyun CLI; run it "
                                      "without --dry-run")
    try:
        with Client(checked_target(settings, {})) as client:
            result = client.run_precheck(fresh=True)
    except SkillError as exc:
        if exc.result is not None:
            emit(output.render(exc.result, settings.format, query, "steps"))
        raise
    emit(output.render({"ok": True, **asdict(result)}, settings.format, query, "steps"))


@cli.command()
@click.argument("code")
@click.option("--message", metavar="TEXT",
              help="The gateway's Message, e.g. '触发分钟级流控Permits:1': for "
                   "isv.BUSINESS_LIMIT_CONTROL, which window was hit and when to retry.")
@local_command()
def explain(code, message):
    """Meaning and next step for an error code, from references/sms-error-codes.md.

    \b
    Examples:
      {prog} explain isv.BUSINESS_LIMIT_CONTROL
      {prog} explain isv.BUSINESS_LIMIT_CONTROL --message '触发小时级流控Permits:5'
      {prog} explain MOBILE_NOT_ON_SERVICE
    """
    from sms_skill import references

    entry = references.lookup(code)
    if entry is None:
        raise InputError("", f"{code} is not in references/sms-error-codes.md;",
                         "see the Triage section of that file; for a send, check delivery "
                         "with query-status.")
    data = {"Code": entry.code, "Meaning": entry.meaning, "NextStep": entry.action,
            "Section": entry.section, "MayHaveBeenProcessed": entry.may_have_been_processed}
    if message is not None:
        from sms_skill import limits

        data["MessageMeans"] = (limits.translate(message) if entry.code == limits.THROTTLE_CODE
                                else None) or "no known window in this message"
    return data


