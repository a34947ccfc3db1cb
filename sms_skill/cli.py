"""Command-line interface: parsing and printing only; the work is done in the library."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable

import click

from sms_skill import __version__, builder, prog, validation
from sms_skill.errors import USAGE, InputError, SkillError
from sms_skill.lifecycle import (
    BROKEN_PIPE_EXIT,
    Interrupted,
    ignore_signals,
    install_signal_handlers,
)
from sms_skill.output import FORMATS

PROG = prog.name()
#: QuerySmsQualificationRecord's State values (checked by click, explained in help).
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SETTINGS_KEY = "sms_skill.settings"
EXIT_CODES_HELP = """\b
Exit codes:
  0 success            1 API or CLI failure     2 bad input, nothing called
  3 environment (aliyun CLI, plugin, credentials)
  4 --verify refused   5 outcome unknown: run query-status before any resend
  6 duplicate of a recent send (--force overrides)
  7 the aliyun CLI's safety policy wants the user's approval: ask, then --yes
  8 over a per-number limit: wait until the time given (--force overrides)
  130/143/129 interrupted (SIGINT/SIGTERM/SIGHUP), AI mode already off
  141 stdout closed early (e.g. | head), AI mode already off
"""


class _AsciiNumber(click.ParamType):
    """A number in ASCII digits: Python's int() and float() also take ``1_0``, full-width
    or Arabic-Indic digits, ``nan`` and ``inf``, which no user means."""

    def __init__(self, name: str, pattern: str, cast: Callable[[str], object]) -> None:
        # Compiled when first used (re caches it), not on every start-up: ~0.3 ms each.
        self.name, self._pattern, self._cast = name, pattern, cast

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        if not re.fullmatch(self._pattern, value.strip()):
            self.fail(f"{value!r} is not {'a whole' if self.name == 'integer' else 'a'} "
                      f"number written with the digits 0-9", param, ctx)
        return self._cast(value.strip())


INTEGER = _AsciiNumber("integer", r"[+-]?[0-9]+", int)
NUMBER = _AsciiNumber("number", r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                      float)


class Settings:
    """The common options, wherever on the command line they were given."""

    region: str | None = None
    profile: str | None = None
    dry_run: bool = False
    format: str = "auto"
    query: str | None = None
    yes: bool = False


class StdoutClosed(Exception):
    """The reader of stdout went away. Not an OSError: click would turn that into exit 1."""


def _emit(text: str) -> None:
    """Print the result (the only thing that goes to stdout). When stdout cannot take it
    (a full disk), the result goes to stderr rather than being lost: it may hold a BizId."""
    try:
        click.echo(text)
        sys.stdout.flush()
    except BrokenPipeError as exc:
        raise StdoutClosed() from exc
    except OSError as exc:
        click.echo(text, err=True)
        from sms_skill.errors import EnvironmentProblem

        raise EnvironmentProblem(f"could not write the result to stdout ({exc.strerror}); "
                                 "it is on stderr above;", "free the disk stdout goes to, or "
                                 "send stdout elsewhere.") from exc


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_root().meta.setdefault(SETTINGS_KEY, Settings())


def _store(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """Common options may come before or after the subcommand; the one given wins.

    An option that was not given arrives as None (False for the flag). That is all this
    relies on: not the order of callbacks, nor what click has recorded by then (click 8.4.0
    reports no parameter source inside a callback)."""
    if value is None or value is False:
        return
    if param.name in validation.SECRET_NAMES:
        validation.refuse_secret(param.opts[0])
    if param.name == "region" and not re.fullmatch(r"[a-z0-9-]+", str(value)):
        raise InputError("--region", f"{value!r} is not a region id (e.g. cn-hangzhou)")
    setattr(_settings(ctx), param.name, value)


ALIASES_KEY = "sms_skill.aliases"


def old_name(dest: str, *names: str) -> Callable:
    """A hidden option under the contract's older name(s) for option ``dest``: it keeps
    working, but help shows one name per concept (run_operation merges it)."""

    def remember(ctx: click.Context, param: click.Parameter, value: object) -> None:
        if value is not None:
            ctx.meta.setdefault(ALIASES_KEY, {})[dest] = (value, param.opts[0])

    return click.option(*names, f"{dest}__old", hidden=True, expose_value=False,
                        callback=remember)


def _merge_old_names(ctx: click.Context, options: dict) -> None:
    from click.core import ParameterSource

    for dest, (value, old) in ctx.meta.get(ALIASES_KEY, {}).items():
        if ctx.get_parameter_source(dest) == ParameterSource.COMMANDLINE:
            new = next(p.opts[-1] for p in ctx.command.params if p.name == dest)
            raise InputError(old, f"is the old name of {new}; give only one of them")
        options[dest] = value


def common_options(func: Callable) -> Callable:
    options = [
        click.option("-r", "--region", metavar="REGION", expose_value=False, callback=_store,
                     help="Region id [default: $ALIBABA_CLOUD_REGION_ID or cn-hangzhou]."),
        click.option("--profile", metavar="NAME", expose_value=False, callback=_store,
                     help="aliyun CLI profile (passed only when given)."),
        click.option("--dry-run", is_flag=True, expose_value=False, callback=_store,
                     help="Print the aliyun commands that would run; run nothing."),
        click.option("--format", type=click.Choice(FORMATS),
                     expose_value=False, callback=_store,
                     help="auto (default): a table on a terminal, JSON otherwise."),
        click.option("--query", metavar="JMESPATH", expose_value=False, callback=_store,
                     help="JMESPath expression applied to the JSON result."),
        click.option("--yes", is_flag=True, expose_value=False, callback=_store,
                     help="Pass the user's approval to the aliyun CLI's safety policy (exit 7)"
                          "; only after the user said yes."),
    ] + [
        click.option(f"--{name.replace('_', '-')}", name, hidden=True, expose_value=False,
                     callback=_store)
        for name in validation.SECRET_NAMES
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _name_program(cmd: click.Command) -> click.Command:
    """Help examples are written as ``{prog} ...``: show the program the user ran."""
    if cmd.help:
        cmd.help = cmd.help.replace("{prog}", PROG)
    return cmd


@functools.cache
def _shared_common_options() -> tuple[click.Parameter, ...]:
    """The common options, built once and shared by every subcommand: an Option holds no
    state of a run, and building eight of them for each command slowed every start-up."""
    return tuple(common_options(click.Command("common")).params)


def _refuse_repeats(command: click.Command, args: list[str]) -> None:
    """An option given twice is refused: click would keep the last value (``-p A -p B``
    sent to B only), a guess at what the user meant."""
    names = {opt: param for param in command.params
             if isinstance(param, click.Option) and not param.multiple and not param.count
             for opt in param.opts}
    seen: dict[str, str] = {}
    for token in args:
        if token == "--":
            return
        param = names.get(token.split("=", 1)[0] if token.startswith("--") else token)
        if param is None:
            continue
        opt = token.split("=", 1)[0]
        if param.name in seen and not param.is_flag:
            shown = opt if opt == seen[param.name] else f"{seen[param.name]} and {opt}"
            tip = (" (the numbers comma-separated in one value)" if "phone" in param.name
                   else "")
            raise InputError(opt, f"is given more than once ({shown}): only one value would "
                             f"be used; give it once{tip}")
        seen[param.name] = opt


class _NoSuchLongOption(click.NoSuchOption):
    """What click's parser raises, then catches, for every short option (``-p``) it first
    tries as a long one; click's own NoSuchOption ranks all long options with difflib
    (imported for it) and translates its message, only for the error to be dropped."""

    def __init__(self, option_name: str) -> None:  # click's __init__ is what costs
        Exception.__init__(self, option_name)
        self.option_name, self.possibilities, self.message = option_name, None, option_name
        self.ctx = self.cmd = None


@functools.cache
def _parser_class(base: type) -> type:
    class Parser(base):  # type: ignore[misc, valid-type]
        def _match_long_opt(self, opt, explicit_value, state):
            if opt not in self._long_opt and opt[:2] not in self._opt_prefixes:
                raise _NoSuchLongOption(opt)  # click goes on to the short options
            return super()._match_long_opt(opt, explicit_value, state)

    return Parser


def _show_version(ctx: click.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"{PROG} {__version__}", color=ctx.color)
        ctx.exit()


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


class _QuickParsing:
    """Commands that start faster than click's own. Their parser skips click's suggestions
    for the short options it matches (the parser's method is private to click: on a click
    without it, nothing changes). Their help option's text is given, not translated: the
    first gettext look-up imports locale, the only one a run that shows no help made."""

    _quick_help: click.Option | None = None

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = self.get_help_option_names(ctx)  # type: ignore[attr-defined]
        if not names or not self.add_help_option:  # type: ignore[attr-defined]
            return None
        if self._quick_help is None:  # one object: click orders eager options by identity
            self._quick_help = click.Option(names, is_flag=True, expose_value=False,
                                            is_eager=True, callback=_show_help,
                                            help="Show this message and exit.")
        return self._quick_help

    def make_parser(self, ctx: click.Context):
        parser = super().make_parser(ctx)  # type: ignore[misc]
        if hasattr(parser, "_match_long_opt") and hasattr(parser, "_opt_prefixes"):
            parser.__class__ = _parser_class(type(parser))
        return parser


class Command(_QuickParsing, click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _refuse_repeats(self, args)
        return super().parse_args(ctx, args)


class Group(_QuickParsing, click.Group):
    command_class = Command

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _name_program(cmd).params.extend(_shared_common_options())
        super().add_command(cmd, name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _refuse_repeats(self, args)  # common options: before and after the command count
        return super().parse_args(ctx, args)


Group.group_class = Group


@click.group(cls=Group, context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, param, value: _show_version(ctx, value),
              help="Show the version and exit.")  # click's version_option runs gettext
@common_options
def cli() -> None:
    """Send SMS through Alibaba Cloud (dysmsapi 2017-05-25) with the aliyun CLI.

    Every aliyun call carries --api-version 2017-05-25, the skill's --user-agent and
    --read-timeout 3; AI mode is switched on before the first call and off at every exit.
    Credentials come from the aliyun credential chain, never from the command line.

    \b
    Examples:
      {prog} precheck
      {prog} send -p 13800138000 -s MySign -t SMS_123456 -tp '{"code":"123456"}' --verify
      {prog} query-status -p 13800138000 --biz-id '900619746936498440^0'
      {prog} --dry-run send -p 13800138000 -s MySign -t SMS_123456
    """


_name_program(cli)


_NO_RESULT = object()


def run_operation(rows: str | None = None, mask: str | None = None,
                  outcome: Callable[[object], SkillError | None] | None = None,
                  columns: Callable[[dict], list[str] | None] = lambda options: None,
                  ) -> Callable:
    """Decorate a command body ``(client, **options) -> result``: validation and calls
    happen inside a Client whose AI mode is off before anything is printed. ``rows`` names
    the list a table shows; ``mask`` a phone-number field masked in tables (--no-mask);
    ``outcome`` turns a printed result into the run's error (a campaign with failures);
    ``columns(options)`` picks the table's columns."""

    def wrap(body: Callable) -> Callable:
        @functools.wraps(body)
        def command(**options: object) -> None:
            from sms_skill import output
            from sms_skill.client import Client

            ctx = click.get_current_context()
            _merge_old_names(ctx, options)
            settings = _settings(ctx)
            query = output.compile_query(settings.query)
            target = _checked(settings, options)
            result = _NO_RESULT
            commands: list[list[str]] = []
            hide = mask if mask and not options.get("no_mask") else None
            try:
                with Client(target, dry_run=settings.dry_run, collect=commands,
                            confirmed=settings.yes) as client:
                    result = body(client, **options)
            except SkillError as exc:
                if exc.result is not None:  # the last state seen, to decide on
                    _emit(output.render(exc.result, settings.format, query, rows, hide,
                                        columns(options), mask_json=bool(hide)))
                raise
            except Interrupted:
                # A signal held back during the AI-mode switch-off: the work was done, and
                # what the service answered (a BizId) must still reach the user.
                if result is not _NO_RESULT and not settings.dry_run:
                    _emit(output.render(result, settings.format, query, rows, hide,
                                        columns(options), mask_json=bool(hide)))
                raise
            if settings.dry_run:
                click.echo("dry run: nothing was sent or queried.", err=True)
                if not (isinstance(result, dict) and result.get("dry_run")):
                    _emit(output.dry_run(commands, settings.format))
                    return
            _emit(output.render(result, settings.format, query, rows, hide, columns(options),
                                mask_json=bool(hide)))
            if outcome is not None and (error := outcome(result)) is not None:
                raise error

        return command

    return wrap


