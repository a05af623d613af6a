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
