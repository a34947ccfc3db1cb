#!/usr/bin/env python3
"""Benchmarks of the SMS skill; prints tables of ratios. Not a test: figures, not verdicts.

    .venv/bin/python bench/run.py            # everything (a few minutes on 2 cores)
    .venv/bin/python bench/run.py startup    # one section: startup, processes, planning,
                                             # bulk, memory

Every figure is a ratio of two things measured in the same run, alternating, as medians:
the machine may be shared, and a ratio stays meaningful under load where a time does not.
Every measured command must exit 0 (and print what it should), or the section reports
nothing. The timed sections run against bench/standin_aliyun, a shell script that costs
nothing but its sleep; `processes` counts calls with the project's fake (tests/fake_aliyun).
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

STANDIN = ROOT / "bench" / "standin_aliyun"
BASELINE = ROOT / "bench" / "baseline_plan.py"
SEND = ["send", "-p", "13800138000", "-s", "AliyunDemo", "-t", "SMS_123456",
        "-tp", '{"code":"123456"}']


class World:
    """A temp HOME with an aliyun first on PATH (the fake, with its plugin installed, or the
    stand-in)."""

    def __init__(self, aliyun: Path = scenarios.FAKE_ALIYUN) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sms-bench-"))
        self.home = self.dir / "home"
        self.home.mkdir()
        bin_dir = self.dir / "bin"
        bin_dir.mkdir()
        shutil.copy2(aliyun, bin_dir / "aliyun")
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


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) if j else c.ljust(w)
                               for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def alternating(commands: dict[str, tuple[list[str], str]], env: dict,
                rounds: int) -> dict[str, float]:
    """Median wall ms of each command, run in turn round after round (so that load hits
    them alike); every run must exit 0 and print its expected text on stdout."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(rounds):
        for label, (argv, expect) in commands.items():
            start = time.perf_counter()
            done = checked(subprocess.run(argv, env=env, capture_output=True, text=True,
                                          check=False, stdin=subprocess.DEVNULL))
            times[label].append((time.perf_counter() - start) * 1000)
            if expect not in done.stdout:
                raise RunFailed(f"`{' '.join(argv)}` exited 0 without printing {expect!r}")
    return {label: statistics.median(values) for label, values in times.items()}


def load() -> str:
    return "load average " + " ".join(f"{n:.1f}" for n in os.getloadavg())


def startup(rounds: int = 31) -> None:
    world = World(STANDIN)
    try:
        python = sys.executable
        shim = str(SHIM)
        medians = alternating({
            "python -c 'import click' (floor)": ([python, "-c", "import click"], ""),
            "send_sms.sh --help": ([shim, "--help"], "Usage:"),
            "send_sms.sh --dry-run send": ([shim, "--dry-run", *SEND],
                                           "aliyun dysmsapi send-sms"),
            "send_sms.sh explain CODE": ([shim, "explain", "DELIVERED"],
                                         '"Code": "DELIVERED"'),
        }, world.env, rounds)
        floor = medians.pop("python -c 'import click' (floor)")
        rows = [["python -c 'import click' (floor)", f"{floor:.1f}", "1.00x"]]
        rows += [[label, f"{ms:.1f}", f"{ms / floor:.2f}x"] for label, ms in medians.items()]
        table(f"Start-up, median of {rounds} alternating runs (interpreter {python}; "
              f"{load()})", ["command", "ms", "vs floor"], rows)
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


#: Writes the numbers of numbers_file shuffled: in a child, since the list would stay in the
#: bench's memory and count in the peak RSS of every command it starts after (a fork's).
SHUFFLE = """import random, sys
numbers = list(range(13000000000, 13000000000 + int(sys.argv[2])))
random.Random(16).shuffle(numbers)
with open(sys.argv[1], "w") as out:
    out.writelines(f"{number}\\n" for number in numbers)
"""


def numbers_file(path: Path, lines: int, shuffled: bool = False) -> Path:
    """``lines`` numbers, in order, or shuffled as files come (in no order: the b-trees are
    then written at random places)."""
    if shuffled:
        subprocess.run([sys.executable, "-c", SHUFFLE, str(path), str(lines)], check=True)
        return path
    with path.open("w") as out:
        for i in range(lines):
            out.write(f"{13000000000 + i}\n")
    return path


#: (numbers, shuffled, rounds) of the planning section.
PLANNING = ((100_000, False, 5), (1_000_000, False, 3), (1_000_000, True, 3))


def planning(sizes: tuple[tuple[int, bool, int], ...] = PLANNING) -> None:
    """send --phone-file --dry-run (read, validate, dedupe, chunk, check the ledger) against
    the plain script of issue 16 (regex, set, one executemany into SQLite), on the same
    file, alternating."""
    world = World(STANDIN)
    try:
        rows = []
        for recipients, shuffled, rounds in sizes:
            source = numbers_file(world.dir / "numbers.txt", recipients, shuffled)
            database = world.dir / "baseline.sqlite"
            baseline = [sys.executable, str(BASELINE), str(source), str(database)]
            times: dict[str, list[float]] = {"baseline": [], "tool": []}
            for _ in range(rounds):
                database.unlink(missing_ok=True)
                start = time.perf_counter()
                done = checked(subprocess.run(baseline, env=world.env, capture_output=True,
                                              text=True, check=False))
                times["baseline"].append(time.perf_counter() - start)
                if done.stdout.strip() != str(recipients):
                    raise RunFailed(f"the baseline planned {done.stdout.strip()} numbers")
                start = time.perf_counter()
                world.run("--dry-run", "send", "--phone-file", str(source), "-s",
                          "AliyunDemo", "-t", "SMS_123456")
                times["tool"].append(time.perf_counter() - start)
            base, tool = (statistics.median(times[k]) for k in ("baseline", "tool"))
            rows.append([f"{recipients:,}" + (" shuffled" if shuffled else ""), rounds,
                         f"{base:.2f}", f"{tool:.2f}", f"{tool / base:.2f}x"])
        table(f"Planning a file: send --phone-file --dry-run against bench/baseline_plan.py "
              f"(the plain script) on the same file, medians of alternating runs ({load()})",
              ["numbers", "runs", "baseline s", "dry run s", "vs baseline"], rows)
    finally:
        world.close()


