"""bench/decision_auc.py: which hold-out rows carry a decision to score."""

from __future__ import annotations

import polars as pl

from tests.bench.load import bench_module

auc = bench_module("decision_auc")


def test_only_judged_rows_are_scored():
    table = pl.DataFrame(
        {
            "query": ["skipped", "thought won", "never judged"],
            "thought": ["", "a thought", ""],  # the last: no candidate, trained as the bare query
            "skip": [True, False, False],
        }
    )
    assert auc.judged(table).to_dicts() == [
        {"query": "skipped", "skip": True},
        {"query": "thought won", "skip": False},
    ]
    assert auc.judged(table.drop("thought")).height == 3  # --examples without thoughts: every row
