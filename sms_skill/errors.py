"""The package's exceptions. Each carries the exit code of the command-line contract."""

from __future__ import annotations

API_FAILURE = 1
USAGE = 2
ENVIRONMENT = 3
VERIFY_REFUSED = 4
OUTCOME_UNKNOWN = 5
DUPLICATE = 6
CONFIRMATION_REQUIRED = 7
OVER_LIMIT = 8


class SkillError(Exception):
    """Base class: ``message`` says what failed, ``hint`` what to do next."""

    exit_code = API_FAILURE
    #: What the command saw before failing, printed on stdout when set (e.g. the last
    #: receipts of ``query-status --wait``), so that the caller can decide on it.
    result: object = None

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InputError(SkillError):
    """Bad input: nothing was sent to aliyun."""

    exit_code = USAGE

    def __init__(self, option: str, message: str, hint: str = "") -> None:
        super().__init__(f"{option}: {message}" if option else message, hint)
        self.option = option


class ApiFailure(SkillError):
    """The API answered with a Code other than OK, or the CLI printed ERROR:."""

    exit_code = API_FAILURE

    def __init__(self, message: str, hint: str = "", code: str = "", response=None) -> None:
        super().__init__(message, hint)
        self.code = code
        self.response = response


class EnvironmentProblem(SkillError):
    """The aliyun CLI is missing or too old, the plugin is unavailable, or no credentials."""

    exit_code = ENVIRONMENT


class StorageProblem(EnvironmentProblem):
    """The skill's own folders or journal cannot be used (missing HOME, read-only, full,
    damaged or locked). Raised before anything is sent."""


class PolicyDenied(EnvironmentProblem):
    """A deny rule of the aliyun CLI's safety policy blocked the command: nothing was sent."""

    code = "SafetyPolicy.Denied"


class ConfirmationRequired(EnvironmentProblem):
    """A confirm rule of the aliyun CLI's safety policy wants the user's approval first:
    nothing was sent. Re-running with ``--yes`` passes the approval through."""

    exit_code = CONFIRMATION_REQUIRED
    code = "SafetyPolicy.ConfirmationRequired"


class VerifyRefused(SkillError):
    """``--verify`` found the signature or template not approved, or variables missing."""

    exit_code = VERIFY_REFUSED


class OutcomeUnknown(SkillError):
    """A send may or may not have reached the service (timeout, cut off, unreadable answer,
    or a code meaning "may have been processed")."""

    exit_code = OUTCOME_UNKNOWN

    def __init__(self, message: str, hint: str = "", code: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


class DuplicateSend(SkillError):
    """The same send was made recently; ``--force`` overrides."""

    exit_code = DUPLICATE


class OverLimit(SkillError):
    """A send would exceed a documented per-number limit: nothing was sent; wait until the
    time given, or ``--force``."""

    exit_code = OVER_LIMIT


class RunInterrupted(SkillError):
    """A signal stopped a campaign after its summary was printed; the exit code is the
    signal's (130 SIGINT, 143 SIGTERM, 129 SIGHUP)."""

    def __init__(self, message: str, hint: str, exit_code: int) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code
