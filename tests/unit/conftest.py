"""Unit-test fixtures: the CLI run in-process, aliyun replaced by pytest-subprocess."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from sms_skill import cli
from tests.unit.helpers import (
    DISABLE,
    ENABLE,
    OUT_ID,
    SEND_OK,
    SET_UA,
    answer,
    write_precheck_cache,
)


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def invoke(capsys):
    def run(*args: str) -> Outcome:
        code = cli.run(list(args))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


@pytest.fixture
def aliyun_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``aliyun`` on PATH (never executed: pytest-subprocess answers for it) and
    credentials in the environment, as on a CI machine."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "aliyun"
    exe.write_text("#!/bin/sh\necho 'unit tests must not run me' >&2\nexit 99\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-test-id")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret")
    return exe


@pytest.fixture
def prechecked(aliyun_path: Path, isolated_home: Path) -> Path:
    """A fresh pre-check result in the cache, so only AI mode and product calls remain."""
    write_precheck_cache(isolated_home, aliyun_path)
    return aliyun_path



@pytest.fixture
def session(fp, prechecked, monkeypatch):
    """pytest-subprocess with the AI-mode calls registered around the product calls, and
    the OutId of a single send without -o fixed to ``OUT_ID``."""
    from sms_skill import operations

    monkeypatch.setattr(operations, "new_out_id", lambda: OUT_ID)
    fp.keep_last_process(True)
    fp.register(ENABLE)
    fp.register(SET_UA)
    fp.register(DISABLE)
    return fp


@pytest.fixture
def bulk(session):
    """``session`` with every send-sms and send-batch-sms answered OK."""
    session.register(["aliyun", "dysmsapi", "send-sms", session.any()], stdout=answer(SEND_OK))
    session.register(["aliyun", "dysmsapi", "send-batch-sms", session.any()],
                     stdout=answer(SEND_OK))
    return session
