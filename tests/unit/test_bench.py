"""The bench reports no figure for a run that failed."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_a_failing_command_is_not_timed():
    with pytest.raises(bench.RunFailed, match=r"`sh -c echo broken >&2; exit 2` exited 2: broken"):
        bench.median_ms(["sh", "-c", "echo broken >&2; exit 2"], dict(os.environ), runs=3)


def test_a_failing_command_has_no_memory_figure():
    with pytest.raises(bench.RunFailed, match="exited 3"):
        bench.peak_rss_mb(["sh", "-c", "exit 3"], dict(os.environ))


def test_a_passing_command_is_timed():
    assert bench.median_ms(["true"], dict(os.environ), runs=3) > 0


def test_a_command_that_prints_nothing_is_not_timed():
    with pytest.raises(bench.RunFailed, match="without printing 'Usage:'"):
        bench.median_ms(["true"], dict(os.environ), runs=3, expect="Usage:")
