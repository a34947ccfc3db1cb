"""Builds every aliyun command line the skill runs, as argv lists.

Product calls carry the three compliance flags and the region; nothing else in the
package assembles an aliyun command.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple

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
    """``$ALIBABA_CLOUD_REGION_ID`` when set, else ``cn-hangzhou``."""
    return environ.get("ALIBABA_CLOUD_REGION_ID") or DEFAULT_REGION


class Target(NamedTuple):
    """Where product calls go: the region (always passed) and an optional CLI profile."""

    region: str = DEFAULT_REGION
    profile: str | None = None


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def product_command(action: str, params: Mapping[str, object], target: Target) -> list[str]:
    """The argv of one ``aliyun dysmsapi`` call; ``params`` uses the API's wire names.

    Parameters whose value is None are left out.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown dysmsapi action {action!r}")
    argv = [ALIYUN, PRODUCT, ACTIONS[action], "--api-version", API_VERSION]
    for name, value in params.items():
        if value is not None:
            argv += [f"--{kebab(name)}", _flag_value(value)]
    argv += ["--user-agent", USER_AGENT, "--read-timeout", str(READ_TIMEOUT_SECONDS)]
    argv += ["--region", target.region]
    if target.profile:
        argv += ["--profile", target.profile]
    return argv