def _checked(settings: Settings, options: dict) -> builder.Target:
    """Settings and text options checked before any call (exit 2); the target of calls."""
    from sms_skill import tunables

    tunables.check_all()
    for name, value in options.items():
        if isinstance(value, str):
            validation.utf8_text(value, "--" + name.replace("_", "-"))
    return builder.target(settings.region, settings.profile)


def _local_only(settings: Settings, what: str) -> None:
    """A command that calls no SMS API works on this machine only: --dry-run (nothing to
    preview: it would change nothing or be ignored), --region, --profile and --yes (no
    call to aim or approve) are refused rather than ignored."""
    given = [option for option, value in (("--dry-run", settings.dry_run),
                                          ("--region", settings.region),
                                          ("--profile", settings.profile),
                                          ("--yes", settings.yes)) if value]
    if given:
        raise InputError(given[0], f"{what} calls no SMS API: it works on this machine's "
                                   f"records only; run it without {given[0]}")


def _clean_up_dead_runs() -> None:
    """For commands that call no aliyun of their own: AI mode a killed run left on."""
    from sms_skill.client import Client

    Client(builder.Target()).clean_up_dead_runs()


def _ops():
    from sms_skill import operations

    return operations


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


def _campaign_outcome(result: object) -> SkillError | None:
    from sms_skill import campaign

    return campaign.outcome_error(result) if isinstance(result, dict) else None


