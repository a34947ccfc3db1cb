#!/usr/bin/env python3
"""Benchmarks of the SMS skill; prints tables. Not a test: figures, not verdicts.

    .venv/bin/python bench/run.py            # everything (a few minutes on 2 cores)
    .venv/bin/python bench/run.py startup    # one section: startup, processes, bulk, memory

The aliyun CLI is the project's fake (tests/fake_aliyun/aliyun) in a temp HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIM = ROOT / "scripts" / "send_sms.sh"
sys.path.insert(0, str(ROOT / "tests" / "fake_aliyun"))

import scenarios  # noqa: E402

SEND = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
        "-tp", '{"code":"123456"}']


class World:
    """A temp HOME with the fake aliyun first on PATH and the plugin installed."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sms-bench-"))
        self.home = self.dir / "home"
        self.home.mkdir()
        bin_dir = self.dir / "bin"
        bin_dir.mkdir()
        shutil.copy2(scenarios.FAKE_ALIYUN, bin_dir / "aliyun")
        scenarios.preinstall_plugin(self.home)
        self.log = self.home / "calls.jsonl"
        self.env = {
            "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                     "/usr/bin", "/bin"]),
            "HOME": str(self.home), "LANG": "C.UTF-8", "FAKE_ALIYUN_LOG": str(self.log),
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIbench", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s",
            # The interpreter running the bench, behind the shim and for the floor alike.
            "SMS_SKILL_PYTHON": sys.executable,
        }

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(SHIM), *args], env={**self.env, **env},
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              check=False)
        return checked(done)

    def mock(self, *records: dict) -> None:
        scenarios.write_mocks(self.home / "mocks.json", list(records))
        self.env.update(ALIBABA_CLOUD_CLI_MOCK="true",
                        ALIBABA_CLOUD_CLI_MOCK_PATH=str(self.home / "mocks.json"))

    def calls(self) -> int:
        return len(scenarios.log_calls(scenarios.read_log(self.log)))

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class RunFailed(Exception):
    """A measured command failed: its timing would describe an error path, not the tool."""


