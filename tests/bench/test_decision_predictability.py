"""bench/decision_predictability.py: the query-time features and the AUC with its test against chance."""

from __future__ import annotations

import numpy as np
import pytest

from tests.bench.load import bench_module

pred = bench_module("decision_predictability")


def test_bm25_features_say_how_sure_the_bare_query_is():
    docs = ["alpha beta gamma", "delta epsilon", "zeta eta theta"]
    x = pred.bm25_features(["alpha beta", "unrelated words here"], ["d0", "d1", "d2"], docs)
    assert x.shape == (2, 3)
    assert x[0, 0] > 0 and x[0, 1] == pytest.approx(x[0, 0])  # one document matches: the gap is the score
    assert x[1, 0] == 0 and list(x[:, 2]) == [2, 3]


def test_auc_and_its_one_sided_p_value():
    y = np.array([True] * 10 + [False] * 10)
    auc, p = pred.auc_with_p(y, np.r_[np.ones(10), np.zeros(10)] + np.linspace(0, 0.1, 20))
    assert auc == 1.0 and p < 1e-3
    auc, p = pred.auc_with_p(y, np.r_[np.zeros(10), np.ones(10)])
    assert auc == 0.0 and p > 0.99