def _progress():
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


def _bulk(client, kind, source, resume_id, *, parallel, rate, **fields):
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
                               on_chunk=_progress())

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
                          on_plan=on_plan, on_chunk=_progress(), **fields)


def _one_source(**given: object) -> None:
    named = [name for name, value in given.items() if value is not None]
    if len(named) != 1:
        listed = ", ".join(given)
        raise InputError(named[1] if len(named) > 1 else next(iter(given)),
                         f"give exactly one of {listed}")


def _file_only(source: str, **given: object) -> None:
    """Refuse campaign options on a send without a file: they would be ignored (and
    --confirm would then gate nothing)."""
    for name, value in given.items():
        if value not in (None, False):
            option = "--" + name.replace("_", "-")
            raise InputError(option, f"goes with --phone-file or --csv (a campaign), not with "
                             f"{source}; nothing was sent",
                             "a send to listed numbers shows its exact command with --dry-run.")


def _not_both(force: bool, skip_sent: bool) -> None:
    if force and skip_sent:
        raise InputError("--skip-sent", "cannot be combined with --force: --force sends to "
                         "everyone again, --skip-sent only to those not reached; choose one")


def _required(value: object, option: str) -> None:
    if value is None:
        raise InputError(option, "is required")


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
@click.option("--force", is_flag=True,
              help="Send even to numbers that got, or may have got, this message recently.")
