"""bench/pick_threshold.py: the held-out sweep's best threshold, the cheaper one on a tie."""

from __future__ import annotations

import polars as pl
import pytest

from tests.bench.load import bench_module

pick = bench_module("pick_threshold")


def sweep(rows: list[tuple[str, float | None, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["point", "threshold", "thought_share", "ndcg_at_10"], orient="row")


def test_the_best_ndcg_wins_and_a_tie_goes_to_less_thinking():
    rows = [
        ("never", None, 0.0, 0.9),
        ("auto", 0.0, 0.0, 0.5),
        ("auto", 0.5, 0.3, 0.6),
        ("auto", 0.9, 0.6, 0.6),
        ("always", None, 1.0, 0.4),
    ]
    best = pick.choose(sweep(rows))
    assert best["threshold"] == 0.5  # `never` scores higher but is not an auto threshold


def test_a_sweep_without_auto_rows_is_refused():
    with pytest.raises(ValueError, match="no `auto` rows"):
        pick.choose(sweep([("never", None, 0.0, 0.9)]))
