"""Systems of a report as small adapters over a Retriever or a QueryDocEncoder.

Each :class:`System` turns one :class:`~tasks.evaluation.data.EvalData` into top-k results. Three adapters cover
every preset:

- :class:`RetrieverSystem`: a :class:`tasks.retrievers` Retriever (BM25, sentence-transformers) fitted on
  ``"title text"``, searched with the bare queries.
- :class:`EncoderSystem`: a ``QueryDocEncoder`` (:mod:`tasks.evaluation.encoders`: ``trainer.encoder.O1Encoder`` or
  any object with ``encode_queries(queries, think, num_thoughts)`` and ``encode_documents(titles, texts)``),
  searched exactly or with FAISS. :meth:`EncoderSystem.cost_quality` sweeps an auto system's threshold.
- :class:`ExpansionSystem`: a Retriever searched with ``query + " " + thought``, the thoughts written by an encoder
  (a query the encoder did not think about is searched alone).

Models, fitted retrievers, vectors and thoughts come from :class:`tasks.evaluation.resources.Resources`, which
shares them between systems.

Example:
    >>> from o1embed.tasks.evaluation.resources import Resources
    >>> res = Resources(EvalConfig(systems=["bm25"]))                    # doctest: +SKIP
    >>> systems = build_systems(resolve_systems(res.config), res)       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import SystemSpec
from o1embed.tasks.evaluation.data import EvalData
from o1embed.tasks.evaluation.encoders import QueryCost
from o1embed.tasks.evaluation.metrics import evaluate_run, run_from_topk
from o1embed.tasks.evaluation.resources import Resources
from o1embed.tasks.evaluation.search import dense_search
from o1embed.tasks.retrievers.base import Retriever


@dataclass
class SystemRun:
    """Top-k results of one system on one dataset.

    Attributes:
        scores: ``(n_queries, k)``, best first.
        indices: ``(n_queries, k)`` indices into ``EvalData.doc_ids`` (negative entries are padding).
        thoughts: per query, the thoughts used (thinking systems only).
        details: settings worth stating in the report (an encoder's thought sampling, its passage length).
        costs: per query, whether it thought, thought tokens and seconds (encoder and expansion systems).
    """

    scores: np.ndarray
    indices: np.ndarray
    thoughts: list[list[str]] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    costs: list[QueryCost] | None = None


class System(Protocol):
    """One row of the report."""

    spec: SystemSpec

    def run(self, data: EvalData, k: int) -> SystemRun: ...


def retriever_details(retriever: Retriever) -> dict[str, Any]:
    """A Retriever's settings that change its figures (BM25 parameters and analysis, dense model and length)."""
    out: dict[str, Any] = {"engine": type(retriever).__name__}
    for attr in ("k1", "b", "method", "epsilon", "max_seq_length", "query_prompt"):
        if isinstance(getattr(retriever, attr, None), int | float | str) and getattr(retriever, attr) != "":
            out[attr] = getattr(retriever, attr)
    tok = getattr(retriever, "tokenizer", None)
    for attr, key in (("lower", "lower"), ("stopwords", "stopwords"), ("stemmer_name", "stemmer")):
        if tok is not None and hasattr(tok, attr):
            out[key] = getattr(tok, attr)
    if getattr(retriever, "model_path", None) is not None:
        out["model"] = "/".join(Path(retriever.model_path).parts[-2:])
    return out


# ---- the adapters ------------------------------------------------------------------------------------------------


@dataclass
class RetrieverSystem:
    """A Retriever (BM25 or dense) searched with the bare queries."""

    spec: SystemSpec
    resources: Resources

    def run(self, data: EvalData, k: int) -> SystemRun:
        retriever = self.resources.retriever(self.spec, data)
        scores, indices = retriever.search(list(data.queries), k)
        return SystemRun(np.asarray(scores), np.asarray(indices), details=retriever_details(retriever))


@dataclass
class EncoderSystem:
    """A QueryDocEncoder: bare-query or think-then-embed query vectors, exact or FAISS search."""

    spec: SystemSpec
    resources: Resources

    def run(self, data: EvalData, k: int) -> SystemRun:
        docs = self.resources.doc_vectors(self.spec, data)  # (n_docs, dim)
        qv = self.resources.query_vectors(self.spec, data)  # vectors (n_queries, dim)
        return SystemRun(*self._search(qv.vectors, docs, k), qv.thoughts, qv.details, qv.costs)

    def _search(self, queries: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.resources.config
        return dense_search(queries, docs, k, faiss_threshold=cfg.faiss_threshold, index_factory=cfg.faiss_index)

    def cost_quality(
        self, data: EvalData, k: int, thresholds: Sequence[float], alphas: Sequence[float] = ()
    ) -> list[dict[str, Any]]:
        """nDCG@10 against the share of queries that thought, as auto mode's threshold sweeps.

        Two encoder calls serve every threshold: ``always`` (each query's thought vector) and ``auto`` at
        threshold 0 (each query's close probability and skip vector). Auto at threshold ``t`` uses the skip vector
        where ``p_close >= t`` and the thought vector elsewhere, which is what the encoder does in one call. Rows
        for ``never`` (share 0) and ``always`` (share 1) are added. Those rows are of the unfused vectors.

        With ``alphas``, each (threshold, alpha) also gets a ``fused`` row: ``normalize(alpha * never + (1 - alpha)
        * auto)``, the vector ``trained-auto-fused`` would retrieve with at that threshold and ``fusion_alpha``
        (``never`` is the bare-query pass, which the encoder's query-only vector equals). On held-out queries this
        chooses the fusion weight (``bench/pick_fusion.py``) at no encoder cost.

        Returns:
            Rows ``{"dataset", "system", "point", "threshold", "fusion_alpha", "thought_share", "ndcg_at_10"}``;
            empty when the encoder reports no close probabilities.
        """
        spec = self.spec.model_copy(update={"fusion_alpha": None})
        skip = self.resources.query_vectors(spec.model_copy(update={"think": "auto", "close_threshold": 0.0}), data)
        p_close = np.array([np.nan if c.p_close is None else c.p_close for c in skip.costs])
        if np.isnan(p_close).any():
            return []
        always = self.resources.query_vectors(spec.model_copy(update={"think": "always"}), data)
        never = self.resources.query_vectors(spec.model_copy(update={"think": "never"}), data)
        docs = self.resources.doc_vectors(self.spec, data)

        def ndcg(vectors: np.ndarray) -> float:
            scores, indices = self._search(vectors, docs, k)
            run = run_from_topk(data.query_ids, data.doc_ids, indices, scores)
            per_query = evaluate_run(data.qrels, run, ignore_identical_ids=data.ignore_identical_ids)
            return float(np.mean([per_query[q]["ndcg_at_10"] for q in data.query_ids]))

        base = {"dataset": data.name, "system": self.spec.name}
        rows = [
            {
                **base,
                "point": "never",
                "threshold": None,
                "thought_share": 0.0,
                "ndcg_at_10": ndcg(never.vectors),
            },
            {
                **base,
                "point": "always",
                "threshold": None,
                "thought_share": 1.0,
                "ndcg_at_10": ndcg(always.vectors),
            },
        ]
        for t in sorted(set(thresholds)):
            thinks = p_close < t
            vectors = np.where(thinks[:, None], always.vectors, skip.vectors)
            rows.append(
                {**base, "point": "auto", "threshold": float(t), "thought_share": float(thinks.mean()),
                 "ndcg_at_10": ndcg(vectors)}
            )  # fmt: skip
            for a in sorted(set(alphas)):
                fused = a * never.vectors + (1 - a) * vectors  # (n_queries, dim)
                fused /= np.linalg.norm(fused, axis=1, keepdims=True)
                rows.append(
                    {**base, "point": "fused", "threshold": float(t), "fusion_alpha": float(a),
                     "thought_share": float(thinks.mean()), "ndcg_at_10": ndcg(fused)}
                )  # fmt: skip
        return rows


@dataclass
class ExpansionSystem:
    """BM25 over ``query + " " + thoughts``: thinking as query expansion."""

    spec: SystemSpec
    resources: Resources

    def run(self, data: EvalData, k: int) -> SystemRun:
        qv = self.resources.query_vectors(self.spec, data)
        if qv.thoughts is None:
            raise ConfigError(f"expansion system {self.spec.name!r} got no thoughts from its encoder")
        expanded = [" ".join([q, *ts]) for q, ts in zip(data.queries, qv.thoughts, strict=True)]
        retriever = self.resources.retriever(self.spec, data)
        scores, indices = retriever.search(expanded, k)
        details = {**qv.details, "retriever": retriever_details(retriever)}
        return SystemRun(np.asarray(scores), np.asarray(indices), qv.thoughts, details, qv.costs)


def build_systems(specs: list[SystemSpec], resources: Resources) -> list[System]:
    """Wrap each spec in its adapter (nothing is loaded until a system runs)."""
    kinds: dict[str, type] = {
        "bm25": RetrieverSystem,
        "dense": RetrieverSystem,
        "encoder": EncoderSystem,
        "expansion": ExpansionSystem,
    }
    return [kinds[s.kind](s, resources) for s in specs]
