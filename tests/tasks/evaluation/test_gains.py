"""Per-query gains of thinking over skipping from a report, and the reports they refuse."""

from __future__ import annotations

import polars as pl
import pytest

from o1embed.tasks.errors import InputError
from o1embed.tasks.evaluation.gains import thinking_gains

COLS = ["dataset", "system", "query_id", "ndcg_at_10", "thought"]


def _rows(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=COLS, orient="row")


def test_gains_pair_the_thought_and_skip_rows_of_each_query():
    pq = _rows(
        ("a", "trained-always", "q2", 0.5, True),
        ("a", "trained-auto", "q2", 0.5, False),
        ("a", "trained-always", "q1", 0.2, True),
        ("a", "trained-auto", "q1", 0.7, False),
        ("b", "trained-always", "q1", 1.0, True),  # another set: left out
        ("a", "bm25", "q1", 0.9, None),
    )
    out = thinking_gains(pq, "a")
    assert out.columns == ["query_id", "think", "skip", "gain"]
    assert out["query_id"].to_list() == ["q1", "q2"] and out["gain"].round(3).to_list() == [-0.5, 0.0]


def test_a_report_that_cannot_give_gains_is_named():
    ok = [("a", "trained-always", "q1", 0.2, True), ("a", "trained-auto", "q1", 0.7, False)]
    with pytest.raises(InputError, match="close_threshold=0") as err:
        thinking_gains(_rows(ok[0], ("a", "trained-auto", "q1", 0.7, True)), "a", source="r/per_query.parquet")
    assert err.value.file == "r/per_query.parquet" and err.value.field == "thought"
    with pytest.raises(InputError, match="no rows for dataset 'z'"):
        thinking_gains(_rows(*ok), "z")
    with pytest.raises(InputError, match="no rows for system 'trained-always'"):
        thinking_gains(_rows(ok[1]), "a")
    with pytest.raises(InputError, match="only one of"):
        thinking_gains(_rows(*ok, ("a", "trained-always", "q2", 0.2, True)), "a")
    with pytest.raises(InputError, match="no metric column 'mrr_at_10'"):
        thinking_gains(_rows(*ok), "a", metric="mrr_at_10")
