"""Systems of a report as small adapters over a Retriever or a QueryDocEncoder.

Each :class:`System` turns one :class:`~tasks.evaluation.data.EvalData` into top-k results. Three adapters cover
every preset:

- :class:`RetrieverSystem`: a :class:`tasks.retrievers` Retriever (BM25, sentence-transformers) fitted on
  ``"title text"``, searched with the bare queries.
- :class:`EncoderSystem`: a ``QueryDocEncoder`` (``trainer.encoder.O1Encoder`` or any object with
  ``encode_queries(queries, think)`` and ``encode_documents(titles, texts)``), searched exactly or with FAISS.
- :class:`ExpansionSystem`: a Retriever searched with ``query + " " + thought``, the thoughts written by an encoder.

Models, fitted retrievers, vectors and thoughts come from :class:`tasks.evaluation.resources.Resources`, which
shares them between systems.

Example:
    >>> from o1embed.tasks.evaluation.resources import Resources
    >>> res = Resources(EvalConfig(systems=["bm25"]))                    # doctest: +SKIP
    >>> systems = build_systems(resolve_systems(res.config), res)       # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import SystemSpec
from o1embed.tasks.evaluation.data import EvalData
from o1embed.tasks.evaluation.search import dense_search
from o1embed.tasks.retrievers.base import Retriever

if TYPE_CHECKING:
    from o1embed.tasks.evaluation.resources import Resources


class QueryDocEncoder(Protocol):
    """The encoder contract of docs/architecture.md; O1Encoder also exposes ``.thoughts`` of its last call."""

    def encode_queries(self, queries: list[str], think: bool = True) -> np.ndarray: ...  # (n, dim)

    def encode_documents(self, titles: list[str], texts: list[str]) -> np.ndarray: ...  # (n, dim)


@dataclass
class SystemRun:
    """Top-k results of one system on one dataset.

    Attributes:
        scores: ``(n_queries, k)``, best first.
        indices: ``(n_queries, k)`` indices into ``EvalData.doc_ids`` (negative entries are padding).
        thoughts: per query, the thoughts used (thinking systems only).
        details: settings worth stating in the report (an encoder's thought sampling, its passage length).
    """

    scores: np.ndarray
    indices: np.ndarray
    thoughts: list[list[str]] | None = None
    details: dict[str, Any] = field(default_factory=dict)


class System(Protocol):
    """One row of the report."""

    spec: SystemSpec

    def run(self, data: EvalData, k: int) -> SystemRun: ...


def encode_queries(
    encoder: QueryDocEncoder, queries: list[str], *, think: bool, num_thoughts: int
) -> np.ndarray:
    """Call ``encoder.encode_queries`` with m thoughts per query.

    m reaches the encoder as a ``num_thoughts`` keyword when ``encode_queries`` takes one, else through its
    pydantic ``config.thoughts`` (O1Encoder; the config object is replaced, not mutated), else through a
    ``num_thoughts`` attribute.

    Raises:
        ConfigError: m > 1 is asked of an encoder that has no way to take it, or the output has the wrong shape.
    """
    kwargs: dict[str, Any] = {"think": think}
    if think:
        params = inspect.signature(encoder.encode_queries).parameters
        cfg = getattr(encoder, "config", None)
        if "num_thoughts" in params:
            kwargs["num_thoughts"] = num_thoughts
        elif cfg is not None and hasattr(cfg, "thoughts") and hasattr(cfg, "model_copy"):
            if cfg.thoughts != num_thoughts:
                encoder.config = cfg.model_copy(update={"thoughts": num_thoughts})
        elif hasattr(encoder, "num_thoughts"):
            encoder.num_thoughts = num_thoughts
        elif num_thoughts != 1:
            raise ConfigError(f"{type(encoder).__name__} cannot write {num_thoughts} thoughts per query")
    vecs = np.asarray(encoder.encode_queries(queries, **kwargs), dtype=np.float32)  # (n, dim)
    if vecs.shape[0] != len(queries):
        raise ConfigError(
            f"{type(encoder).__name__} returned {vecs.shape[0]} vectors for {len(queries)} queries"
        )
    return vecs


def encoder_details(encoder: QueryDocEncoder, spec: SystemSpec) -> dict[str, Any]:
    """What a report should state about an encoder: its thought sampling (when thinking) and passage length."""
    out: dict[str, Any] = {}
    if spec.think and isinstance(getattr(encoder, "sampling", None), dict):
        out["sampling"] = dict(encoder.sampling)
    model_cfg = getattr(getattr(encoder, "model", None), "config", None)
    if getattr(model_cfg, "max_passage_tokens", None) is not None:
        out["max_passage_tokens"] = model_cfg.max_passage_tokens
    return out


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
        queries, thoughts, details = self.resources.query_vectors(self.spec, data)  # (n_queries, dim)
        cfg = self.resources.config
        scores, indices = dense_search(
            queries, docs, k, faiss_threshold=cfg.faiss_threshold, index_factory=cfg.faiss_index
        )
        return SystemRun(scores, indices, thoughts, details)


@dataclass
class ExpansionSystem:
    """BM25 over ``query + " " + thoughts``: thinking as query expansion."""

    spec: SystemSpec
    resources: Resources

    def run(self, data: EvalData, k: int) -> SystemRun:
        _, thoughts, details = self.resources.query_vectors(self.spec, data)
        assert thoughts is not None
        expanded = [" ".join([q, *ts]) for q, ts in zip(data.queries, thoughts, strict=True)]
        retriever = self.resources.retriever(self.spec, data)
        scores, indices = retriever.search(expanded, k)
        details = {**details, "retriever": retriever_details(retriever)}
        return SystemRun(np.asarray(scores), np.asarray(indices), thoughts, details)


def build_systems(specs: list[SystemSpec], resources: Resources) -> list[System]:
    """Wrap each spec in its adapter (nothing is loaded until a system runs)."""
    kinds: dict[str, type] = {
        "bm25": RetrieverSystem,
        "dense": RetrieverSystem,
        "encoder": EncoderSystem,
        "expansion": ExpansionSystem,
    }
    return [kinds[s.kind](s, resources) for s in specs]