@click.option("--skip-sent", is_flag=True,
              help="Leave out the numbers that got, or may have got, this message recently "
                   "and send to the others.")
@bulk_options
@run_operation(outcome=_campaign_outcome)
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
    _one_source(**{"--phone-numbers": phone_numbers, "--phone-file": phone_file,
                   "--resume": resume_id})
    _not_both(force, skip_sent)
    if not resume_id:
        _required(sign_name, "--sign-name")
        _required(template_code, "--template-code")
    if phone_numbers is not None:
        _file_only("--phone-numbers", confirm=confirm, template_text=template_text,
                   skip_invalid=skip_invalid, rate=rate, parallel=parallel)
        return _ops().send(client, phone_numbers, sign_name, template_code, template_param,
                           out_id, verify=verify, force=force, skip_sent=skip_sent)
    return _bulk(client, "send", phone_file, resume_id, parallel=parallel, rate=rate,
                 confirm=confirm, price=price, template_text=template_text,
                 template_code=template_code, sign_name=sign_name,
                 template_param=template_param, out_id=out_id, skip_invalid=skip_invalid,
                 force=force, skip_sent=skip_sent, verify=verify)


@cli.command("batch-send")
@click.option("--phone-number-json", metavar="JSON", help="JSON array of numbers, at most 100.")
@click.option("--sign-name-json", metavar="JSON",
              help="JSON array of signatures, one per number.")
@click.option("--csv", "csv_file", metavar="FILE",
              help="CSV with phone, sign_name (or -s) and the variables (a template_param "
                   "JSON column, or one column each); - for stdin. Chunks of 100.")
@click.option("-s", "--sign-name", help="With --csv: the signature for rows without one.")
@click.option("-t", "--template-code", help="Template code shared by all.")
@click.option("--template-param-json", metavar="JSON",
              help="JSON array of variable objects, one per number.")
@click.option("--sms-up-extend-code-json", metavar="JSON",
              help="JSON array of upstream extension codes, one per number.")
@click.option("-o", "--out-id", help="Your own tracking id (under 256 characters).")
@click.option("--verify", is_flag=True,
              help="Refuse unless every signature and the template are approved (exit 4).")
@click.option("--force", is_flag=True,
              help="Send even to numbers that got, or may have got, this message recently.")
@click.option("--skip-sent", is_flag=True,
              help="Leave out the numbers that got, or may have got, this message recently "
                   "and send to the others.")
@bulk_options
@run_operation(outcome=_campaign_outcome)
def batch_send(client, phone_number_json, sign_name_json, csv_file, sign_name, template_code,
               template_param_json, sms_up_extend_code_json, out_id, verify, force,
               skip_sent, resume_id, skip_invalid, parallel, rate, confirm, price,
               template_text):
    """Send per-recipient signatures and variables to up to 100 numbers (SendBatchSms),
    or to every row of a CSV file as a resumable campaign.

    \b
    Examples:
      {prog} batch-send --phone-number-json '["13800138000","13900139000"]' \\
        --sign-name-json '["SignA","SignB"]' -t SMS_123456 \\
        --template-param-json '[{"code":"111111"},{"code":"222222"}]'
      {prog} batch-send --csv customers.csv -s MySign -t SMS_123456
    """
    _one_source(**{"--phone-number-json": phone_number_json, "--csv": csv_file,
                   "--resume": resume_id})
    _not_both(force, skip_sent)
    if not resume_id:
        _required(template_code, "--template-code")
    if phone_number_json is not None:
        _required(sign_name_json, "--sign-name-json")
        _file_only("--phone-number-json", confirm=confirm, template_text=template_text,
                   skip_invalid=skip_invalid, rate=rate, parallel=parallel)
        if sign_name is not None:
            raise InputError("--sign-name", "goes with --csv (the default signature of its "
                             "rows); with --phone-number-json give --sign-name-json")
        return _ops().batch_send(client, phone_number_json, sign_name_json, template_code,
                                 template_param_json, sms_up_extend_code_json, out_id,
                                 verify=verify, force=force, skip_sent=skip_sent)
    return _bulk(client, "batch", csv_file, resume_id, parallel=parallel, rate=rate,
                 confirm=confirm, price=price, template_text=template_text,
                 template_code=template_code, sign_name=sign_name, out_id=out_id,
                 skip_invalid=skip_invalid, force=force, skip_sent=skip_sent, verify=verify)


def page_options(size: int, index_name: str = "--page-index",
                 dest: str = "page_index") -> Callable:
    """--page-index and --page-size; not given, they arrive as None (``_page`` fills in the
    defaults), so that --all or --approved can refuse them rather than ignore them."""
    def decorate(func: Callable) -> Callable:
        func = click.option("--page-size", type=INTEGER,
                            help=f"Items per page (1 to 50) [default: {size}].")(func)
        return click.option(index_name, dest, type=INTEGER,
                            help="Page number, from 1 [default: 1].")(func)

    return decorate


def _page(index: int | None, size: int | None, default_size: int,
          every_page: str | None = None) -> tuple[int, int]:
    """The page asked for, defaults filled in; refused with ``every_page`` (--all or
    --approved, which read every page)."""
    if every_page and (index is not None or size is not None):
        option = "--page-index" if index is not None else "--page-size"
        raise InputError(option, f"does not apply with {every_page}, which reads every page")
    return (1 if index is None else index), (default_size if size is None else size)


