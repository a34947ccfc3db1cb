"""Input checks that run before any aliyun call. Each failure is an InputError (exit 2)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime

from sms_skill.errors import InputError

MAX_SEND_NUMBERS = 1000
MAX_BATCH_NUMBERS = 100
MAX_OUT_ID = 255
# Patterns as text: re compiles each on first use and keeps it (compiling them all on
# import cost every start-up, --help included, most of a millisecond).
_PHONE = r"(?:\+|00)?[0-9]{5,15}"
#: A mainland China mobile number as the service accepts it (and as most files spell it).
MAINLAND = r"1[3-9][0-9]{9}"
_REGION = r"[a-z0-9-]+"
SHOWN_LENGTH = 60
LINE_LENGTH = 2000
SECRET_NAMES = ("access_key_id", "access_key_secret", "sts_token")
IS_GLOBE = {"1": "domestic (mainland China)", "2": "international, Hong Kong, Macao, Taiwan"}
TEMPLATE_TYPES = {"0": "verification code", "1": "notification", "2": "marketing",
                  "3": "international", "7": "digital"}


#: QuerySmsQualificationRecord's states and what they mean (the CLI's --state choices).
QUALIFICATION_STATES = {"INIT": "under review", "PASS": "approved", "NOT_PASS": "rejected",
                        "NOT_FINISH": "incomplete", "CANCEL": "cancelled"}

def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """A value quoted for an error message: control characters escaped, long ones cut."""
    text = str(value)
    quoted = repr(text)
    if len(quoted) <= limit:
        return quoted
    return f"{quoted[:limit]}...' ({len(text)} characters)"


def one_line(text: str, limit: int = LINE_LENGTH) -> str:
    """``text`` as one printable line: control characters escaped, at most ``limit`` long."""
    text = "".join(ch if ch.isprintable() or ch == " " else
                   ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for ch in text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def utf8_text(value: str, option: str) -> str:
    """Refuses what the command line could not decode (it cannot be sent or stored)."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raise InputError(option, f"{shown(value)} is not valid UTF-8 text")
    return value


def region(value: str, option: str = "--region") -> str:
    """A region id as aliyun accepts it (e.g. cn-hangzhou)."""
    if not re.fullmatch(_REGION, value) or value.startswith("-"):
        raise InputError(option, f"{shown(value)} is not a region id (e.g. cn-hangzhou)")
    return value


def not_an_option(value: str, option: str) -> str:
    """aliyun would read a value starting with ``-`` as one of its own options."""
    if value.startswith("-"):
        raise InputError(option, f"{shown(value)} starts with '-', which aliyun would read "
                                 "as an option; it cannot be passed")
    return value


def recipient_key(number: str) -> str:
    """One key per handset, whatever the spelling: the digits with the country code.

    Mainland numbers (11 digits starting with 1, bare or after ``+``, ``86``, ``+86`` or
    ``0086``) become ``86`` + the 11 digits; any other number is its digits after an
    optional ``+`` or ``00`` (country code + number).
    """
    if len(number) == 11 and number[0] == "1" and number.isdigit():  # the common spelling
        return "86" + number
    digits = number.strip()
    digits = digits[1:] if digits.startswith("+") else digits[2:] if digits.startswith(
        "00") else digits
    if len(digits) == 11 and digits.startswith("1"):
        return "86" + digits
    return digits


def phone_number(value: str, option: str = "--phone-number") -> str:
    """One number the service accepts: a mainland mobile (``1[3-9]`` + 9 digits, bare or
    after ``+``, ``86``, ``+86`` or ``0086``), or country code + number after an optional
    ``+`` or ``00``, valid by libphonenumber's metadata (``phonenumbers``, imported only
    for such numbers)."""
    number = value.strip()
    if not re.fullmatch(_PHONE, number):
        raise InputError(option, f"{shown(value)} is not a phone number: use 5 to 15 digits 0-9, "
                                 "optionally after + or 00 (e.g. 13800138000, +85261234567)")
    problem = number_problem(number)
    if problem:
        raise InputError(option, f"{shown(value)} {problem}")
    return number


