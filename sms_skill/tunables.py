"""The numbers a user may change through environment variables (README lists them).

A value that is not a finite number in the allowed range is refused (InputError, exit 2,
naming the variable) before any aliyun call: a typo must not silently turn a guard off.
"""

from __future__ import annotations

import math
import os

from sms_skill.errors import InputError

DAY = 24 * 3600.0


class Setting:
    """An environment variable, its default and its allowed range (a plain class: a
    NamedTuple costs start-up a quarter of a millisecond)."""

    __slots__ = ("variable", "default", "low", "high")

    def __init__(self, variable: str, default: float, low: float, high: float) -> None:
        self.variable, self.default, self.low, self.high = variable, default, low, high


# The CLI gives up after --read-timeout 3 s plus its 5 s connect timeout: a little more.
CALL_TIMEOUT = Setting("SMS_SKILL_CALL_TIMEOUT", 10.0, 0.1, 3600)  # any one aliyun process
PRECHECK_TTL = Setting("SMS_SKILL_PRECHECK_TTL", DAY, 0, 30 * DAY)  # pre-check stays fresh
DUPLICATE_WINDOW = Setting("SMS_SKILL_DUPLICATE_WINDOW", 600.0, 0, 30 * DAY)  # refused resend
POLL_INTERVAL = Setting("SMS_SKILL_POLL_SECONDS", 2.0, 0.05, 300)  # first wait of --wait
RETENTION_DAYS = Setting("SMS_SKILL_RETENTION_DAYS", 90.0, 1, 3650)  # journal kept this long
ALL = (CALL_TIMEOUT, PRECHECK_TTL, DUPLICATE_WINDOW, POLL_INTERVAL, RETENTION_DAYS)


def seconds(setting: Setting) -> float:
    """The setting's value (seconds; days for RETENTION_DAYS): the variable when set, else
    the default; InputError when it holds anything but a number from ``low`` to ``high``."""
    raw = os.environ.get(setting.variable, "").strip()
    if not raw:
        return setting.default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and setting.low <= value <= setting.high):
        from sms_skill.validation import shown

        raise InputError(setting.variable,
                         f"{shown(raw)} is not allowed; use a number from {setting.low:g} to "
                         f"{setting.high:g} (default {setting.default:g})")
    return value


def retention_cutoff(now: float | None = None) -> float:
    """Journal rows and campaigns older than this epoch time are deleted."""
    import time

    return (time.time() if now is None else now) - seconds(RETENTION_DAYS) * DAY


def check_all() -> None:
    """Every setting, before a command calls anything."""
    for setting in ALL:
        seconds(setting)
