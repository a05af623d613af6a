from __future__ import annotations

import math

import numpy as np
import pytest
import pytrec_eval

from o1embed.tasks.evaluation.metrics import (
    drop_identical_ids,
    evaluate_run,
    mean_metrics,
    run_from_topk,
    trec_order,
)


def test_hand_checkable_toy_case():
    qrels = {
        "q1": {"d1": 1},  # relevant at rank 2
        "q2": {"d5": 1},  # never retrieved
        "q3": {"a": 2, "b": 1, "z": 0},  # graded: a at rank 1, b at rank 3
    }
    run = {
        "q1": {"d0": 0.9, "d1": 0.8, "d2": 0.1},
        "q2": {"d0": 0.5},
        "q3": {"a": 3.0, "x": 2.0, "b": 1.0},
    }
    got = evaluate_run(qrels, run)
    assert got["q1"]["mrr_at_10"] == pytest.approx(0.5)
    assert got["q1"]["ndcg_at_10"] == pytest.approx(1 / math.log2(3))
    assert got["q1"]["recall_at_100"] == pytest.approx(1.0)
    assert got["q2"] == {"ndcg_at_10": 0.0, "recall_at_100": 0.0, "mrr_at_10": 0.0, "rr": 0.0}
    # trec_eval's nDCG uses the grade as the gain: DCG = 2/log2(2) + 1/log2(4); ideal = 2/log2(2) + 1/log2(3)
    assert got["q3"]["ndcg_at_10"] == pytest.approx((2 + 1 / 2) / (2 + 1 / math.log2(3)))
    assert got["q3"]["mrr_at_10"] == pytest.approx(1.0)
    assert mean_metrics(got)["mrr_at_10"] == pytest.approx((0.5 + 0 + 1) / 3)


def test_equals_pytrec_eval_on_a_random_toy_run():
    rng = np.random.default_rng(7)
    docs = [f"d{i:03d}" for i in range(300)]
    qrels, run = {}, {}
    for q in range(40):
        rel = rng.choice(300, size=rng.integers(1, 6), replace=False)
        qrels[f"q{q}"] = {docs[i]: int(rng.integers(1, 3)) for i in rel}
        ret = rng.choice(300, size=150, replace=False)
        run[f"q{q}"] = {docs[i]: float(s) for i, s in zip(ret, rng.random(150), strict=True)}
    got = evaluate_run(qrels, run)
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    for q in qrels:
        assert got[q]["ndcg_at_10"] == pytest.approx(ref[q]["ndcg_cut_10"])
        assert got[q]["recall_at_100"] == pytest.approx(ref[q]["recall_100"])
        # MRR@10 against an independent count (scores are distinct): 1 / rank of the first relevant in the top 10
        ranked = [d for d, _ in sorted(run[q].items(), key=lambda kv: -kv[1])][:10]
        first = next((i + 1 for i, d in enumerate(ranked) if qrels[q].get(d, 0) > 0), None)
        assert got[q]["mrr_at_10"] == pytest.approx(0.0 if first is None else 1 / first)
    assert any(v["mrr_at_10"] > 0 for v in got.values())


def test_mrr_cutoff_follows_trec_eval_tie_order():
    # 12 tied documents; trec_eval ranks ties by doc id descending, so d00 comes 12th: outside the top 10.
    run = {"q": {f"d{i:02d}": 1.0 for i in range(12)}}
    assert [d for d, _ in trec_order(run["q"])][:2] == ["d11", "d10"]
    full = pytrec_eval.RelevanceEvaluator({"q": {"d00": 1}}, {"recip_rank"}).evaluate(run)
    assert full["q"]["recip_rank"] == pytest.approx(1 / 12)
    assert evaluate_run({"q": {"d00": 1}}, run)["q"]["mrr_at_10"] == 0.0
    assert evaluate_run({"q": {"d02": 1}}, run)["q"]["mrr_at_10"] == pytest.approx(1 / 10)


def test_rr_has_no_cutoff():
    # the same 12 ties: d00 is 12th, outside MRR@10 but inside rr (trec_eval's recip_rank over the whole run)
    run = {"q": {f"d{i:02d}": 1.0 for i in range(12)}}
    got = evaluate_run({"q": {"d00": 1}}, run)["q"]
    assert (got["mrr_at_10"], got["rr"]) == (0.0, pytest.approx(1 / 12))
    assert evaluate_run({"q": {"d05": 1}}, run)["q"]["rr"] == pytest.approx(1 / 7)


def test_ignore_identical_ids():
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    run = {"q1": {"q1": 3.0, "d1": 2.0}, "q2": {"q2": 3.0, "d2": 2.0}}
    kept = evaluate_run(qrels, run)
    dropped = evaluate_run(qrels, run, ignore_identical_ids=True)
    assert kept["q1"]["mrr_at_10"] == pytest.approx(0.5)
    assert dropped["q1"]["mrr_at_10"] == pytest.approx(1.0)
    assert dropped["q2"]["ndcg_at_10"] == pytest.approx(1.0)
    assert drop_identical_ids(run) == {"q1": {"d1": 2.0}, "q2": {"d2": 2.0}}


def test_run_from_topk_skips_padding():
    run = run_from_topk(["q"], ["a", "b", "c"], np.array([[2, 0, -1]]), np.array([[0.9, 0.5, -1e9]]))
    assert run == {"q": {"c": 0.9, "a": 0.5}}


def test_query_only_judged_nonrelevant_scores_zero_and_unjudged_queries_are_ignored():
    got = evaluate_run({"q1": {"d1": 1}}, {"q1": {}, "q9": {"d1": 1.0}})
    assert set(got) == {"q1"}
    assert got["q1"]["recall_at_100"] == 0.0
