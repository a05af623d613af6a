"""Tiny BEIR folders and test doubles (a Retriever and a QueryDocEncoder) for the evaluation tests."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

TOPICS = ["apple", "river", "engine", "violin", "glacier", "protein", "harbor", "comet", "pepper", "marble"]


def write_toy_beir(root: Path, name: str = "toy", identical: bool = False) -> Path:
    """Write a BEIR folder: 20 documents (2 per topic), 8 judged test queries, 2 unjudged queries.

    With ``identical``, every query also appears as a document under its own id (as in ArguAna), with the
    query's exact text, so a lexical retriever ranks it first.
    """
    folder = root / name
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    docs = []
    for i, t in enumerate(TOPICS):
        docs.append({"_id": f"d{i}a", "title": f"{t} notes", "text": f"all about the {t} and the {t} story"})
        docs.append({"_id": f"d{i}b", "title": "", "text": f"a passing mention of a {t} among other things"})
    queries = [{"_id": f"q{i}", "text": f"tell me about the {t}"} for i, t in enumerate(TOPICS)]
    if identical:
        docs += [{"_id": q["_id"], "title": "", "text": q["text"]} for q in queries]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    lines = ["query-id\tcorpus-id\tscore"]
    for i in range(8):  # q8, q9 stay unjudged
        lines.append(f"q{i}\td{i}a\t2")
        lines.append(f"q{i}\td{i}b\t1")
    lines.append("q0\td1a\t0")  # a judged non-relevant document
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _hash_vec(text: str, dim: int = 64) -> np.ndarray:
    v = np.zeros(dim, np.float32)
    for tok in _tokens(text):
        v[int(hashlib.md5(tok.encode()).hexdigest(), 16) % dim] += 1.0
    n = np.linalg.norm(v)
    return v / n if n else v


class FakeRetriever:
    """Term-overlap retriever with the Retriever protocol (scores = shared tokens, length-normalised)."""

    def __init__(self, name: str = "fake"):
        self.name = name
        self.fit_calls = 0
        self.queries_seen: list[list[str]] = []

    def fit(self, doc_ids: list[str], texts: list[str]) -> None:
        self.fit_calls += 1
        self.doc_ids = list(doc_ids)
        self.docs = [set(_tokens(t)) for t in texts]

    def score(self, queries: list[str], doc_index: np.ndarray | None = None) -> np.ndarray:
        out = np.array([[len(set(_tokens(q)) & d) / (1 + len(d)) for d in self.docs] for q in queries], np.float32)
        return out if doc_index is None else out[:, doc_index]

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        self.queries_seen.append(list(queries))
        s = self.score(queries)
        k = min(k, s.shape[1])
        idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(s, idx, axis=1), idx


class FakeEncoder:
    """A QueryDocEncoder double: hashed bag-of-words vectors; thinking appends '<query> facts' thoughts."""

    def __init__(self, path: str = "fake"):
        self.path = path
        self.thoughts: list[list[str]] | None = None
        self.doc_calls = 0
        self.query_calls: list[tuple[bool, int]] = []

    def encode_queries(
        self, queries: list[str], think: bool | str = True, num_thoughts: int = 1, **options
    ) -> np.ndarray:
        think = {"always": True, "never": False}.get(think, think)  # calls are recorded as (True/False/"auto", m)
        self.query_calls.append((think, num_thoughts))
        if not think:
            self.thoughts = None
            return np.stack([_hash_vec(q) for q in queries])
        self.thoughts = [[f"{q} facts {j}" for j in range(num_thoughts)] for q in queries]
        vecs = np.stack([np.mean([_hash_vec(t) for t in ts], axis=0) for ts in self.thoughts])
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    def encode_documents(self, titles: list[str], texts: list[str]) -> np.ndarray:
        self.doc_calls += 1
        return np.stack([_hash_vec(f"{t} {x}") for t, x in zip(titles, texts, strict=True)])


def write_tiny_vocab_beir(root: Path, name: str = "tiny") -> Path:
    """A BEIR folder in the vocabulary of ``tests.trainer.tiny`` (so the tiny Llama's tokenizer knows every word)."""
    from tests.trainer.tiny import TOPICS as TINY

    folder = root / name
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    docs, queries, lines = [], [], ["query-id\tcorpus-id\tscore"]
    for key, text in sorted(TINY.items()):
        words = text.split()
        docs.append({"_id": f"{key}-0", "title": key, "text": text})
        docs.append({"_id": f"{key}-1", "title": "", "text": " ".join(words[3:] + words[:3])})
        queries.append({"_id": f"q-{key}", "text": f"what is a {key} {words[0]}"})
        lines.append(f"q-{key}\t{key}-0\t1")
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder


class Record:
    """A per-query record like trainer.encoder.QueryRecord."""

    def __init__(self, thought: bool, tokens: float, seconds: float, p_close: float | None):
        self.thought, self.thought_tokens, self.seconds, self.p_close = thought, tokens, seconds, p_close


class FakeAutoEncoder(FakeEncoder):
    """A FakeEncoder with thinking modes: the close probability is 0.9 for topics at even positions, else 0.1.

    ``auto`` skips the thought where ``p_close >= close_threshold``: a skipping query takes the bare-query vector
    (``skip_vector="query"``) or a vector of its own, as O1Encoder's ``<emb>`` after the empty thought
    (``skip_vector="skip"``); fusion mixes the bare vector in; ``.records`` is set as O1Encoder sets it.
    """

    def encode_queries(
        self, queries, think="always", num_thoughts=1, close_threshold=0.5, fusion_alpha=0.0, skip_vector="query"
    ):
        bare = super().encode_queries(queries, "never", 1)
        if think in ("never", False):
            self.thoughts = [[] for _ in queries]
            self.records = [Record(False, 0.0, 0.001, None) for _ in queries]
            return bare
        full = super().encode_queries(queries, True, num_thoughts)
        p = [0.9 if any(f" {t}" in q for t in TOPICS[::2]) else 0.1 for q in queries]
        skip = [think == "auto" and pi >= close_threshold for pi in p]
        skipped = bare if skip_vector == "query" else np.stack([_hash_vec(f"{q} closed") for q in queries])
        vecs = np.where(np.array(skip)[:, None], skipped, full)
        if fusion_alpha:
            vecs = fusion_alpha * bare + (1 - fusion_alpha) * vecs
            vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        self.thoughts = [[] if s else ts for s, ts in zip(skip, self.thoughts, strict=True)]
        self.records = [
            Record(not s, 0.0 if s else 3.0, 0.01, pi if think == "auto" else None)
            for s, pi in zip(skip, p, strict=True)
        ]
        return vecs