def bulk(recipients: int = 100_000, delay_ms: int = 50, rounds: int = 3) -> None:
    """Real sends (planning included) through the stand-in, against the ideal: the calls'
    sleeps alone, spread over --parallel; and against the ideal plus planning: a dry run of
    the same file (start-up, reading, validating, storing: what a send does before its
    first chunk), timed in the same round."""
    calls = -(-recipients // 1000)
    walls: dict[int, list[float]] = {parallel: [] for parallel in (1, 4, 8)}
    plans: list[float] = []
    for _ in range(rounds):
        for parallel in walls:
            world = World(STANDIN)
            try:
                world.env["STANDIN_DELAY"] = f"{delay_ms / 1000:.3f}"
                world.run("precheck")
                source = numbers_file(world.dir / "numbers.txt", recipients)
                args = ["--phone-file", str(source), "-s", "AliyunDemo", "-t", "SMS_123456"]
                start = time.perf_counter()
                world.run("--dry-run", "send", *args)
                plans.append(time.perf_counter() - start)
                start = time.perf_counter()
                done = world.run("send", *args, "--parallel", str(parallel))
                walls[parallel].append(time.perf_counter() - start)
                sent = json.loads(done.stdout)["recipients"]["sent"]
                if sent != recipients:
                    raise RunFailed(f"--parallel {parallel} sent {sent} of {recipients}")
            finally:
                world.close()
    plan = statistics.median(plans)
    rows = []
    for parallel, values in walls.items():
        wall = statistics.median(values)
        ideal = calls * delay_ms / 1000 / parallel
        rows.append([parallel, calls, f"{wall:.2f}", f"{ideal:.2f}", f"{wall / ideal:.2f}x",
                     f"{(wall - plan) / ideal:.2f}x"])
    table(f"Bulk: {recipients:,} recipients planned and sent, stand-in aliyun sleeping "
          f"{delay_ms} ms per call, median of {rounds}; planning (a dry run of the file) "
          f"{plan:.2f} s ({load()})",
          ["--parallel", "calls", "wall s", "ideal s", "wall/ideal",
           "(wall - planning)/ideal"], rows)


def peak_rss_mb(argv: list[str], env: dict) -> float:
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RunFailed(f"`{' '.join(argv)}` exited {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss / 1024


def memory() -> None:
    """Peak RSS and time of planning files of growing size, the 1M-line one against the
    baseline script; then of sending through the stand-in (no sleep)."""
    world = World(STANDIN)
    try:
        rows = []
        for lines in (10_000, 100_000, 1_000_000):
            source = numbers_file(world.dir / f"numbers-{lines}.txt", lines)
            start = time.perf_counter()
            rss = peak_rss_mb([str(SHIM), "--dry-run", "send", "--phone-file", str(source),
                               "-s", "AliyunDemo", "-t", "SMS_123456"], world.env)
            tool = time.perf_counter() - start
            database = world.dir / f"baseline-{lines}.sqlite"
            start = time.perf_counter()
            base_rss = peak_rss_mb([sys.executable, str(BASELINE), str(source),
                                    str(database)], world.env)
            base = time.perf_counter() - start
            rows.append([f"{lines:,}", f"{rss:.1f}", f"{base_rss:.1f}", f"{tool:.2f}",
                         f"{tool / base:.2f}x"])
        table(f"Planning a file (send --phone-file --dry-run) against the baseline script "
              f"({load()})", ["lines", "peak RSS MB", "baseline MB", "seconds",
                              "vs baseline"], rows)
        rows = []
        for lines in (100_000, 1_000_000):
            source = world.dir / f"numbers-{lines}.txt"
            sender = World(STANDIN)  # its own ledger: the files share numbers
            try:
                sender.env["STANDIN_DELAY"] = "0"
                sender.run("precheck")
                start = time.perf_counter()
                rss = peak_rss_mb([str(SHIM), "send", "--phone-file", str(source), "-s",
                                   "AliyunDemo", "-t", "SMS_123456", "--parallel", "8"],
                                  sender.env)
                rows.append([f"{lines:,}", f"{rss:.1f}", f"{time.perf_counter() - start:.1f}"])
            finally:
                sender.close()
        table("Sending a file through the stand-in (--parallel 8, no sleep)",
              ["lines", "peak RSS MB of the run", "seconds"], rows)
    finally:
        world.close()


SECTIONS = {"startup": startup, "processes": processes, "planning": planning, "bulk": bulk,
            "memory": memory}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SECTIONS)
    if any(name not in SECTIONS for name in chosen):
        sys.exit(f"usage: bench/run.py [{'|'.join(SECTIONS)} ...]")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {load()}")
    try:
        for name in chosen:
            SECTIONS[name]()
    except RunFailed as exc:
        sys.exit(f"bench: {exc}; no figures reported for it: fix the run first.")
