"""Tiny hand-built committee inputs: a scripted retriever with known ranks, and a toy dataset version on disk."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa

from o1embed.tasks.retrievers.base import top_k
from o1embed.tasks.shards import DatasetVersion

SHARD0, SHARD1 = "part-r0001-00000", "part-r0001-00001"


class ScriptedRetriever:
    """A retriever whose scores are written by hand: each token of a search query adds fixed scores to documents.

    Every document also gets a tiny prior ``-position / 1000`` so the bare order is doc 0, 1, 2, ...
    """

    def __init__(self, name: str, boosts: dict[str, dict[int, float]]):
        self.name, self.boosts, self.n = name, boosts, 0

    def fit(self, doc_ids: list[str], texts: list[str]) -> None:
        self.n = len(doc_ids)

    def score(self, queries: list[str], doc_index: np.ndarray | None = None) -> np.ndarray:
        s = np.tile(-np.arange(self.n, dtype=np.float32) / 1000, (len(queries), 1))  # (n_q, n_docs)
        for i, q in enumerate(queries):
            for tok in q.split():
                for d, w in self.boosts.get(tok, {}).items():
                    s[i, d] += w
        return s if doc_index is None else s[:, np.asarray(doc_index)]

    def search(self, queries: list[str], k: int):
        return top_k(self.score(queries), k)


def candidates_table(rows: list[tuple[str, int, str]], shard: str) -> pa.Table:
    """A ``candidates`` shard from (query_id, candidate_idx, thought) rows."""
    n = len(rows)
    return pa.table(
        {
            "query_id": [r[0] for r in rows],
            "candidate_idx": pa.array([r[1] for r in rows], pa.int32()),
            "thought": [r[2] for r in rows],
            "demo_query_ids": [[] for _ in rows],
            "style": ["paper"] * n,
            "seed": [0] * n,
            "model": ["toy"] * n,
            "finish_reason": ["stop"] * n,
            "completion_tokens": [5] * n,
            "attempts": [1] * n,
            "cached": [False] * n,
            "shard": [shard] * n,
            "prompt_tokens": [10] * n,
            "mean_logprob": pa.array([None] * n, pa.float32()),
        }
    )


def build_toy_version(root: Path, n_docs: int = 60, n_queries: int = 16, seed: int = 0) -> DatasetVersion:
    """Write a toy dataset version: corpus, queries, pairs, a plan of two shards and their candidates.

    Document ``d{i}`` holds the unique keyword ``kw{i}`` and filler words. Query ``q{j}`` (positive ``d{j}``) shares
    only filler words with its positive. Its candidates: a *good* thought naming ``kw{j}`` (ranks the positive
    first for any BM25) and *bad* ones naming other documents' keywords, in a seeded order. Special queries:

    - ``q0``: only bad thoughts (no candidate beats the bare query);
    - ``q1``: no candidates at all (every LLM attempt failed);
    - ``qx``: planned but missing from the queries table; ``qn``: has no positive in pairs.
    """
    rng = random.Random(seed)
    filler = [f"w{i}" for i in range(25)]
    docs = {f"d{i}": f"kw{i} " + " ".join(rng.choice(filler) for _ in range(12)) for i in range(n_docs)}
    dv = DatasetVersion(Path(root), "toy", "train", "v1")
    dv.write_snapshot(
        "corpus",
        pa.table(
            {
                "doc_id": list(docs),
                "title": [f"title {i}" for i in range(n_docs)],
                "text": list(docs.values()),
            }
        ),
    )
    qids = [f"q{j}" for j in range(n_queries)]
    qtext = {q: " ".join(rng.choice(filler) for _ in range(3)) + " question" for q in qids}
    qtext["qn"] = "a question without positive"
    dv.write_snapshot(
        "queries",
        pa.table({"query_id": list(qtext), "text": list(qtext.values()), "text_sha256": ["-"] * len(qtext)}),
    )
    pairs = [(q, f"d{j}") for j, q in enumerate(qids)] + [("q2", "d59")]  # q2 has two positives
    dv.write_snapshot(
        "pairs",
        pa.table({"query_id": [p[0] for p in pairs], "doc_id": [p[1] for p in pairs], "score": [1] * len(pairs)}),
    )
    half = n_queries // 2
    plan = {SHARD0: qids[:half] + ["qx"], SHARD1: qids[half:] + ["qn"]}
    dv.write_plan(1, {"shards": plan})
    for shard, shard_q in plan.items():
        rows = []
        for q in shard_q:
            if q in ("q1", "qx"):
                continue
            j = int(q[1:]) if q[1:].isdigit() else 0
            others = rng.sample([i for i in range(n_docs) if i != j], 3)
            thoughts = [f"about kw{o} {' '.join(rng.choice(filler) for _ in range(3))}" for o in others[:2]]
            if q != "q0":
                thoughts.append(f"it is kw{j} surely")
            rng.shuffle(thoughts)
            rows += [(q, k, t) for k, t in enumerate(thoughts)]
        dv.write_shard("candidates", shard, candidates_table(rows, shard))
    return dv
