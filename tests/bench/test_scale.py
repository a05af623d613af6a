"""bench/scale.py: the driver's peak memory is measured from the clock, and the exponents are log-log slopes."""

from __future__ import annotations

import resource

import pytest

from tests.bench.load import bench_module

scale = bench_module("scale")


def test_the_peak_is_reset_to_what_runs_after():
    block = bytearray(200 * 2**20)  # 200 MB touched before the clock (the synthetic folder's generation)
    block[::4096] = b"x" * len(block[::4096])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del block
    scale.reset_peak_rss()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after < before - 150 * 1024  # kB


def test_slope_is_the_exponent_of_a_power_law():
    assert scale.slope([1_000, 10_000, 100_000], [2.0, 20.0, 200.0]) == pytest.approx(1.0)
    assert scale.slope([10_000, 1_000_000], [5.0, 50.0]) == pytest.approx(0.5)


def test_each_stage_gets_the_peak_of_its_own_span():
    import types

    def touch(mb: int) -> None:
        block = bytearray(mb * 2**20)
        block[::4096] = b"x" * len(block[::4096])

    work = types.SimpleNamespace(big=lambda: touch(300), small=lambda: touch(20))
    stages = scale.Stages()
    stages.wrap(work, "big", "examples")
    stages.wrap(work, "small", "ingest")
    scale.reset_peak_rss()
    base = scale.peak_rss_mb()
    work.big()
    work.small()
    stages.close_span(stages.between)
    assert stages.peak_mb["examples"] > base + 250
    assert stages.peak_mb["ingest"] < base + 150  # the big block before it is not booked to it
    assert stages.overall_mb == max(stages.peak_mb.values())
    assert set(stages.seconds) == {"examples", "ingest"}