def listing_options(func: Callable) -> Callable:
    func = click.option("--all", "walk_all", is_flag=True,
                        help="Every page, unfiltered, numbered.")(func)
    func = click.option("--approved", is_flag=True,
                        help="Every page, approved items only, numbered: the candidates to "
                             "offer the user.")(func)
    return page_options(50)(func)


def _listing(client, kind, approved, walk_all, page_index, page_size):
    if approved and walk_all:
        raise InputError("--approved", "cannot be combined with --all")
    page_index, page_size = _page(page_index, page_size, 50,
                                  "--approved" if approved else "--all" if walk_all else None)
    from sms_skill import catalog

    if approved:
        return (catalog.approved_signs if kind == "signs" else catalog.approved_templates)(
            client)
    if walk_all:
        return catalog.all_items(client, kind)
    lister = _ops().list_signs if kind == "signs" else _ops().list_templates
    return lister(client, page_index, page_size)


#: The candidate tables SKILL.md has the agent show (tables only; JSON keeps every field).
SIGN_CANDIDATE_COLUMNS = ["Index", "SignName", "Scene", "BusinessType", "AuditStatus",
                          "SignStatus", "CarrierRegistration"]
TEMPLATE_CANDIDATE_COLUMNS = ["Index", "TemplateCode", "TemplateName", "TemplateContent",
                              "Variables"]
RECEIPT_COLUMNS = ["PhoneNum", "SendStatusText", "ErrCode", "SendDate", "ReceiveDate",
                   "TemplateCode", "OutId", "Content", "ErrCodeMeaning"]


@cli.command("list-signs")
@listing_options
@run_operation(rows="SmsSignList",
               columns=lambda o: SIGN_CANDIDATE_COLUMNS if o.get("approved") else None)
def list_signs(client, page_index, page_size, approved, walk_all):
    """List signatures with their review status (QuerySmsSignList).

    --approved keeps those approved (AuditStatus PASS, SignStatus 1) and adds each one's
    carrier registration (GetSmsSign) as CarrierRegistration: show these to the user.

    \b
    Examples:
      {prog} list-signs --approved
      {prog} list-signs --page-size 20
    """
    return _listing(client, "signs", approved, walk_all, page_index, page_size)


@cli.command("list-templates")
@listing_options
@run_operation(rows="SmsTemplateList",
               columns=lambda o: TEMPLATE_CANDIDATE_COLUMNS if o.get("approved") else None)
def list_templates(client, page_index, page_size, approved, walk_all):
    """List templates with content and review status (QuerySmsTemplateList).

    --approved keeps approved templates and adds the ${...} Variables each one needs.

    \b
    Examples:
      {prog} list-templates --approved
      {prog} list-templates --page-index 2
    """
    return _listing(client, "templates", approved, walk_all, page_index, page_size)


@cli.command("query-sign")
@click.option("-s", "--sign-name", required=True, help="Signature name.")
@run_operation(rows="SignIspRegisterDetailList")
def query_sign(client, sign_name):
    """Show one signature: status (1 approved) and carrier registration (GetSmsSign).

    \b
    Example:
      {prog} query-sign -s MySign
    """
    return _ops().query_sign(client, sign_name)


@cli.command("query-template")
@click.option("-t", "--template-code", required=True, help="Template code.")
@run_operation()
def query_template(client, template_code):
    """Show one template: status (1 approved) and content (GetSmsTemplate), with the
    ${...} Variables its content needs added.

    \b
    Example:
      {prog} query-template -t SMS_123456
    """
    return _ops().query_template(client, template_code)


@cli.command("query-status")
@click.option("-p", "--phone-number", "phone_number",
              help="The one number to look up (required).")
@click.option("--send-date", metavar="YYYYMMDD",
              help="Day of the send [default: today in UTC+8, the service's calendar].")
@click.option("--biz-id", help="BizId returned by send, for an exact match.")
@click.option("--page-size", type=INTEGER, default=10, show_default=True,
              help="Records per page (1 to 50).")
@click.option("--page-index", "current_page", type=INTEGER, default=1, show_default=True,
              help="Page number, from 1.")
@click.option("--wait", is_flag=True,
              help="Poll until every message is delivered (exit 0) or failed (exit 1); "
                   "exit 5 if still in flight at --timeout, printing the last receipts "
                   "seen (Wait.Records, Wait.InFlight).")
@click.option("--timeout", type=INTEGER, help="Seconds --wait may take [default: 120].")
@click.option("--no-mask", is_flag=True, help="Show full phone numbers.")
@old_name("phone_number", "--phone-numbers")
@old_name("current_page", "--current-page")
@run_operation(rows="SmsSendDetailDTOs.SmsSendDetailDTO", mask="PhoneNum",
               columns=lambda o: RECEIPT_COLUMNS)
