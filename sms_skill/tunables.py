"""The numbers a user may change through environment variables (README lists them)."""

from __future__ import annotations

import os

#: variable -> default, in seconds
# The CLI gives up after --read-timeout 3 s plus its 5 s connect timeout: a little more.
CALL_TIMEOUT = ("SMS_SKILL_CALL_TIMEOUT", 10.0)  # a hung aliyun call is stopped after this
PRECHECK_TTL = ("SMS_SKILL_PRECHECK_TTL", 24 * 3600.0)  # a pre-check result stays fresh
DUPLICATE_WINDOW = ("SMS_SKILL_DUPLICATE_WINDOW", 600.0)  # an identical send is refused
POLL_INTERVAL = ("SMS_SKILL_POLL_SECONDS", 2.0)  # first wait of query-status --wait


def seconds(setting: tuple[str, float]) -> float:
    """The setting's value: the variable when it is a number, else the default."""
    variable, default = setting
    try:
        return float(os.environ[variable])
    except (KeyError, ValueError):
        return default