def number_problem(number: str) -> str | None:
    """Why the service would refuse this number (already 5 to 15 digits), or None."""
    prefixed = number.startswith(("+", "00"))
    digits = number[1:] if number.startswith("+") else number[2:] if prefixed else number
    if not prefixed and digits.startswith("1"):
        if re.fullmatch(MAINLAND, digits):
            return None
        return (f"is not a mainland China mobile number ({len(digits)} digits): those are 11 "
                "digits starting with 13 to 19; for another country write + and the country "
                "code (e.g. +12025550123)")
    if digits.startswith("86"):
        if re.fullmatch(MAINLAND, digits[2:]):
            return None
        return ("is not a mainland China mobile number: after 86 come 11 digits starting "
                "with 13 to 19 (landlines cannot receive SMS)")
    return _international_problem(digits)


def _international_problem(digits: str) -> str | None:
    try:
        import phonenumbers
    except ImportError as exc:
        from sms_skill.errors import EnvironmentProblem

        raise EnvironmentProblem(
            "international numbers are checked with the phonenumbers package, which this "
            "Python lacks;", "install phonenumbers for it (pip install phonenumbers), or "
            "remove the skill's .runtime folder so that the shim builds it again.") from exc
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return "has no known country code (write the country code, then the number)"
    if not phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
        where = f" for +{parsed.country_code} ({region})" if region != "ZZ" else ""
        return f"is not a valid number{where} by libphonenumber's numbering plans"
    return None


def mask(number: str) -> str:
    """``13800138000`` -> ``138****8000``: enough to recognise, not to dial."""
    digits = number.strip()
    if len(digits) <= 6:
        return digits[:1] + "*" * (len(digits) - 2) + digits[-1:]
    keep_head = 3 if len(digits) >= 10 else 2
    return digits[:keep_head] + "****" + digits[-4:]



def mask_fields(data: object, fields: Collection[str],
                masker: Callable[[str, str], str] = lambda key, value: mask(value)) -> object:
    """A copy of ``data`` with every non-empty ``fields`` value, at any depth, replaced by
    ``masker(key, value)``."""
    if isinstance(data, dict):
        return {key: masker(key, str(value)) if key in fields and value
                else mask_fields(value, fields, masker) for key, value in data.items()}
    if isinstance(data, list):
        return [mask_fields(item, fields, masker) for item in data]
    return data

def phone_list(numbers: list[str], option: str, limit: int) -> list[str]:
    """Checks every number, refuses duplicates (billed twice) and more than ``limit``."""
    if not numbers:
        raise InputError(option, "no phone number given")
    if len(numbers) > limit:
        raise InputError(option, f"{len(numbers)} numbers given, at most {limit} per call")
    seen: dict[str, int] = {}
    checked = []
    for position, raw in enumerate(numbers, 1):
        if not raw.strip():
            raise InputError(option, f"entry {position} is empty (stray comma?)")
        number = phone_number(raw, option)
        key = recipient_key(number)
        if key in seen:
            raise InputError(option, f"{number} is listed twice (entries {seen[key]} and "
                                     f"{position}); it would be sent and billed twice")
        seen[key] = position
        checked.append(number)
    return checked


def phone_numbers(value: str, option: str = "--phone-numbers",
                  limit: int = MAX_SEND_NUMBERS) -> str:
    """A comma-separated list for SendSms; returns it normalised (no spaces)."""
    return ",".join(phone_list(value.split(","), option, limit))


def json_value(value: str, option: str) -> object:
    import json  # here, not at the top: --help need not load it

    def one_value_per_key(pairs: list[tuple[str, object]]) -> dict:
        keys = [key for key, _ in pairs]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:  # the service would keep one of them, which is a guess
            raise InputError(option, f"the key(s) {', '.join(map(shown, twice))} are given "
                             "more than once in one object")
        return dict(pairs)

    try:
        return json.loads(value, object_pairs_hook=one_value_per_key)
    except ValueError as exc:
        raise InputError(option, f"not valid JSON ({exc.msg} at column {exc.colno})") from exc