def query_status(client, phone_number, send_date, biz_id, page_size, current_page, wait,
                 timeout, no_mask):
    """Delivery receipts for one number on one day (QuerySendDetails).

    Adds SendStatusText (1 in flight, 2 failed, 3 delivered) and ErrCodeMeaning to each
    record. Phone numbers are masked (table and JSON) unless --no-mask.

    \b
    Examples:
      {prog} query-status -p 13800138000 --send-date 20260326 --biz-id '1234^0'
      {prog} query-status -p 13800138000 --biz-id '1234^0' --wait --timeout 60
    """
    _required(phone_number, "--phone-number")
    if timeout is not None and not wait:
        raise InputError("--timeout", "applies only with --wait")
    return _ops().query_status(client, phone_number, send_date, biz_id, page_size,
                               current_page,
                               wait_timeout=(120 if timeout is None else timeout) if wait else None)


@cli.command("query-statistics")
@click.option("--start-date", required=True, metavar="YYYYMMDD", help="First day.")
@click.option("--end-date", required=True, metavar="YYYYMMDD", help="Last day.")
@click.option("--is-globe", type=click.Choice(sorted(validation.IS_GLOBE)), default="1",
              show_default=True, help="1 domestic, 2 international / Hong Kong, Macao, Taiwan.")
@click.option("--template-type", type=click.Choice(sorted(validation.TEMPLATE_TYPES)),
              help="0 code, 1 notification, 2 marketing, 3 international, 7 digital.")
@click.option("-s", "--sign-name", help="Only this signature.")
@page_options(10)
@run_operation(rows="Data.TargetList")
def query_statistics(client, start_date, end_date, is_globe, template_type, sign_name,
                     page_index, page_size):
    """Daily totals of sent, succeeded and failed messages (QuerySendStatistics).

    \b
    Examples:
      {prog} query-statistics --start-date 20260301 --end-date 20260326
      {prog} query-statistics --start-date 20260301 --end-date 20260326 --is-globe 2
    """
    return _ops().query_statistics(client, start_date, end_date, is_globe, template_type,
                                   sign_name, *_page(page_index, page_size, 10))


@cli.command("list-qualifications")
@click.option("--qualification-group-name", help="Filter by qualification name.")
@click.option("--company-name", help="Filter by company name.")
@click.option("--state", type=click.Choice(list(validation.QUALIFICATION_STATES)),
              help="INIT under review, PASS approved, NOT_PASS rejected, NOT_FINISH "
                   "incomplete, CANCEL cancelled.")
@click.option("--work-order-id", help="Filter by work order id.")
@click.option("--legal-person-name", help="Filter by legal person.")
@click.option("--use-by-self", type=click.BOOL, help="true: for your own business.")
@click.option("--all", "walk_all", is_flag=True, help="Every page, numbered.")
@page_options(20, "--page-index", "page_no")
@old_name("page_no", "--page-no")
@run_operation(rows="Data.List")
def list_qualifications(client, walk_all, **filters):
    """List SMS qualification records (QuerySmsQualificationRecord).

    See references/sms-qualification.md for fields and states.

    \b
    Examples:
      {prog} list-qualifications --state PASS --page-size 20
      {prog} list-qualifications --all
    """
    filters["page_no"], filters["page_size"] = _page(filters["page_no"], filters["page_size"],
                                                     20, "--all" if walk_all else None)
    if walk_all:
        return _ops().all_qualifications(client, **filters)
    return _ops().list_qualifications(client, **filters)


@cli.command("query-qualification")
@click.option("--qualification-group-id", required=True, help="GroupId from the list.")
@click.option("--order-id", help="Work order id.")
@click.option("--no-mask", is_flag=True,
              help="Show ID numbers, phone numbers and image URLs unmasked.")
@run_operation()
def query_qualification(client, qualification_group_id, order_id, no_mask):
    """One qualification in detail (QuerySingleSmsQualification).

    ID numbers and phone numbers are masked and image URLs withheld, unless --no-mask.

    \b
    Example:
      {prog} query-qualification --qualification-group-id 10000123
    """
    return _ops().query_qualification(client, qualification_group_id, order_id,
                                      unmask=no_mask)


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

    settings = _settings(click.get_current_context())
    query = output.compile_query(settings.query)
    if settings.dry_run:
        raise InputError("--dry-run", "precheck only reads the local aliyun CLI; run it "
                                      "without --dry-run")
    try:
        with Client(_checked(settings, {})) as client:
            result = client.run_precheck(fresh=True)
    except SkillError as exc:
        if exc.result is not None:
            _emit(output.render(exc.result, settings.format, query, "steps"))
        raise
    _emit(output.render({"ok": True, **asdict(result)}, settings.format, query, "steps"))


@cli.command()
@click.argument("code")
@click.option("--message", metavar="TEXT",
              help="The gateway's Message, e.g. '触发分钟级流控Permits:1': for "
                   "isv.BUSINESS_LIMIT_CONTROL, which window was hit and when to retry.")
def explain(code, message):
    """Meaning and next step for an error code, from references/sms-error-codes.md.

    \b
    Examples:
      {prog} explain isv.BUSINESS_LIMIT_CONTROL
      {prog} explain isv.BUSINESS_LIMIT_CONTROL --message '触发小时级流控Permits:5'
      {prog} explain MOBILE_NOT_ON_SERVICE
    """
    from sms_skill import output, references

    settings = _settings(click.get_current_context())
    _local_only(settings, "explain")
    _clean_up_dead_runs()
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
    _emit(output.render(data, settings.format, output.compile_query(settings.query)))


