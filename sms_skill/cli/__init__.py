"""Command-line interface: parsing and printing only; the work is done in the library.

This module holds the root group and what every command shares; each subcommand lives in a
module of this package (``SUBCOMMANDS``), imported only when that command runs or shows its
help: the shim runs on every agent step, and building every command costs each of them.
"""

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
    end_process,
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


def emit(text: str) -> None:
    """Print the result (the only thing that goes to stdout). When stdout cannot take it
    whole (a full disk, a file size limit), the result goes to stderr rather than being
    lost: it may hold a BizId."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # not a file (a test's capture)
        fd = None
    try:
        if fd is None:
            click.echo(text)
            sys.stdout.flush()
        else:
            sys.stdout.flush()
            _write_whole(fd, (text + "\n").encode(sys.stdout.encoding, sys.stdout.errors))
    except BrokenPipeError as exc:
        raise StdoutClosed() from exc
    except OSError as exc:
        click.echo(text, err=True)
        from sms_skill.errors import EnvironmentProblem

        raise EnvironmentProblem(f"could not write the result to stdout ({exc.strerror}); "
                                 "it is on stderr above;", "free the disk stdout goes to, or "
                                 "send stdout elsewhere.") from exc


def _write_whole(fd: int, data: bytes) -> None:
    """Every byte, or OSError: a file object's write drops the rest of a write that the
    disk took only in part, and says nothing."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def settings_of(ctx: click.Context) -> Settings:
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
    setattr(settings_of(ctx), param.name, value)


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


@functools.cache
def common_options() -> tuple[click.Option, ...]:
    """The options every command takes, before or after its name: built once and shared by
    the root and every subcommand (an Option holds no state of a run; building them for
    each command slowed every start-up)."""
    return (
        click.Option(["-r", "--region"], metavar="REGION", expose_value=False, callback=_store,
                     help="Region id [default: $ALIBABA_CLOUD_REGION_ID or cn-hangzhou]."),
        click.Option(["--profile"], metavar="NAME", expose_value=False, callback=_store,
                     help="aliyun CLI profile (passed only when given)."),
        click.Option(["--dry-run"], is_flag=True, expose_value=False, callback=_store,
                     help="Print the aliyun commands that would run; run nothing."),
        click.Option(["--format"], type=click.Choice(FORMATS),
                     expose_value=False, callback=_store,
                     help="auto (default): a table on a terminal, JSON otherwise."),
        click.Option(["--query"], metavar="JMESPATH", expose_value=False, callback=_store,
                     help="JMESPath expression applied to the JSON result."),
        click.Option(["--yes"], is_flag=True, expose_value=False, callback=_store,
                     help="Pass the user's approval to the aliyun CLI's safety policy (exit 7)"
                          "; only after the user said yes."),
        *(click.Option([f"--{name.replace('_', '-')}", name], hidden=True, expose_value=False,
                       callback=_store)
          for name in validation.SECRET_NAMES),
    )


def _name_program(cmd: click.Command) -> click.Command:
    """Help examples are written as ``{prog} ...``: show the program the user ran."""
    if cmd.help:
        cmd.help = cmd.help.replace("{prog}", PROG)
    return cmd


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

    # Help as click writes it, its headings given rather than translated (see above).
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), "Usage: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [record for record in (param.get_help_record(ctx) for param in
                                         self.get_params(ctx)  # type: ignore[attr-defined]
                                         if not isinstance(param, click.Argument))
                   if record is not None]  # (click 8.5 gives arguments a section of theirs)
        if records:
            with formatter.section("Options"):
                formatter.write_dl(records)


