"""End-to-end world: ``scripts/send_sms.sh`` run as a real process, the aliyun CLI on PATH.

The aliyun executable is the project's fake (tests/fake_aliyun/aliyun) unless
``E2E_ALIYUN`` names another one, e.g. a real aliyun >= 3.4.7, which then answers from the
same mock records (``ALIBABA_CLOUD_CLI_MOCK=true``). Tests that read the fake's call log
are skipped for a real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKE_DIR = ROOT / "tests" / "fake_aliyun"
sys.path.insert(0, str(FAKE_DIR))

import scenarios  # noqa: E402

SHIM = ROOT / "scripts" / "send_sms.sh"
UA = scenarios.USER_AGENT
ALIYUN = Path(os.environ.get("E2E_ALIYUN") or FAKE_DIR / "aliyun")
USING_FAKE = ALIYUN.resolve() == (FAKE_DIR / "aliyun").resolve()
TEST_PYTHON = os.environ.get("SMS_SKILL_TEST_PYTHON") or sys.executable
#: The call timeout of tests that make aliyun hang: short, yet far above what a call to the
#: fake costs on a loaded 2-core machine (1 s was not, there).
HANG_TIMEOUT = "3"
needs_fake_log = pytest.mark.skipif(not USING_FAKE, reason="reads the fake aliyun's call log")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class World:
    """A temp HOME with the dysmsapi plugin installed and credentials only in the
    environment (the recommended set-up, on which `configure set` fails)."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.home.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()
        # A copy, not a link: tests may touch it to look like a new aliyun binary.
        self.aliyun = self.bin / "aliyun"
        shutil.copy2(ALIYUN, self.aliyun) if USING_FAKE else self.aliyun.symlink_to(ALIYUN)
        self.log = self.home / "aliyun-calls.jsonl"
        self.mocks = self.home / "mocks.json"
        python_dir = Path(sys.executable).parent
        self.env = {
            "PATH": os.pathsep.join([str(self.bin), str(python_dir), "/usr/bin", "/bin"]),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            # The interpreter under test (a matrix cell's), else the one running the tests;
            # never one that an earlier run left in .runtime or .runtime-python.
            "SMS_SKILL_PYTHON": TEST_PYTHON,
            "FAKE_ALIYUN_LOG": str(self.log),
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tE2eTestKey",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e2e-secret-value",
            "ALIBABA_CLOUD_REGION_ID": "cn-hangzhou",
        }
        scenarios.preinstall_plugin(self.home)

    def mock(self, *records: dict) -> None:
        """Answer matching calls from these records (the CLI's own mock format)."""
        scenarios.write_mocks(self.mocks, list(records))
        self.env["ALIBABA_CLOUD_CLI_MOCK"] = "true"
        self.env["ALIBABA_CLOUD_CLI_MOCK_PATH"] = str(self.mocks)

    def run(self, *args: str, stdin=subprocess.DEVNULL, timeout: float = 60,
            **env: str) -> Result:
        proc = subprocess.run([str(SHIM), *args], env={**self.env, **env}, stdin=stdin,
                              capture_output=True, text=True, timeout=timeout, check=False)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        return subprocess.Popen([str(SHIM), *args], env={**self.env, **env},
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def entries(self) -> list[dict]:
        return scenarios.read_log(self.log)

    def calls(self) -> list[list[str]]:
        """argv (after ``aliyun``) of every call, in order."""
        return [e["argv"] for e in scenarios.log_calls(self.entries())]

    def product_calls(self) -> list[dict]:
        return [e for e in scenarios.log_calls(self.entries()) if e["argv"][:1] == ["dysmsapi"]]

    def ai_mode(self) -> dict:
        return scenarios.read_ai_mode(self.home)

    def wait_for_call(self, action: str, timeout: float = 20) -> None:
        """Until the log shows ``action`` started (e.g. a hung send)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(action in argv for argv in self.calls()):
                return
            time.sleep(0.05)
        raise AssertionError(f"{action} never started; calls: {self.calls()}")

    def interrupt(self, proc: subprocess.Popen, signum: int = signal.SIGINT,
                  timeout: float = 30) -> Result:
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=timeout)
        return Result(proc.returncode, out, err)


@pytest.fixture
def world(tmp_path: Path) -> World:
    root = tmp_path / "world"
    root.mkdir()
    return World(root)


def ai_mode_calls(calls: list[list[str]]) -> list[str]:
    """The AI-mode calls in order: 'enable', 'set-user-agent', 'disable'."""
    return [argv[2] for argv in calls if argv[:2] == ["configure", "ai-mode"]]


def assert_ai_mode_wrapped(world: World) -> None:
    """Enable and set-user-agent before the first product call, disable last, AI mode on
    during every product call and off now."""
    calls = world.calls()
    first_product = next(i for i, argv in enumerate(calls) if argv[:1] == ["dysmsapi"])
    before = ai_mode_calls(calls[:first_product])
    assert before[-2:] == ["enable", "set-user-agent"], calls
    assert calls[-1] == ["configure", "ai-mode", "disable"], calls
    assert all(e["ai_mode"] for e in world.product_calls()), world.product_calls()
    assert world.ai_mode().get("enabled") is False
    assert world.ai_mode().get("user_agent") == UA


def compliant(argv: list[str]) -> bool:
    """A product call with the three compliance flags."""
    text = " ".join(argv)
    return ("--api-version 2017-05-25" in text and f"--user-agent {UA}" in text
            and "--read-timeout 3" in text)


# ---- the fake service's record of accepted requests ---------------------------------------


def handset(number: str) -> str:
    """The handset a spelling names (the API's rule: mainland numbers with or without 86)."""
    digits = number[1:] if number.startswith("+") else number[2:] if number.startswith(
        "00") else number
    return digits[2:] if len(digits) == 13 and digits.startswith("861") else digits


class Service:
    """The stand-in's record of accepted requests."""

    def __init__(self, world) -> None:
        self.path = world.home / "service-record.jsonl"
        world.env["FAKE_ALIYUN_SERVICE_RECORD"] = str(self.path)

    def requests(self) -> list[dict]:
        if not self.path.exists():
            return []
        # The last line may be one being written right now: only whole lines count.
        whole = self.path.read_text().split("\n")[:-1]
        return [json.loads(line) for line in whole if line]

    def sends_per_number(self) -> Counter:
        return Counter(handset(p) for r in self.requests() for p in r["phones"])


@pytest.fixture
def service(world) -> Service:
    return Service(world)
