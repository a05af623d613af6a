"""The report's tables: the paired randomisation test and the out-of-domain aggregate (the summary and deltas are
tested through whole reports in ``test_report.py`` and ``test_thinking_modes_report.py``)."""

from __future__ import annotations

import polars as pl
import pytest

from o1embed.tasks.evaluation.config import SystemSpec
from o1embed.tasks.evaluation.tables import out_of_domain, paired_p_value


def test_paired_p_value():
    assert paired_p_value([1.0] * 6, [0.0] * 6) == pytest.approx(2 / 64)  # exact: 2 of 2^6 sign patterns
    assert paired_p_value([0.3, 0.5], [0.3, 0.5]) == 1.0
    mixed = paired_p_value([0.1, 0.9, 0.4, 0.6, 0.5, 0.2], [0.2, 0.8, 0.5, 0.5, 0.4, 0.3])
    assert 0.5 < mixed <= 1.0


def _per_query(rows):
    """rows: (dataset, system, query_id, ndcg); the other metrics copy ndcg."""
    return pl.DataFrame(
        {
            "dataset": [r[0] for r in rows],
            "system": [r[1] for r in rows],
            "query_id": [r[2] for r in rows],
            **{m: [float(r[3]) for r in rows] for m in ("ndcg_at_10", "recall_at_100", "mrr_at_10")},
        }
    )


def test_out_of_domain_counts_each_set_once_and_leaves_the_training_set_out():
    systems = [SystemSpec(name="base", kind="bm25"), SystemSpec(name="new", kind="bm25", baseline="base")]
    rows = [("train", "base", "t1", 0.0), ("train", "new", "t1", 1.0)]  # in domain: must not count
    rows += [("small", "base", "s1", 0.2), ("small", "new", "s1", 0.6)]  # one query, +0.4
    rows += [("big", "base", f"b{i}", 0.5) for i in range(8)]
    rows += [("big", "new", f"b{i}", 0.5 + (0.1 if i < 4 else -0.1)) for i in range(8)]  # eight queries, 0.0
    means, deltas = out_of_domain(_per_query(rows), systems, in_domain=["train"])
    assert means["system"].to_list() == ["base", "new"]
    base = means.row(0, named=True)
    assert base["datasets"] == 2 and base["queries"] == 9
    assert base["ndcg_at_10"] == pytest.approx((0.2 + 0.5) / 2)  # the mean of the sets' means, not of 9 queries
    d = deltas.row(0, named=True)
    assert (d["system"], d["baseline"], d["datasets"]) == ("new", "base", 2)
    assert d["delta_ndcg_at_10"] == pytest.approx((0.4 + 0.0) / 2)
    assert (d["better"], d["worse"], d["tied"], d["queries"]) == (5, 4, 0, 9)
    # weighted test: the single query of "small" carries half the statistic, so flipping it alone moves it most
    weights = [0.5] + [1 / 16] * 8
    diffs_new = [0.6] + [0.5 + (0.1 if i < 4 else -0.1) for i in range(8)]
    assert d["p_value"] == pytest.approx(paired_p_value(diffs_new, [0.2] + [0.5] * 8, weights=weights))
    assert 0.0 < d["p_value"] <= 1.0


def test_out_of_domain_is_empty_when_every_set_is_in_domain():
    systems = [SystemSpec(name="base", kind="bm25"), SystemSpec(name="new", kind="bm25", baseline="base")]
    means, deltas = out_of_domain(_per_query([("a", "base", "1", 0.1), ("a", "new", "1", 0.2)]), systems, ["a"])
    assert means.height == 0 and deltas.height == 0


def test_weights_of_one_over_n_are_the_plain_test():
    a, b = [0.1, 0.9, 0.4, 0.6, 0.5, 0.2, 0.7], [0.2, 0.8, 0.5, 0.5, 0.4, 0.3, 0.1]
    assert paired_p_value(a, b, weights=[1 / 7] * 7) == pytest.approx(paired_p_value(a, b))
