"""The client: every aliyun call of a run goes through ``Client``.

It runs the pre-check when no fresh result is cached, switches AI mode on before the first
call and off when the run ends, builds product commands with the compliance flags, and in
dry-run mode prints those commands instead of running anything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from sms_skill import builder, prog, tunables

if TYPE_CHECKING:  # imported when the first real call is made: a dry run needs none
    from sms_skill.aimode import AiModeSession
    from sms_skill.precheck import PrecheckResult
    from sms_skill.runner import Completed


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Client:
    """Use as a context manager: AI mode is switched off when the block ends."""

    def __init__(
        self,
        target: builder.Target | None = None,
        *,
        dry_run: bool = False,
        echo: Callable[[str], None] | None = None,
        report: Callable[[str], None] = _stderr,
        collect: list[list[str]] | None = None,
        confirmed: bool = False,
    ) -> None:
        self.target = target or builder.Target(builder.default_region())
        self.dry_run = dry_run
        #: The caller passed the user's approval (--yes) for the CLI's safety policy.
        self.confirmed = confirmed
        self.echo = echo or (lambda line: print(line, flush=True))
        self.report = report
        #: In dry-run mode, the commands are appended here instead of echoed, when given.
        self.collect = collect
        #: Product calls started so far (an interrupted send before its call sent nothing).
        self.product_calls = 0
        #: What the pre-check adds to the environment of every aliyun process.
        self._env: dict[str, str] = {}
        self._child_env: dict[str, str] | None = None
        self._started = False
        self._ai_mode_session: AiModeSession | None = None

    @property
    def _ai_mode(self) -> AiModeSession:
        if self._ai_mode_session is None:
            from sms_skill import paths
            from sms_skill.aimode import AiModeSession

            self._ai_mode_session = AiModeSession(self._config_call, paths.cache_dir())
        return self._ai_mode_session

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> Completed:
        """Every aliyun process of the run, each bounded by the call timeout."""
        from sms_skill import runner

        if self._child_env is None:  # once: nothing changes our environment during a run
            self._child_env = {**os.environ, **self._env}
        child_env = {**self._child_env, **env} if env else self._child_env
        return runner.run(argv, timeout=tunables.seconds(tunables.CALL_TIMEOUT),
                          env=child_env)

    def _set_env(self, added: dict[str, str]) -> None:
        self._env, self._child_env = dict(added), None

    def _config_call(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                     check: bool = True) -> Completed:
        """A non-product aliyun call (version, configure, plugin)."""
        done = self._run(argv, env=env)
        if check and (done.timed_out or done.truncated or done.returncode != 0):
            from sms_skill.errors import EnvironmentProblem

            raise EnvironmentProblem(f"`{builder.shell_line(argv)}` failed: {done.problem};",
                                     f"run `{prog.name()} precheck` to see each step.")
        return done

    def run_precheck(self, *, fresh: bool = False) -> PrecheckResult:
        """Pre-check (cached unless ``fresh``), credentials, then AI mode on."""
        from sms_skill import paths, precheck
        from sms_skill.errors import EnvironmentProblem

        paths.home()  # the aliyun CLI keeps its profiles and AI mode under $HOME
        steps = precheck.Precheck(self._config_call, self.report)
        profile = self.target.profile
        result, stage = None, "aliyun"
        try:
            aliyun = precheck.locate_aliyun()
            stage = "version"
            result = None if fresh else precheck.cached(aliyun, profile)
            needs_plugins = result is None
            if result is None:
                result = steps.version(aliyun, profile)
            stage = "credentials"
            source = precheck.check_credentials(profile=profile)
            if fresh:
                self.report(f"credentials: found in {source}")
                result.steps.append({"step": "credentials", "ok": True, "detail": source})
            self._set_env(result.env)
            self._begin()
            stage = "plugin-update"
            if needs_plugins:
                result = steps.plugins(result)
                self._set_env(result.env)
        except EnvironmentProblem as exc:
            if fresh:  # the precheck command reports each step so far and the failed one
                failed = {"step": stage, "ok": False, "detail": str(exc)}
                exc.result = {"ok": False, "failed_step": stage,
                              "steps": [*(result.steps if result else []), failed]}
            raise
        if needs_plugins:
            try:
                precheck.save(result)
            except OSError as exc:  # only costs a pre-check on the next run
                self.report(f"warning: could not cache the pre-check result ({exc.strerror}); "
                            "the next run repeats it.")
        return result

    def ensure_started(self) -> None:
        """The pre-check (unless cached) and AI mode on, once per run, before any call."""
        if not self._ai_mode.active:
            self.run_precheck()

    def _begin(self) -> None:
        if not self._started:
            import atexit

            self._started = True
            atexit.register(self.close)
        self._ai_mode.start()

    def close(self) -> None:
        """Switch AI mode off unless another live run still needs it. Never raises."""
        if self._ai_mode_session is None:
            return
        try:
            self._ai_mode.stop()
        except Exception as exc:  # cleanup must not hide the run's own outcome
            self.report(f"warning: could not disable AI mode ({exc}); "
                        "run `aliyun configure ai-mode disable`.")

    def clean_up_dead_runs(self) -> None:
        """Switch off the AI mode that runs killed with SIGKILL left on, if no live run
        needs it: for commands that make no aliyun call of their own. Never raises."""
        from sms_skill import paths

        cache = paths.cache_dir_if_present()
        if cache is None:
            return
        from sms_skill.aimode import AiModeSession

        try:
            if AiModeSession(self._config_call, cache).clean_up_dead():
                self.report("note: switched off the AI mode that a killed run had left on.")
        except Exception as exc:
            self.report(f"warning: a killed run left AI mode on and it could not be switched "
                        f"off ({exc}); run `aliyun configure ai-mode disable`.")

    def call_each(self, calls: Sequence[tuple[str, Mapping[str, object]]], *,
                  parallel: int = 4) -> list[dict]:
        """Independent product calls of one operation (lookups, pages), up to ``parallel``
        at a time: AI mode is switched on once before them and stays on for all. Returns
        the answers in the order of ``calls``, or raises the error of the first failed call
        in that order once all have ended. A dry run prints each command in order."""
        if self.dry_run or len(calls) < 2:
            return [self.call(action, params) for action, params in calls]
        self.ensure_started()
        import threading

        outcomes: list[tuple[bool, object]] = [(False, None)] * len(calls)
        pending = iter(range(len(calls)))
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    index = next(pending, None)
                if index is None:
                    return
                try:
                    outcomes[index] = (True, self.call(*calls[index]))
                except BaseException as exc:  # handed to the caller's thread below
                    outcomes[index] = (False, exc)

        threads = [threading.Thread(target=worker, name=f"call-{n}", daemon=True)
                   for n in range(min(parallel, len(calls)))]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        except BaseException:  # a signal: the lookups still running are stopped, not waited
            from sms_skill import runner

            runner.stop_running()
            for thread in threads:
                thread.join(timeout=tunables.seconds(tunables.CALL_TIMEOUT))
            raise
        for ok, value in outcomes:
            if not ok:
                raise value  # type: ignore[misc]
        return [value for _, value in outcomes]  # type: ignore[misc]

    def command(self, action: str, params: Mapping[str, object]) -> list[str]:
        return builder.product_command(action, params, self.target, confirmed=self.confirmed)

    def call(self, action: str, params: Mapping[str, object], *, recipient: str = "") -> dict:
        """One product call; returns the parsed response, or ``{}`` in dry-run mode.

        Raises ApiFailure, OutcomeUnknown or EnvironmentProblem as ``responses`` decides.
        """
        argv = self.command(action, params)
        if self.dry_run:
            if self.collect is not None:
                self.collect.append(argv)
            else:
                self.echo(builder.shell_line(argv))
            return {}
        self.ensure_started()
        from sms_skill import responses
        from sms_skill.errors import OutcomeUnknown, SkillError

        self.product_calls += 1
        done = self._run(argv)
        is_send = action in builder.SEND_ACTIONS
        try:
            return responses.interpret(done, action=action, is_send=is_send,
                                       recipient=recipient)
        except SkillError:
            raise
        except Exception as exc:  # an answer that breaks the parser proves nothing
            if not is_send:
                raise
            raise OutcomeUnknown(f"{action}: the answer could not be read ({type(exc).__name__});"
                                 " the outcome is unknown.",
                                 responses.status_hint(recipient)) from exc
