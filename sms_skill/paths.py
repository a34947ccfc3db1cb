"""Where the skill keeps its own state: a cache folder and a data folder per user."""

from __future__ import annotations

import os
from pathlib import Path

APP = "alibabacloud-sms-skill"


def _base(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def cache_dir() -> Path:
    """Pre-check cache and the registry of live runs (``$XDG_CACHE_HOME`` or ~/.cache)."""
    path = _base("XDG_CACHE_HOME", ".cache") / APP
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir(create: bool = True) -> Path:
    """The send journal (``$XDG_DATA_HOME`` or ~/.local/share), created unless ``create``
    is false."""
    path = _base("XDG_DATA_HOME", ".local/share") / APP
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def aliyun_config_file() -> Path:
    """The aliyun CLI's own profile file; only HOME moves it."""
    return Path.home() / ".aliyun" / "config.json"
