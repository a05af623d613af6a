"""bench/gate_ceiling.py: per query, the better of thinking and skipping."""

from __future__ import annotations

import polars as pl
import pytest

from tests.bench.load import bench_module

gate = bench_module("gate_ceiling")


def test_the_ceiling_takes_each_querys_better_vector():
    rows = []
    for qid, never, skip, think in (("q1", 0.5, 0.6, 0.2), ("q2", 0.5, 0.1, 0.9), ("q3", 0.4, 0.4, 0.4)):
        for system, score in (("trained-never", never), ("trained-auto", skip), ("trained-always", think)):
            rows.append({"dataset": "d", "system": system, "query_id": qid, "ndcg_at_10": score, "thought": False})
    rows.append({"dataset": "d", "system": "bm25", "query_id": "q1", "ndcg_at_10": 1.0, "thought": None})
    out = gate.ceiling(pl.DataFrame(rows)).row(0, named=True)
    assert out["ceiling"] == pytest.approx((0.6 + 0.9 + 0.4) / 3)
    assert out["never"] == pytest.approx(1.4 / 3)
    assert (out["think_wins"], out["think_loses"], out["auto_thought"], out["queries"]) == (1, 1, 0, 3)