# click >= 8.2 raises this for a bare group call; older versions print help themselves.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


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


def _store_command(body: Callable) -> Callable:
    """Run ``body(store, **options)`` on the journal's campaign tables and print it."""

    @functools.wraps(body)
    def command(**options: object) -> None:
        from sms_skill import campaign as campaigns
        from sms_skill import output

        settings = _settings(click.get_current_context())
        query = output.compile_query(settings.query)
        _local_only(settings, "campaign " + click.get_current_context().info_name)
        _clean_up_dead_runs()
        store = campaigns.Store()
        try:
            result = body(store, **options)
        finally:
            store.close()
        _emit(output.render(result, settings.format, query, "chunk_list"))

    return command


@campaign.command("list")
@_store_command
def campaign_list(store):
    """Every campaign, newest first, with counts of chunks and recipients by state.

    \b
    Example:
      {prog} campaign list --format table
    """
    from sms_skill import campaign as campaigns

    return campaigns.campaigns(store)


@campaign.command("show")
@click.argument("campaign_id", metavar="ID")
@click.option("--numbers", is_flag=True, help="List each chunk's recipients (masked).")
@click.option("--no-mask", is_flag=True, help="With --numbers: the numbers in full.")
@click.option("--chunk", type=INTEGER, help="Only this chunk (its number in chunk_list).")
@_store_command
def campaign_show(store, campaign_id, numbers, no_mask, chunk):
    """One campaign: parameters, counts, and each chunk's state, BizId and error.

    \b
    Examples:
      {prog} campaign show 20261126-a1b2c3
      {prog} campaign show 20261126-a1b2c3 --chunk 3 --numbers
    """
    from sms_skill import campaign as campaigns

    if no_mask and not numbers:
        raise InputError("--no-mask", "only goes with --numbers")
    return campaigns.show(store, campaign_id, numbers=numbers, unmask=no_mask, chunk=chunk)


def _campaign_reconcile_outcome(result: object) -> SkillError | None:
    from sms_skill import campaign

    return campaign.reconcile_outcome(result) if isinstance(result, dict) else None


@campaign.command("retry")
@click.argument("campaign_id", metavar="ID")
@click.option("--parallel", type=INTEGER, default=4, show_default=True,
              help="Concurrent aliyun calls.")
@click.option("--rate", type=NUMBER, help="At most this many calls per second.")
@run_operation(outcome=_campaign_outcome)
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
                           on_chunk=_progress())


def _campaign_reconcile_outcome(result: object) -> SkillError | None:
    """Exit 0 once reconcile settled every chunk it could (chunks back to planned or failed
    are not its failure); exit 5 while some stay in doubt."""
    from sms_skill.errors import OutcomeUnknown

    error = _campaign_outcome(result)
    return error if isinstance(error, OutcomeUnknown) else None


