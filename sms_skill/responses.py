"""Turns what the aliyun CLI printed into a result or into one of the package's errors."""

from __future__ import annotations

import re

from sms_skill import prog, redaction, references
from sms_skill.errors import (
    ApiFailure,
    ConfirmationRequired,
    EnvironmentProblem,
    OutcomeUnknown,
    PolicyDenied,
)
from sms_skill.runner import Completed, strip_ansi

_READ_TIMEOUT = re.compile(
    r"context deadline exceeded|Client\.Timeout exceeded|Read timeout|"
    r"read: connection reset|unexpected EOF",
)
_NOT_SENT = re.compile(r"dial tcp|no such host|connection refused|Connect timeout|"
                       r"network is unreachable")
_PLUGIN_MISSING = re.compile(
    r"not a valid built-in product|is required for command|failed to read user input|"
    r"is not a valid product|failed to install plugin|plugin binary not found"
)
# The CLI or the plugin rejected its own command line: no request was made.
_NOT_CALLED = re.compile(r"invalid flag --|is not a valid (?:command|api)|unsupported API version|"
                         r"invalid value \"[^\"]*\" for flag")
# The aliyun CLI's safety policy (3.3.3+), checked before the plugin runs: nothing was sent.
_POLICY_DENIED = re.compile(r"operation blocked by safety policy:\s*(.+?)\s*\(rule:\s*(.*?)\)\s*$",
                            re.MULTILINE)
_POLICY_CONFIRM = re.compile(r"Safety policy requires confirmation for:\s*(.+?)\s*$",
                             re.MULTILINE)
_ERROR_CODE = re.compile(r"^ErrorCode:\s*(\S+)", re.MULTILINE)
_ERROR_LINE = re.compile(r"^ERROR:\s*(.+)$", re.MULTILINE)
CREDENTIALS_HINT = (
    "set credentials through the default chain: ALIBABA_CLOUD_ACCESS_KEY_ID and "
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_REGION_ID) in the environment, "
    "a profile made with `aliyun configure`, or a RAM role; never on the command line."
)
PLUGIN_HINT = "install it with `aliyun plugin install --names dysmsapi` or run `precheck`."


def status_hint(target: str) -> str:
    """What to do after a send whose outcome is unknown."""
    return (f"Do not resend: in a few minutes run `{prog.name()} reconcile` to settle it, or "
            f"`{prog.name()} query-status -p {target}` to see whether it arrived.")


def explain_code(code: str) -> str:
    """``meaning Next: action`` from the references, or a pointer to the triage steps."""
    entry = references.lookup(code)
    if entry is None:
        return (f"{code} is not in references/sms-error-codes.md; "
                "see its Triage section and the API message above.")
    return f"{entry.meaning} Next: {entry.action}"


def interpret(done: Completed, *, action: str, is_send: bool, recipient: str = "") -> object:
    """The parsed response of a successful call; raises the matching error otherwise.

    For a send, only proof that nothing was sent is a failure (ApiFailure): a code the
    error-code table marks as a refusal, or a connection that never opened. Anything else
    that is not ``Code`` ``OK`` leaves the outcome unknown (OutcomeUnknown).
    """
    label = action
    if done.timed_out:
        message = f"{label}: aliyun did not answer within {done.timeout:g} s and was stopped;"
        if is_send:
            raise OutcomeUnknown(message + " the message may or may not have been sent.",
                                 status_hint(recipient))
        raise ApiFailure(message, "check the network and retry.")
    if done.truncated:
        message = f"{label}: the answer was cut off ({done.problem});"
        if is_send:
            raise OutcomeUnknown(message + " the outcome is unknown.", status_hint(recipient))
        raise ApiFailure(message, "retry; if it happens again, run `precheck`.")
    if done.returncode is not None and done.returncode < 0:
        message = f"{label}: aliyun was killed by signal {-done.returncode} mid-call;"
        if is_send:
            raise OutcomeUnknown(message + " the outcome is unknown.", status_hint(recipient))
        raise ApiFailure(message, "retry.")
    if is_send and done.returncode != 0 and done.data is not None:
        raise OutcomeUnknown(f"{label}: aliyun printed an answer but exited {done.returncode}"
                             f" ({_first_line(done.stderr)}); the two contradict each other,"
                             " so the outcome is unknown.", status_hint(recipient))
    if done.returncode != 0 or done.data is None and "ERROR:" in done.error_text:
        _raise_cli_error(done, label=label, is_send=is_send, recipient=recipient)
    data = done.data
    if not isinstance(data, dict):
        if is_send:
            raise OutcomeUnknown(f"{label}: aliyun printed no readable response"
                                 f" ({_shown(done.stdout)}); the outcome is unknown:"
                                 " the message may or may not have been sent.",
                                 status_hint(recipient))
        raise ApiFailure(f"{label}: aliyun printed no JSON response;",
                         "run the command with --dry-run and try it by hand to see why.")
    code = data.get("Code")
    if code == "OK" or code is None and not is_send:
        return data
    if not isinstance(code, str) or not code:
        raise OutcomeUnknown(f"{label}: the response carries no Code, so it does not say "
                             "whether the message was accepted; the outcome is unknown.",
                             status_hint(recipient))
    message = data.get("Message", "")
    request_id = data.get("RequestId", "")
    text = f"{label} failed: {code}: {message} (RequestId {request_id})."
    if is_send and not references.proves_refusal(code):
        raise OutcomeUnknown(text[:-1] + "; " + _why_unknown(code), status_hint(recipient),
                             code=code)
    raise ApiFailure(text, _with_window(code, message), code=code, response=data)