def checked(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    if done.returncode != 0:
        err = done.stderr if isinstance(done.stderr, str) else (done.stderr or b"").decode()
        first = (err.strip().splitlines() or ["(no stderr)"])[-1]
        raise RunFailed(f"`{' '.join(map(str, done.args))}` exited {done.returncode}: {first}")
    return done


def median_ms(argv: list[str], env: dict, runs: int = 21, expect: str = "") -> float:
    """Median wall time of ``argv``; every run must exit 0 and print ``expect`` on stdout."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = checked(subprocess.run(argv, env=env, capture_output=True, text=True,
                                      check=False, stdin=subprocess.DEVNULL))
        times.append((time.perf_counter() - start) * 1000)
        if expect not in done.stdout:
            raise RunFailed(f"`{' '.join(argv)}` exited 0 without printing {expect!r}")
    return statistics.median(times)


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) if j else c.ljust(w)
                               for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def startup() -> None:
    world = World()
    try:
        python = sys.executable
        floor = median_ms([python, "-c", "pass"], world.env)
        rows = [["python -c pass (floor)", f"{floor:.1f}", "-"]]
        for label, args, expect in [
                ("send_sms.sh --help", ["--help"], "Usage:"),
                ("send_sms.sh --dry-run send", ["--dry-run", *SEND], "aliyun dysmsapi send-sms"),
                ("send_sms.sh explain CODE", ["explain", "DELIVERED"], '"Code": "DELIVERED"')]:
            ms = median_ms([str(SHIM), *args], world.env, expect=expect)
            rows.append([label, f"{ms:.1f}", f"{ms - floor:+.1f}"])
        table(f"Start-up, median of 21 runs (interpreter {python})",
              ["command", "ms", "over floor"], rows)
    finally:
        world.close()


def processes() -> None:
    world = World()
    try:
        world.run("precheck")
        sign = {"Code": "OK", "SignName": "AliyunDemo", "SignStatus": 1,
                "SignIspRegisterDetailList": []}
        world.mock(scenarios.mock_record("dysmsapi get-sms-sign *", times=0,
                                         stdout=scenarios.json_response(sign)),
                   scenarios.send_ok(times=0))
        rows = []
        for label, args in [("send", SEND + ["--force"]),
                            ("send --verify", SEND + ["--verify", "--force"]),
                            ("query-sign", ["query-sign", "-s", "AliyunDemo"]),
                            ("list-signs --approved", ["list-signs", "--approved"]),
                            ("explain (no aliyun)", ["explain", "DELIVERED"]),
                            ("--dry-run send (no aliyun)", ["--dry-run", *SEND])]:
            before = world.calls()
            world.run(*args)
            rows.append([label, world.calls() - before])
        table("aliyun processes per command (pre-check cached; 3 of them are AI mode)",
              ["command", "aliyun processes"], rows)
    finally:
        world.close()


def bulk(recipients: int = 100_000, delay_ms: int = 50) -> None:
    calls = -(-recipients // 1000)
    rows = []
    for parallel in (1, 4, 8):
        world = World()
        try:
            world.run("precheck")
            world.mock(scenarios.send_ok(times=0, delay_ms=delay_ms))
            source = world.dir / "numbers.txt"
            source.write_text("".join(f"{13000000000 + i}\n" for i in range(recipients)))
            start = time.perf_counter()
            done = world.run("send", "--phone-file", str(source), "-s", "AliyunDemo",
                             "-t", "SMS_123456", "--parallel", str(parallel))
            wall = time.perf_counter() - start
            sent = json.loads(done.stdout)["recipients"]["sent"]
            ideal = calls * delay_ms / 1000 / parallel
            rows.append([parallel, calls, sent, f"{wall:.2f}", f"{ideal:.2f}",
                         f"{wall / ideal:.1f}x"])
        finally:
            world.close()
    table(f"Bulk: {recipients:,} recipients, fake aliyun answering in {delay_ms} ms per call",
          ["--parallel", "calls", "sent", "wall s", "ideal s", "wall/ideal"], rows)


def peak_rss_mb(argv: list[str], env: dict) -> float:
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RunFailed(f"`{' '.join(argv)}` exited {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss / 1024


def memory() -> None:
    world = World()
    try:
        rows = []
        for lines in (10_000, 100_000, 1_000_000):
            source = world.dir / f"numbers-{lines}.txt"
            with source.open("w") as out:
                for i in range(lines):
                    out.write(f"{13000000000 + i}\n")
            start = time.perf_counter()
            rss = peak_rss_mb([str(SHIM), "--dry-run", "send", "--phone-file", str(source),
                               "-s", "AliyunDemo", "-t", "SMS_123456"], world.env)
            rows.append([f"{lines:,}", f"{rss:.1f}", f"{time.perf_counter() - start:.1f}"])
        table("Peak memory of planning a file (send --phone-file --dry-run: validate, dedupe, "
              "chunk)", ["lines", "peak RSS MB", "seconds"], rows)
        world.run("precheck")
        world.mock(scenarios.send_ok(times=0))
        rows = []
        for lines in (100_000, 1_000_000):
            source = world.dir / f"numbers-{lines}.txt"
            start = time.perf_counter()
            rss = peak_rss_mb([str(SHIM), "send", "--phone-file", str(source), "-s",
                               "AliyunDemo", "-t", "SMS_123456", "--parallel", "8"], world.env)
            rows.append([f"{lines:,}", f"{rss:.1f}", f"{time.perf_counter() - start:.1f}"])
        table("Peak memory of sending a file through the fake (--parallel 8, no delay)",
              ["lines", "peak RSS MB of the run", "seconds"], rows)
    finally:
        world.close()


SECTIONS = {"startup": startup, "processes": processes, "bulk": bulk, "memory": memory}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SECTIONS)
    if any(name not in SECTIONS for name in chosen):
        sys.exit(f"usage: bench/run.py [{'|'.join(SECTIONS)} ...]")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    try:
        for name in chosen:
            SECTIONS[name]()
    except RunFailed as exc:
        sys.exit(f"bench: {exc}; no figures reported for it: fix the run first.")
