"""The pre-check: aliyun version, plugin auto-install, plugin update, credentials.

A fresh result is cached (keyed on the aliyun executable's path and mtime) so that an
agent's tenth call does not pay for a plugin update again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sms_skill import builder, paths, tunables
from sms_skill.errors import EnvironmentProblem
from sms_skill.runner import Completed, install_hint

MIN_VERSION = (3, 3, 3)
CACHE_FILE = "precheck.json"
AUTO_INSTALL_ENV = {"ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL": "true"}
UPGRADE_HINT = ("ask the user to upgrade it (it is their machine): `curl -fsSL "
                "https://aliyuncli.alicdn.com/setup.sh | bash`, or on macOS `brew upgrade "
                "aliyun-cli`.")
_KEY_VARIABLES = tuple(f"{prefix}ACCESS_KEY_ID" for prefix in (
    "ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_", ""))
_OTHER_CREDENTIAL_VARIABLES = ("ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ROLE_ARN",
                               "ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")


def parse_version(text: str) -> tuple[int, ...]:
    """``3.4.11`` -> (3, 4, 11); a garbled answer is an EnvironmentProblem."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text or "")
    if not match:
        raise EnvironmentProblem(
            f"`aliyun version` printed {text.strip()[:60]!r}, which is not a version;",
            "reinstall the aliyun CLI: " + install_hint())
    return tuple(int(part) for part in match.groups())


@dataclass
class PrecheckResult:
    """What the pre-check found; ``env`` is added to every later aliyun call."""

    aliyun: str
    mtime: float
    version: str
    checked_at: float
    env: dict[str, str] = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
    profile: str | None = None


def locate_aliyun() -> str:
    """The aliyun executable on PATH, or an EnvironmentProblem (exit 3)."""
    found = shutil.which(builder.ALIYUN)
    if not found:
        raise EnvironmentProblem("the aliyun CLI is not installed (not found on PATH);",
                                 install_hint())
    return found


def _cache_path() -> Path:
    return paths.cache_dir() / CACHE_FILE


def cached(aliyun: str, profile: str | None = None) -> PrecheckResult | None:
    """A cached result for this very executable and profile, younger than the TTL."""
    try:
        data = json.loads(_cache_path().read_text())
        result = PrecheckResult(**data)
        mtime = os.stat(aliyun).st_mtime
    except (OSError, ValueError, TypeError):
        return None
    fresh = time.time() - result.checked_at < tunables.seconds(tunables.PRECHECK_TTL)
    if (result.aliyun, result.mtime, result.profile) == (aliyun, mtime, profile) and fresh:
        return result
    return None


def save(result: PrecheckResult) -> None:
    paths.write_private(_cache_path(), json.dumps(asdict(result)))


def check_credentials(environ: Mapping[str, str] = os.environ,
                      profile: str | None = None) -> str:
    """Where credentials come from; exit 3 when the chain has nothing. Never reads a key out."""
    if any(environ.get(name) for name in _KEY_VARIABLES):
        return "environment variables"
    if any(environ.get(name) for name in _OTHER_CREDENTIAL_VARIABLES):
        return "environment (role or credentials URI)"
    try:
        config = json.loads(paths.aliyun_config_file().read_text())
        profiles = [p for p in config.get("profiles", []) if isinstance(p, dict)]
    except (OSError, ValueError, AttributeError):
        profiles = []
    wanted = profile or environ.get("ALIBABA_CLOUD_PROFILE") or None
    for profile in profiles:
        if wanted and profile.get("name") != wanted:
            continue
        if profile.get("access_key_id") or profile.get("mode") not in (None, "", "AK"):
            return f"aliyun profile {profile.get('name')!r}"
    raise EnvironmentProblem(
        "no credentials found: neither ALIBABA_CLOUD_ACCESS_KEY_ID (and _SECRET) in the "
        "environment nor a profile in ~/.aliyun/config.json;",
        "set them through the default credential chain (environment variables, "
        "`aliyun configure`, an ECS RAM role or OIDC), never on the command line.")


class Precheck:
    """Runs the steps through ``call`` (the client's aliyun runner) and reports each one."""

    def __init__(self, call: Callable[..., Completed], report: Callable[[str], None]) -> None:
        self._call = call
        self._report = report

    def version(self, aliyun: str, profile: str | None = None) -> PrecheckResult:
        done = self._call(builder.VERSION)
        version = parse_version(done.stdout)
        text = ".".join(map(str, version))
        if version < MIN_VERSION:
            raise EnvironmentProblem(
                f"aliyun CLI {text} is too old; 3.3.3 or newer is required (AI mode);",
                UPGRADE_HINT)
        self._report(f"aliyun version: {text} (>= 3.3.3) ok")
        return PrecheckResult(aliyun, os.stat(aliyun).st_mtime, text, time.time(),
                              steps=[{"step": "version", "ok": True, "detail": text}],
                              profile=profile)

    def plugins(self, result: PrecheckResult) -> PrecheckResult:
        """Auto-install on (or through the environment), then the plugin update."""
        done = self._call(builder.auto_plugin_install(result.profile), check=False)
        if done.returncode == 0:
            detail = "set in the aliyun profile"
        else:
            # configure set validates the whole profile and ignores environment credentials;
            # the same effect, per call, comes from this variable.
            result.env = dict(AUTO_INSTALL_ENV)
            detail = ("not saved: `aliyun configure set` refused the profile (normal when "
                      "credentials come from the environment); every call sets "
                      "ALIBABA_CLOUD_CLI_PLUGIN_AUTO_INSTALL=true instead")
        self._report(f"plugin auto-install: {detail}")
        result.steps.append({"step": "auto-plugin-install", "ok": True, "detail": detail})

        done = self._call(builder.PLUGIN_UPDATE, env=result.env, check=False)
        if done.returncode == 0 and not done.truncated:
            detail = _last_line(done.stdout) or "ok"
            ok = True
        else:
            listed = self._call(builder.PLUGIN_LIST, env=result.env, check=False)
            installed = "aliyun-cli-dysmsapi" in listed.stdout and listed.returncode == 0
            detail = (_last_line(done.error_text) if (done.returncode or 0) > 0
                      else done.problem)
            if not installed:
                raise EnvironmentProblem(
                    f"`aliyun plugin update` failed ({detail}) and the dysmsapi plugin is "
                    "not installed;",
                    "check the network, then run `aliyun plugin install --names dysmsapi`.")
            detail = f"update failed ({detail}); using the installed dysmsapi plugin"
            ok = False
        self._report(f"plugin update: {detail}")
        result.steps.append({"step": "plugin-update", "ok": ok, "detail": detail})
        return result


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
