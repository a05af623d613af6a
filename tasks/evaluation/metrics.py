"""Retrieval metrics per query: nDCG@10, Recall@100 and MRR@10, computed by pytrec_eval (trec_eval), not by hand.

``trec_eval`` has no cut-off for the reciprocal rank, so MRR@10 is trec_eval's ``recip_rank`` over each query's
top 10, taken in trec_eval's own order (score descending, ties by document id descending), as BEIR does.
Each query also gets ``rr``, trec_eval's ``recip_rank`` over every retrieved document (the report's ``top_k``, 100
by default). It is not a report column: it is the denser per-query signal (a first relevant document moving from
rank 40 to 12 changes it, and no cut-off metric) that a think gate can be fitted on
(``o1embed model fit-gate --metric rr``).
``ignore_identical_ids`` drops every retrieved document whose id equals the query id before scoring (BEIR's rule
for ArguAna, where the query argument is itself in the corpus).

Example:
    >>> qrels = {"q1": {"d1": 1}}
    >>> run = {"q1": {"d0": 2.0, "d1": 1.0}}
    >>> per_query = evaluate_run(qrels, run)
    >>> per_query["q1"]["mrr_at_10"]
    0.5
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytrec_eval

# Column names of the per-query results, in report order, with the label the report prints.
METRICS: dict[str, str] = {"ndcg_at_10": "nDCG@10", "recall_at_100": "Recall@100", "mrr_at_10": "MRR@10"}


def trec_order(docs: Mapping[str, float]) -> list[tuple[str, float]]:
    """Return ``(doc_id, score)`` in trec_eval's ranking order: score descending, then doc id descending."""
    return sorted(docs.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def drop_identical_ids(run: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Remove, for each query, the retrieved document whose id equals the query id."""
    return {q: {d: s for d, s in docs.items() if d != q} for q, docs in run.items()}


def run_from_topk(
    query_ids: list[str], doc_ids: list[str], indices: np.ndarray, scores: np.ndarray
) -> dict[str, dict[str, float]]:
    """Build a pytrec_eval run from top-k search results.

    Args:
        query_ids: one id per row of ``indices``.
        doc_ids: the corpus ids that ``indices`` point into.
        indices: ``(n_queries, k)`` document indices, best first; negative entries (FAISS padding) are skipped.
        scores: ``(n_queries, k)`` scores.

    Returns:
        ``{query_id: {doc_id: score}}``.
    """
    run: dict[str, dict[str, float]] = {}
    for q, row_i, row_s in zip(query_ids, indices, scores, strict=True):
        run[q] = {doc_ids[int(i)]: float(s) for i, s in zip(row_i, row_s, strict=True) if i >= 0}
    return run


def evaluate_run(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    *,
    ignore_identical_ids: bool = False,
    ndcg_k: int = 10,
    recall_k: int = 100,
    mrr_k: int = 10,
) -> dict[str, dict[str, float]]:
    """Score a run against qrels, per query.

    Args:
        qrels: ``{query_id: {doc_id: grade}}``; grades >= 1 are relevant, nDCG uses the grades.
        run: ``{query_id: {doc_id: score}}``; higher is better.
        ignore_identical_ids: drop retrieved documents whose id equals the query id first.
        ndcg_k, recall_k, mrr_k: the cut-offs (10, 100, 10 by default; the column names keep those defaults).

    Returns:
        ``{query_id: {"ndcg_at_10": ..., "recall_at_100": ..., "mrr_at_10": ..., "rr": ...}}`` for every query of
        ``qrels`` (``rr``: the reciprocal rank over the whole run); a query the run does not answer scores 0.
    """
    qrels = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items()}
    run = {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if q in qrels}
    if ignore_identical_ids:
        run = drop_identical_ids(run)
    run = {q: docs for q, docs in run.items() if docs}
    keys = {"ndcg_at_10": f"ndcg_cut_{ndcg_k}", "recall_at_100": f"recall_{recall_k}"}
    measures = {f"ndcg_cut.{ndcg_k}", f"recall.{recall_k}", "recip_rank"}
    main = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    top = {q: dict(trec_order(docs)[:mrr_k]) for q, docs in run.items()}
    top_rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top)
    out: dict[str, dict[str, float]] = {}
    for q in qrels:
        m = main.get(q, {})
        out[q] = {col: float(m.get(key, 0.0)) for col, key in keys.items()}
        out[q]["mrr_at_10"] = float(top_rr.get(q, {}).get("recip_rank", 0.0))
        out[q]["rr"] = float(m.get("recip_rank", 0.0))
    return out


def mean_metrics(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Average each metric over queries (the figure BEIR reports)."""
    if not per_query:
        return dict.fromkeys(METRICS, 0.0)
    return {m: float(np.mean([v[m] for v in per_query.values()])) for m in METRICS}
