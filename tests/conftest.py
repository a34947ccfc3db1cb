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


@pytest.fixture
def tmpfs(tmp_path: Path):
    """``tmpfs(name, size, readonly=False)`` mounts a small tmpfs folder (root only, as in
    CI) and unmounts it afterwards; the test is skipped only where mounting is impossible.
    (os.spawnvp, not subprocess: pytest-subprocess may be faking that.)"""
    mounted: list[Path] = []

    def mount(name: str, size: str = "512k", readonly: bool = False) -> Path:
        path = tmp_path / name
        path.mkdir()
        options = f"size={size},mode=0700" + (",ro" if readonly else "")
        code = os.spawnvp(os.P_WAIT, "mount", ["mount", "-t", "tmpfs", "-o", options, "tmpfs",
                                               str(path)])
        if code != 0:
            pytest.skip(f"cannot mount a tmpfs here (mount exit {code}; needs root)")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        os.spawnvp(os.P_WAIT, "umount", ["umount", "-l", str(path)])


def fill(folder: Path) -> None:
    """Use up every byte of the file system holding ``folder``."""
    with open(folder / "filler", "wb", buffering=0) as handle:
        for block in (65536, 4096, 512, 1):
            try:
                while True:
                    handle.write(b"\0" * block)
            except OSError:
                continue


def every_command() -> dict:
    """The CLI's subcommands by name, built (the root imports each one's module only when
    asked for it)."""
    import click

    from sms_skill.cli import cli

    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
