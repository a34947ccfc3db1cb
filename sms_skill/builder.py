"""Builds every aliyun command line the skill runs, as argv lists.

Product calls carry the three compliance flags and the region; nothing else in the
package assembles an aliyun command.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence

from sms_skill import USER_AGENT

ALIYUN = "aliyun"
PRODUCT = "dysmsapi"
API_VERSION = "2017-05-25"
READ_TIMEOUT_SECONDS = 3
DEFAULT_REGION = "cn-hangzhou"

#: API action -> the plugin's kebab-case command.
ACTIONS = {
    "SendSms": "send-sms",
    "SendBatchSms": "send-batch-sms",
    "QuerySmsSignList": "query-sms-sign-list",
    "QuerySmsTemplateList": "query-sms-template-list",
    "GetSmsSign": "get-sms-sign",
    "GetSmsTemplate": "get-sms-template",
    "QuerySendDetails": "query-send-details",
    "QuerySendStatistics": "query-send-statistics",
    "QuerySmsQualificationRecord": "query-sms-qualification-record",
    "QuerySingleSmsQualification": "query-single-sms-qualification",
}
SEND_ACTIONS = frozenset({"SendSms", "SendBatchSms"})

AI_MODE_ENABLE = (ALIYUN, "configure", "ai-mode", "enable")
AI_MODE_SET_USER_AGENT = (
    ALIYUN, "configure", "ai-mode", "set-user-agent", "--user-agent", USER_AGENT,
)
AI_MODE_DISABLE = (ALIYUN, "configure", "ai-mode", "disable")
VERSION = (ALIYUN, "version")
PLUGIN_UPDATE = (ALIYUN, "plugin", "update")
PLUGIN_LIST = (ALIYUN, "plugin", "list")


def auto_plugin_install(profile: str | None = None) -> list[str]:
    """``aliyun configure set --auto-plugin-install true``, for the profile the calls use."""
    argv = [ALIYUN, "configure", "set", "--auto-plugin-install", "true"]
    return argv + ["--profile", profile] if profile else argv


def kebab(name: str) -> str:
    """``PhoneNumberJson`` -> ``phone-number-json`` (the CLI's flag spelling)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def default_region(environ: Mapping[str, str] = os.environ) -> str:
    """``$ALIBABA_CLOUD_REGION_ID`` when set (checked like ``-r``), else ``cn-hangzhou``."""
    value = environ.get("ALIBABA_CLOUD_REGION_ID")
    if not value:
        return DEFAULT_REGION
    from sms_skill.validation import region

    return region(value, "ALIBABA_CLOUD_REGION_ID")


class Target:
    """Where product calls go: the region (always passed) and an optional CLI profile.
    (A plain class: a NamedTuple costs start-up a quarter of a millisecond.)"""

    __slots__ = ("region", "profile")

    def __init__(self, region: str = DEFAULT_REGION, profile: str | None = None) -> None:
        self.region, self.profile = region, profile


def target(region: str | None = None, profile: str | None = None) -> Target:
    """A checked Target: the region (else the default) and the profile, as given."""
    from sms_skill import validation

    if profile is not None:
        validation.not_an_option(validation.utf8_text(profile, "--profile"), "--profile")
    return Target(validation.region(region) if region else default_region(), profile)


def _flag_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith("-"):
        from sms_skill.validation import not_an_option

        not_an_option(text, f"--{kebab(name)}")
    return text


#: Linux refuses a single argument longer than this (MAX_ARG_STRLEN, with its NUL).
MAX_ARGUMENT_BYTES = 128 * 1024
#: Room left for what the pre-check adds to the environment and for the exec overhead.
_ARG_SLACK = 4096


def check_os_limits(argv: list[str], environ: Mapping[str, str] = os.environ) -> None:
    """InputError (exit 2) when the OS would refuse to start ``argv`` (E2BIG)."""
    from sms_skill.errors import InputError

    sizes = [len(os.fsencode(arg)) + 1 for arg in argv]
    if sys.platform.startswith("linux"):
        biggest = max(range(len(argv)), key=sizes.__getitem__)
        if sizes[biggest] > MAX_ARGUMENT_BYTES:
            option = argv[biggest - 1] if argv[biggest - 1].startswith("--") else "argument"
            raise InputError(option, f"the value is {sizes[biggest] - 1} bytes; the OS passes "
                                     f"at most {MAX_ARGUMENT_BYTES - 1} in one argument",
                             "Send fewer recipients per call or shorter values.")
    pointer = 8
    # os.environb: the same bytes as os.environ's strings encoded again, without encoding.
    pairs = (os.environb.items() if environ is os.environ and os.supports_bytes_environ
             else ((os.fsencode(k), os.fsencode(v)) for k, v in environ.items()))
    total = sum(sizes) + len(argv) * pointer + sum(
        len(k) + len(v) + 2 + pointer for k, v in pairs)
    try:
        limit = os.sysconf("SC_ARG_MAX") - _ARG_SLACK
    except (ValueError, OSError):
        limit = 256 * 1024
    if total > limit:
        raise InputError("argument", f"the aliyun command would take {total} bytes with the "
                                     f"environment; the OS allows {limit}",
                         "Send fewer recipients per call or shorter values.")


def product_command(action: str, params: Mapping[str, object], target: Target, *,
                    confirmed: bool = False) -> list[str]:
    """The argv of one ``aliyun dysmsapi`` call; ``params`` uses the API's wire names.
    ``confirmed`` (the caller's --yes, never set by the package itself) adds ``--yes`` for
    the CLI's safety policy.

    Parameters whose value is None are left out. InputError (exit 2) for a value aliyun
    would read as an option, or a command the OS could not start.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown dysmsapi action {action!r}")
    argv = [ALIYUN, PRODUCT, ACTIONS[action], "--api-version", API_VERSION]
    for name, value in params.items():
        if value is not None:
            argv += [f"--{kebab(name)}", _flag_value(name, value)]
    argv += ["--user-agent", USER_AGENT, "--read-timeout", str(READ_TIMEOUT_SECONDS)]
    argv += ["--region", target.region]
    if confirmed:
        argv.append("--yes")
    if target.profile:
        argv += ["--profile", target.profile]
    check_os_limits(argv)
    return argv


def shell_line(argv: Sequence[str]) -> str:
    """``argv`` as one line a POSIX shell reads back as the same words (what shlex.join
    prints; shlex itself costs every dry run half a millisecond to import)."""
    return " ".join(arg if arg and re.fullmatch(r"[\w@%+=:,./-]+", arg, re.ASCII)
                    else "'" + arg.replace("'", "'\"'\"'") + "'" for arg in argv)