class Command(_QuickParsing, click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _refuse_repeats(self, args)
        return super().parse_args(ctx, args)


class Group(_QuickParsing, click.Group):
    command_class = Command

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _name_program(cmd).params.extend(common_options())
        super().add_command(cmd, name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _refuse_repeats(self, args)  # common options: before and after the command count
        return super().parse_args(ctx, args)


Group.group_class = Group

#: Each subcommand: the module of this package that defines it, and its line in the command
#: list (the list is shown without importing them).
SUBCOMMANDS = {
    "batch-send": ("batch", "Per-recipient signatures and variables, or a whole CSV."),
    "campaign": ("campaigns", "Campaigns of files: list, show, reconcile, retry."),
    "explain": ("diagnostics", "Meaning and next step for an error code."),
    "history": ("records", "The journal of sends: when, to whom, BizId, outcome."),
    "list-qualifications": ("lookups", "List SMS qualification records."),
    "list-signs": ("lookups", "List signatures with their review status."),
    "list-templates": ("lookups", "List templates with their content and review status."),
    "precheck": ("diagnostics", "Run the pre-check now and report each step."),
    "query-qualification": ("lookups", "One qualification in detail."),
    "query-sign": ("lookups", "One signature: its status and carrier registration."),
    "query-statistics": ("lookups", "Daily totals of messages sent, delivered and failed."),
    "query-status": ("lookups", "Delivery receipts of one number on one day."),
    "query-template": ("lookups", "One template: its status and content."),
    "reconcile": ("records", "Settle single and batch sends whose outcome is unknown."),
    "send": ("sending", "Send to up to 1000 numbers, or a file as a campaign."),
    "suppression": ("records", "Numbers that cannot receive, which sends skip."),
}


class _RootGroup(Group):
    """The root: a subcommand's module is imported the first time the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in SUBCOMMANDS:
            __import__(f"{__name__}.{SUBCOMMANDS[cmd_name][0]}")
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0]
        if name not in SUBCOMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            import difflib  # the names are not built: click would have none to suggest

            close = difflib.get_close_matches(name.lower(), SUBCOMMANDS, n=1)
            ctx.fail(f"No such command {name!r}." + (f" Did you mean {close[0]!r}?" if close
                                                    else ""))
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUBCOMMANDS[name][1]) for name in sorted(SUBCOMMANDS)])


@click.group(cls=_RootGroup, context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, param, value: _show_version(ctx, value),
              help="Show the version and exit.")  # click's version_option runs gettext
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


_name_program(cli).params.extend(common_options())


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
            settings = settings_of(ctx)
            query = output.compile_query(settings.query)
            target = checked_target(settings, options)
            result = _NO_RESULT
            commands: list[list[str]] = []
            hide = mask if mask and not options.get("no_mask") else None
            try:
                with Client(target, dry_run=settings.dry_run, collect=commands,
                            confirmed=settings.yes) as client:
                    result = body(client, **options)
            except SkillError as exc:
                if exc.result is not None:  # the last state seen, to decide on
                    emit(output.render(exc.result, settings.format, query, rows, hide,
                                        columns(options), mask_json=bool(hide)))
                raise
            except Interrupted:
                # A signal held back during the AI-mode switch-off: the work was done, and
                # what the service answered (a BizId) must still reach the user.
                if result is not _NO_RESULT and not settings.dry_run:
                    emit(output.render(result, settings.format, query, rows, hide,
                                        columns(options), mask_json=bool(hide)))
                raise
            if settings.dry_run:
                click.echo("dry run: nothing was sent or queried.", err=True)
                if not (isinstance(result, dict) and result.get("dry_run")):
                    emit(output.dry_run(commands, settings.format))
                    return
            emit(output.render(result, settings.format, query, rows, hide, columns(options),
                                mask_json=bool(hide)))
            if outcome is not None and (error := outcome(result)) is not None:
                raise error

        return command

    return wrap


def checked_target(settings: Settings, options: dict) -> builder.Target:
    """Settings and text options checked before any call (exit 2); the target of calls."""
    from sms_skill import tunables

    tunables.check_all()
    for name, value in options.items():
        if isinstance(value, str):
            validation.utf8_text(value, "--" + name.replace("_", "-"))
    return builder.target(settings.region, settings.profile)


def local_only(settings: Settings, what: str) -> None:
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


def clean_up_dead_runs() -> None:
    """For commands that call no aliyun of their own: AI mode a killed run left on."""
    from sms_skill.client import Client

    Client(builder.Target()).clean_up_dead_runs()


def local_command(rows: str | None = None) -> Callable:
    """Decorate a command that calls no SMS API, its body ``(**options) -> result``: the
    options refused for it (``local_only``) and the settings are checked, AI mode that a
    killed run left on is switched off, then the result is printed (``rows``: the list a
    table shows)."""

    def wrap(body: Callable) -> Callable:
        @functools.wraps(body)
        def command(**options: object) -> None:
            from sms_skill import output

            ctx = click.get_current_context()
            settings = settings_of(ctx)
            query = output.compile_query(settings.query)
            names = []
            while ctx.parent is not None:  # the command as typed, without the program
                names.insert(0, ctx.info_name)
                ctx = ctx.parent
            local_only(settings, " ".join(names))
            checked_target(settings, options)
            clean_up_dead_runs()
            emit(output.render(body(**options), settings.format, query, rows))

        return command

    return wrap


def required(value: object, option: str) -> None:
    if value is None:
        raise InputError(option, "is required")


def ops():
    from sms_skill import operations

    return operations


# click >= 8.2 raises this for a bare group call; older versions print help themselves.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())

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
    end_process(code)
