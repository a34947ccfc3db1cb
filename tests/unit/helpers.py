"""What the unit tests expect aliyun calls and answers to look like, written out literally."""

from __future__ import annotations

import json
import time
from pathlib import Path

UA = "AlibabaCloud-Agent-Skills/alibabacloud-sms-send-short-message"
ENABLE = ["aliyun", "configure", "ai-mode", "enable"]
SET_UA = ["aliyun", "configure", "ai-mode", "set-user-agent", "--user-agent", UA]
DISABLE = ["aliyun", "configure", "ai-mode", "disable"]


#: The OutId a single send without -o gets, under the ``session`` fixture.
OUT_ID = "sms-unit-test-out-id"


def product(action: str, *params: str, region: str = "cn-hangzhou") -> list[str]:
    """The argv the contract requires, written out literally (not via the builder). A
    send without --out-id gets the generated one last, as the tool adds it."""
    if action in ("send-sms", "send-batch-sms") and "--out-id" not in params:
        params = (*params, "--out-id", OUT_ID)
    return ["aliyun", "dysmsapi", action, "--api-version", "2017-05-25", *params,
            "--user-agent", UA, "--read-timeout", "3", "--region", region]


def answer(obj: dict) -> str:
    """A response printed as the dysmsapi plugin prints it (2-space indentation)."""
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


SEND_OK = {"BizId": "900619746936498440^0", "Code": "OK", "Message": "OK",
           "RequestId": "4C3D8B1B-B3D8-5673-B724-1F251799CE9A"}


def write_precheck_cache(home: Path, aliyun: Path, profile: str | None = None) -> None:
    """A fresh pre-check result in the cache: only AI mode and product calls remain."""
    cache = home / ".cache" / "alibabacloud-sms-skill"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "precheck.json").write_text(json.dumps({
        "aliyun": str(aliyun), "mtime": aliyun.stat().st_mtime, "version": "3.4.11",
        "checked_at": time.time(), "env": {}, "steps": [], "profile": profile,
    }))


def sent_numbers(bulk) -> list[str]:
    """Every number the send-sms calls so far went to, in call order."""
    calls = [list(c) for c in bulk.calls if "send-sms" in c]
    return [n for c in calls for n in c[c.index("--phone-numbers") + 1].split(",")]