@campaign.command("reconcile")
@click.argument("campaign_id", metavar="ID")
@click.option("--min-age", default=120, show_default=True,
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


def _reconcile_outcome(result: object) -> SkillError | None:
    from sms_skill.errors import OutcomeUnknown

    left = [s for s in result.get("settled", []) if s["now"] == "unknown"]
    if not left:
        return None
    return OutcomeUnknown(f"{len(left)} send(s) still with an unknown outcome;",
                          "run `reconcile` again later; do not resend meanwhile.")


@cli.command()
@click.option("--min-age", default=120, show_default=True,
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
    return _ops().reconcile_sends(client, min_age)


@cli.group(cls=Group, invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, help="How many sends, newest first.")
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

    settings = _settings(click.get_current_context())
    query = output.compile_query(settings.query)
    int_range(limit, "--limit", 1, 100_000)
    _local_only(settings, "history")
    _checked(settings, {})
    _clean_up_dead_runs()
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
    _emit(output.render(rows, settings.format, query))


@history.command("prune")
@click.option("--older-than", required=True, metavar="AGE",
              help="Forget sends and campaigns older than this: 30d, 12h, 90m, 3600s or "
                   "2w (a bare number is days).")
def history_prune(older_than):
    """Forget sends and campaigns (with their phone numbers) older than --older-than.

    Sends still in progress and campaigns with a chunk in flight are kept. A forgotten
    send no longer blocks an identical one (exit 6), so the last 24 hours (the duplicate
    and per-number-limit windows) cannot be forgotten.

    \b
    Example:
      {prog} history prune --older-than 30d
    """
    from sms_skill import output, retention

    settings = _settings(click.get_current_context())
    query = output.compile_query(settings.query)
    age = validation.duration(older_than, "--older-than")
    _local_only(settings, "history prune")
    _checked(settings, {})
    _clean_up_dead_runs()
    _emit(output.render(retention.prune_older_than(age), settings.format, query))


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


def _suppression(body: Callable) -> Callable:
    """A suppression command: local only, output rendered like any result."""

    @functools.wraps(body)
    def command(**options: object) -> None:
        from sms_skill import output

        settings = _settings(click.get_current_context())
        query = output.compile_query(settings.query)
        _local_only(settings, "suppression " + click.get_current_context().info_name)
        _checked(settings, options)
        _clean_up_dead_runs()
        _emit(output.render(body(**options), settings.format, query))

    return command


@suppression.command("list")
@click.option("--no-mask", is_flag=True, help="Show full phone numbers.")
@_suppression
def suppression_list(no_mask):
    """The numbers on the list, newest first, with why they are there."""
    from sms_skill import suppression as listed

    return listed.listing(unmask=no_mask)


@suppression.command("add")
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--reason", default="added by hand", show_default=True,
              help="Why (shown by `suppression list`).")
@_suppression
def suppression_add(numbers, reason):
    """Put numbers on the list: later sends skip them."""
    from sms_skill import suppression as listed

    return listed.add_numbers(numbers, reason)


@suppression.command("remove")
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@_suppression
def suppression_remove(numbers):
    """Take numbers off the list (e.g. a number that works again)."""
    from sms_skill import suppression as listed

    return listed.remove_numbers(numbers)


@suppression.command("import")
@click.argument("source", metavar="FILE")
@click.option("--reason", default="imported", show_default=True,
              help="Why (shown by `suppression list`).")
@_suppression
def suppression_import(source, reason):
    """Add every number of FILE: one per line or a CSV with a phone column; - for stdin."""
    from sms_skill import suppression as listed

    return listed.import_file(source, reason)


#: Set by run() when the command line asks for ``--format json``: errors go out as JSON.
_JSON_ERRORS = {"on": False}


def _asks_for_json(argv: list[str]) -> bool:
    """``--format json`` anywhere before a ``--`` (read before parsing, so that even a
    usage error is reported in the format asked for)."""
    for index, arg in enumerate(argv):
        if arg == "--":
            return False
        if arg == "--format=json" or (arg == "--format" and argv[index + 1:index + 2] ==
                                      ["json"]):
            return True
    return False


def _fail(message: str, code: int, hint: str = "", **extra: object) -> int:
    """One line ``error: ...`` on stderr; with --format json, ``{"error": {...}}``: the
    message, the exit code, ``next`` (what to do) and any detail such as the option."""
    from sms_skill.redaction import redact

    if not _JSON_ERRORS["on"]:
        text = f"{message} {hint}".strip()
        click.echo(f"error: {validation.one_line(redact(text))}", err=True)
        return code
    import json

    error = {"message": validation.one_line(redact(message)), "exit_code": code,
             "next": validation.one_line(redact(hint)) if hint else ""}
    error.update({key: value for key, value in extra.items() if value})
    click.echo(json.dumps({"error": error}, ensure_ascii=False), err=True)
    return code


def _skill_failure(exc: SkillError) -> int:
    extra = {"option": getattr(exc, "option", None),
             "api_code": getattr(exc, "code", None)}
    hint = exc.hint
    if not hint and isinstance(exc, InputError) and _JSON_ERRORS["on"]:
        hint = "fix the option named and run the command again (see its --help)."
    return _fail(exc.message, exc.exit_code, hint, **extra)


def _help_width() -> int | None:
    """The width click gives help (``$COLUMNS``, else the terminal's, else 80; at most
    max_content_width), without the shutil import that costs every --help a few ms.
    None when click's test runner forces a width of its own."""
    from click import formatting

    if formatting.FORCED_WIDTH is not None:
        return None
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(min(columns or 80, CONTEXT["max_content_width"]) - 2, 50)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting."""
    _JSON_ERRORS["on"] = _asks_for_json(list(sys.argv[1:] if argv is None else argv))
    try:
        cli.main(args=argv, prog_name=PROG, standalone_mode=False,
                 terminal_width=_help_width())
        return 0
    except _NO_ARGS_IS_HELP as exc:
        click.echo(exc.ctx.get_help())
        return 0
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else PROG
        if not _JSON_ERRORS["on"]:
            return _fail(f"{exc.format_message()} (see `{command} --help`)", USAGE)
        return _fail(exc.format_message(), USAGE, f"see `{command} --help`.")
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        return _fail("aborted", 130)
    except SkillError as exc:
        return _skill_failure(exc)
    except Interrupted as exc:
        return _fail(f"interrupted by {exc}; AI mode was switched off.", exc.exit_code,
                     exc.hint)
    except (BrokenPipeError, StdoutClosed):
        # The reader went away (e.g. `| head -c1`): nothing more can be printed.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE_EXIT
    except Exception as exc:  # a bug: say so plainly; AI mode was already switched off
        if os.environ.get("SMS_SKILL_DEBUG"):
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc} (AI mode was switched "
                     "off; set SMS_SKILL_DEBUG=1 for a traceback and report it)", 1)


def main() -> None:
    install_signal_handlers()
    if sys.stdout is None:  # started with fd 1 closed (`>&-`): a result would be lost
        sys.exit(_fail("stdout is closed; nothing was run: give it a file or a pipe "
                       "(e.g. > result.json).", 3))
    try:
        code = run()
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            code = code or BROKEN_PIPE_EXIT
    except Interrupted as exc:  # after run() had returned: its work is done
        code = _fail(f"interrupted by {exc}; AI mode was switched off.", exc.exit_code)
    ignore_signals()
    sys.exit(code)
