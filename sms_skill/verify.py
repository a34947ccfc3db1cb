"""``--verify``: refuse a send unless its signatures and template are approved and every
template variable has a value. Reads the parsed JSON, whatever its indentation."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable

from sms_skill import prog
from sms_skill.client import Client
from sms_skill.errors import VerifyRefused

STATUS = {0: "under review", 1: "approved", 2: "rejected", 10: "cancelled"}
NEXT_STEP = {
    0: "wait for the review to finish",
    2: "fix it in the SMS console and submit it again",
    10: "choose another one",
}
REGISTER_STATUS = {0: "registering", 1: "registered", 2: "registration failed"}
_VARIABLE = re.compile(r"\$\{(\w+)\}")


def status_code(value: object) -> int | None:
    """The API gives statuses as numbers or strings (``1`` or ``"1"``)."""
    try:
        return int(str(value))
    except ValueError:
        return None


def describe_status(value: object) -> str:
    code = status_code(value)
    return STATUS.get(code, f"unknown status {value!r}") if code is not None else "missing"


def _require_approved(kind: str, name: str, value: object, listing: str) -> None:
    code = status_code(value)
    if code == 1:
        return
    step = NEXT_STEP.get(code, "check it in the SMS console")
    raise VerifyRefused(
        f"{kind} {name!r} is {describe_status(value)} (status {value}); nothing was sent;",
        f"{step}, or run `{prog.name()} {listing} --approved` to pick an approved one.")


def carrier_registration(sign: dict) -> list[tuple[str, str]]:
    """(carrier, status) per operator; the field is RegisterStatus in the SDK and
    RegisterResult in older documents: whichever is present."""
    import jmespath

    rows = jmespath.search("SignIspRegisterDetailList[*]", sign) or []
    out = []
    for row in rows:
        value = row.get("RegisterStatus", row.get("RegisterResult"))
        code = status_code(value)
        out.append((str(row.get("OperatorCode", "?")),
                    REGISTER_STATUS.get(code, str(value)) if code is not None else "unknown"))
    return out


def template_variables(content: str) -> list[str]:
    """The ``${name}`` placeholders of a template, in order, without repeats."""
    return list(dict.fromkeys(_VARIABLE.findall(content or "")))


def check_variables(content: str, params: Iterable[dict],
                    warn: Callable[[str], None]) -> None:
    """Missing variables refuse the send; unused keys are only a warning."""
    wanted = template_variables(content)
    params = list(params)
    for position, given in enumerate(params, 1):
        where = f" for recipient {position}" if len(params) > 1 else ""
        missing = [name for name in wanted if name not in given]
        if missing:
            example = json.dumps({name: "..." for name in wanted}, ensure_ascii=False)
            raise VerifyRefused(
                f"template variable(s) {', '.join(missing)} have no value{where}; "
                "nothing was sent;",
                f"give every variable of the template, e.g. --template-param '{example}'.")
        unused = [key for key in given if key not in wanted]
        if unused:
            warn(f"warning: template parameter(s) {', '.join(unused)} are not used by "
                 f"the template{where}")


#: Lookup codes meaning the signature or template does not exist in this account.
NOT_FOUND = frozenset({"SignatureNotFound", "TemplateNotFound", "isv.SMS_SIGNATURE_ILLEGAL",
                       "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGN_NAME_ILLEGAL"})


def _not_found(exc: Exception, sign_names: list[str], template_code: str) -> VerifyRefused:
    """A lookup's answer that the signature or template does not exist in this account:
    exit 4, since nothing was sent."""
    if "SIGN" in exc.code.upper():
        kind, name, listing = "signature", ", ".join(sign_names), "list-signs"
    else:
        kind, name, listing = "template", template_code, "list-templates"
    return VerifyRefused(f"{kind} {name!r} not found in this account ({exc.code}); "
                         "nothing was sent;",
                         f"check the spelling, or run `{prog.name()} {listing}` to see "
                         "the approved ones.")


def verify_send(client: Client, sign_names: list[str], template_code: str,
                params: list[dict], warn: Callable[[str], None] | None = None) -> object:
    """Raise VerifyRefused (exit 4) unless the send may go ahead; returns the template's
    TemplateType (None in a dry run), which the per-number limits depend on."""
    warn = warn or (lambda line: print(line, file=sys.stderr, flush=True))
    from sms_skill.errors import ApiFailure

    # The lookups are independent: all at once, then judged in order.
    try:
        *signs, template = client.call_each(
            [("GetSmsSign", {"SignName": name}) for name in sign_names]
            + [("GetSmsTemplate", {"TemplateCode": template_code})])
    except ApiFailure as exc:
        if exc.code not in NOT_FOUND:
            raise
        raise _not_found(exc, sign_names, template_code) from exc
    if client.dry_run:
        return None
    for name, sign in zip(sign_names, signs):
        _require_approved("signature", name, sign.get("SignStatus"), "list-signs")
        carriers = carrier_registration(sign)
        if carriers:
            listed = ", ".join(f"{op}: {status}" for op, status in carriers)
            warn(f"signature {name!r} carrier registration: {listed} (information only)")
    _require_approved("template", template_code, template.get("TemplateStatus"),
                      "list-templates")
    check_variables(template.get("TemplateContent", ""), params, warn)
    return template.get("TemplateType")
