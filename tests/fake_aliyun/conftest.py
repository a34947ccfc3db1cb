"""Fixtures for the fake aliyun CLI's own tests: a temp HOME, a clean env, a runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios  # noqa: E402


@pytest.fixture
def fake_home(tmp_path):
    home = tmp_path / "fake-home"
    home.mkdir()
    return home


@pytest.fixture
def fake_env(fake_home):
    return scenarios.fake_env(fake_home, cli_dir=str(scenarios.FAKE_DIR))


@pytest.fixture
def run(fake_env):
    """run(*args, env=None, stdin=None, **extra_env) -> (code, stdout, stderr)."""

    def _run(*args, env=None, stdin=None, timeout=30, **extra_env):
        e = dict(fake_env if env is None else env)
        e.update(extra_env)
        return scenarios.run_fake(*args, env=e, stdin=stdin, timeout=timeout)

    return _run


@pytest.fixture
def call_log(fake_env):
    """call_log() -> every JSON line the fake appended to $FAKE_ALIYUN_LOG."""
    return lambda: scenarios.read_log(fake_env["FAKE_ALIYUN_LOG"])


@pytest.fixture
def creds_env(fake_env):
    """fake_env plus credentials and region only in environment variables."""
    e = dict(fake_env)
    e.update(
        ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5tEnvKey789",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET="EnvSecret",
        ALIBABA_CLOUD_REGION_ID="cn-hangzhou",
    )
    return e