def _scalar_object(obj: object, option: str, where: str = "") -> dict:
    if not isinstance(obj, dict):
        raise InputError(option, f"{where}must be a JSON object like {{\"code\":\"123456\"}}")
    for key, val in obj.items():
        if not _encodable(key) or (isinstance(val, str) and not _encodable(val)):
            raise InputError(option, f"{where}variable {shown(key)} holds a character that "
                             "is not text (a lone surrogate such as \\ud800)")
        if isinstance(val, (dict, list)) or val is None:
            raise InputError(option, f"{where}variable {shown(key)} must be a string")
        if not isinstance(val, str):
            # Refused, not converted: the service wants strings (a number gives
            # isv.INVALID_JSON_PARAM), and a conversion could change it (012345, 1e3).
            import json

            text = json.dumps(val)
            raise InputError(option, f"{where}variable {shown(key)} is the JSON {text}, not a "
                                     f"string; the service takes strings only: write "
                                     f"\"{key}\":\"{text}\"")
    return obj


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def template_param(value: str | None, option: str = "--template-param") -> dict | None:
    """A JSON object of scalars, or None when not given."""
    if value is None:
        return None
    return _scalar_object(json_value(value, option), option)


def json_array(value: str, option: str) -> list:
    items = json_value(value, option)
    if not isinstance(items, list) or not items:
        raise InputError(option, "must be a non-empty JSON array like [\"a\",\"b\"]")
    return items


def string_array(value: str, option: str) -> list[str]:
    items = json_array(value, option)
    for position, item in enumerate(items, 1):
        if not isinstance(item, str) or not item.strip():
            raise InputError(option, f"item {position} must be a non-empty string")
    return items


def template_param_array(value: str, option: str = "--template-param-json") -> list[dict]:
    items = json_array(value, option)
    for position, item in enumerate(items, 1):
        _scalar_object(item, option, f"item {position} ")
    return items


def same_length(arrays: dict[str, list]) -> None:
    """Batch arrays go in step: every array as long as the phone numbers."""
    lengths = {option: len(items) for option, items in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{option} has {n}" for option, n in lengths.items())
        raise InputError(next(iter(lengths)), f"arrays must have equal lengths ({listed})")


def calendar_date(value: str, option: str) -> str:
    """A real date written ``yyyyMMdd``."""
    if not re.fullmatch(r"[0-9]{8}", value or ""):
        raise InputError(option, f"{shown(value)} is not a date in yyyyMMdd form (e.g. 20260326)")
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError as exc:
        raise InputError(option, f"{value} is not a calendar date") from exc
    return value


def date_range(start: str, end: str) -> tuple[str, str]:
    calendar_date(start, "--start-date")
    calendar_date(end, "--end-date")
    if start > end:
        raise InputError("--end-date", f"{end} is before --start-date {start}")
    return start, end


def choice(value: object, option: str, allowed: dict[str, str]) -> str:
    text = str(value)
    if text not in allowed:
        listed = ", ".join(f"{key} ({meaning})" for key, meaning in allowed.items())
        raise InputError(option, f"{shown(text)} is not allowed; use one of {listed}")
    return text


def int_range(value: object, option: str, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise InputError(option, f"{shown(value)} is out of range; use a whole number from "
                                 f"{low} to {high}")
    return number


def out_id(value: str | None, option: str = "--out-id") -> str | None:
    if value is not None and len(value) > MAX_OUT_ID:
        raise InputError(option, f"is {len(value)} characters long; it must be under 256")
    return value


_DURATION = r"([0-9]+(?:\.[0-9]+)?)([smhdw]?)"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}


def duration(value: str, option: str) -> float:
    """``30d``, ``12h``, ``90m``, ``3600s``, ``2w`` or a bare number of days, in seconds."""
    match = re.fullmatch(_DURATION, value.strip().lower())
    if not match:
        raise InputError(option, f"{shown(value)} is not an age; use e.g. 30d, 12h, 90m, "
                                 "3600s or 2w")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def non_empty(value: str | None, option: str) -> str:
    if value is None or not value.strip():
        raise InputError(option, "is required and must not be empty")
    return value


def refuse_secret(option: str) -> None:
    """AccessKeys never travel on the command line (shell history, process lists, logs)."""
    raise InputError(
        option, "secrets are not accepted on the command line;",
        "use the credential chain: export ALIBABA_CLOUD_ACCESS_KEY_ID and "
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or `aliyun configure`, or a RAM role.")

