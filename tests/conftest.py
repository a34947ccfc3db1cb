"""Shared fixtures: every test gets its own HOME, so no test touches the real ~/.aliyun."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_LEAKY_PREFIXES = ("ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_", "SMS_SKILL_", "XDG_",
                   "FAKE_ALIYUN_")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in ("NO_COLOR", "ACCESS_KEY_ID", "REGION"):
            monkeypatch.delenv(name, raising=False)
    return home