def _with_window(code: str, message: str) -> str:
    """The next step; for a per-number limit, first the window the gateway named."""
    hint = explain_code(code)
    if code == "isv.BUSINESS_LIMIT_CONTROL":
        from sms_skill import limits

        said = limits.translate(message)
        if said:
            return f"{said} {hint}"
    return hint


def _why_unknown(code: str) -> str:
    """Why a send answered with ``code`` (not a proven refusal) may have gone out."""
    if references.may_have_been_processed(code):
        return "the service may have processed it: the outcome is unknown."
    return (f"{code} is not marked as a refusal in references/sms-error-codes.md, so it does"
            " not prove that nothing was sent: the outcome is unknown.")


def _first_line(stderr: str) -> str:
    lines = redaction.redact_request(strip_ansi(stderr)).strip().splitlines()
    return f"stderr: {lines[0][:120]}" if lines else "nothing on stderr"


def _shown(stdout: str) -> str:
    """A short, printable description of what the CLI printed."""
    text = stdout.strip()
    if not text:
        return "empty output"
    return f"output starts {text[:40]!r}"


def _raise_policy_error(text: str, label: str) -> None:
    """The safety policy's deny (exit 3) or confirm (exit 7) refusal, if that is what it is."""
    denied = _POLICY_DENIED.search(text)
    if denied:
        raise PolicyDenied(f"{label}: the aliyun CLI's safety policy blocks `{denied.group(1)}` "
                           f"(rule: {denied.group(2)}); nothing was sent.",
                           "Do not work around it: ask the user (or their administrator) to "
                           "change the rule in ~/.aliyun/safety-policy.json or "
                           "ALIBABA_CLOUD_SAFETY_POLICY_RULES.")
    confirm = _POLICY_CONFIRM.search(text)
    if confirm:
        raise ConfirmationRequired(
            f"{label}: the aliyun CLI's safety policy requires the user's confirmation for "
            f"`{confirm.group(1)}`; nothing was sent.",
            f"Ask the user: \"The aliyun CLI's safety policy wants your approval for "
            f"`{confirm.group(1)}` ({label}); --yes approves every aliyun call of this "
            "command, including any send it makes. Go ahead?\" and only after they say yes, "
            "re-run the same command with --yes.")


def _raise_cli_error(done: Completed, *, label: str, is_send: bool, recipient: str) -> None:
    text = done.error_text
    _raise_policy_error(text, label)
    lines = _ERROR_LINE.findall(text)
    first = lines[0].strip() if lines else (text.splitlines() or ["no output"])[-1]
    code_match = _ERROR_CODE.search(text)
    if code_match:
        code = code_match.group(1)
        message = re.search(r"^Message:\s*(.*)$", text, re.MULTILINE)
        detail = message.group(1).strip() if message else first
        if is_send and not references.proves_refusal(code):
            raise OutcomeUnknown(f"{label} failed: {code}: {detail}; {_why_unknown(code)}",
                                 status_hint(recipient), code=code)
        raise ApiFailure(f"{label} failed: {code}: {detail}", _with_window(code, detail),
                         code=code)
    # Checked before the network errors: a missing plugin whose catalog is unreachable
    # also mentions `no such host`.
    if _PLUGIN_MISSING.search(text):
        raise EnvironmentProblem(f"{label}: the aliyun dysmsapi plugin is not available ({first});",
                                 PLUGIN_HINT)
    if _NOT_SENT.search(text) and not _READ_TIMEOUT.search(text):
        raise ApiFailure(f"{label}: could not reach the SMS service ({first});",
                         "nothing was sent; check the network or DNS, then retry.")
    if _READ_TIMEOUT.search(text):
        if is_send:
            raise OutcomeUnknown(
                f"{label}: the request timed out after it was sent ({first});"
                " the outcome is unknown.", status_hint(recipient))
        raise ApiFailure(f"{label}: the request timed out ({first});", "retry later.")
    if done.returncode == 3:
        raise EnvironmentProblem(f"{label}: aliyun configuration problem: {first};",
                                 CREDENTIALS_HINT)
    if _NOT_CALLED.search(text):
        raise ApiFailure(f"{label}: aliyun refused the command line ({first});",
                         f"nothing was sent; run `{prog.name()} precheck`, then retry.")
    if is_send:
        raise OutcomeUnknown(f"{label}: aliyun failed (exit {done.returncode}) without saying "
                             f"whether the message was accepted: {first};"
                             " the outcome is unknown.", status_hint(recipient))
    raise ApiFailure(f"{label}: aliyun failed (exit {done.returncode}): {first}",
                     f"run `{prog.name()} precheck`, then retry.")
