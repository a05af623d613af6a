"""bench/pick_fusion.py: the held-out sweep's best fusion weight at the chosen threshold, the larger on a tie."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from tests.bench.load import BENCH, bench_module

pick = bench_module("pick_fusion")
COLUMNS = ["point", "threshold", "fusion_alpha", "thought_share", "ndcg_at_10"]


def sweep(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


ROWS = [
    ("never", None, None, 0.0, 0.50),
    ("auto", 0.6, None, 0.3, 0.52),
    ("fused", 0.6, 0.2, 0.3, 0.53),
    ("fused", 0.6, 0.5, 0.3, 0.55),
    ("fused", 0.6, 0.8, 0.3, 0.55),
    ("fused", 0.9, 0.5, 0.6, 0.70),  # better, but at another threshold
]


def test_the_best_alpha_at_the_threshold_wins_and_a_tie_goes_to_the_larger():
    best = pick.choose(sweep(ROWS), 0.6)
    assert (best["fusion_alpha"], best["ndcg_at_10"]) == (0.8, 0.55)


def test_a_threshold_without_fused_rows_is_refused():
    with pytest.raises(ValueError, match=r"no `fused` rows at threshold 0.3 .*\[0.6, 0.9\]"):
        pick.choose(sweep(ROWS), 0.3)


def test_the_last_line_is_the_choice(tmp_path):
    path = tmp_path / "cost_quality.parquet"
    sweep(ROWS).write_parquet(path)
    out = subprocess.run(
        [sys.executable, str(BENCH / "pick_fusion.py"), str(path), "--threshold", "0.6"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "fusion_alpha=0.8"
