"""The encoder contract of an evaluation run, and how a system's spec calls it.

An encoder is any object with ``encode_queries(queries, think, num_thoughts, **options)`` and
``encode_documents(titles, texts)`` (``trainer.encoder.O1Encoder`` is one; the flow loads it and hands the loader
to :class:`~tasks.evaluation.resources.Resources`, so ``tasks`` never imports the trainer). Every setting a
system states reaches the encoder as an argument of the call: nothing is read from or written to a shared
encoder's configuration, so results never depend on the order in which systems run.

After a call an encoder may expose ``.thoughts`` (per query, the thoughts used) and ``.records`` (per query, an
object with ``thought``, ``thought_tokens``, ``seconds`` and ``p_close``: see ``trainer.encoder.QueryRecord``).

Example:
    >>> spec = SystemSpec(name="auto", kind="encoder", model="/m", think="auto", close_threshold=0.3)
    >>> spec.encoder_call()
    {'think': 'auto', 'num_thoughts': 1, 'close_threshold': 0.3}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import SystemSpec


class QueryDocEncoder(Protocol):
    """The encoder contract (see the module docstring)."""

    def encode_queries(
        self, queries: list[str], think: str = "always", num_thoughts: int = 1, **options: Any
    ) -> np.ndarray: ...  # (n, dim)

    def encode_documents(self, titles: list[str], texts: list[str]) -> np.ndarray: ...  # (n, dim)


@dataclass(frozen=True)
class QueryCost:
    """What thinking cost one query: whether it thought, thought tokens (None: unknown), seconds (None: unknown)."""

    thought: bool
    thought_tokens: float | None = None
    seconds: float | None = None
    p_close: float | None = None


@dataclass
class QueryVectors:
    """The output of one ``encode_queries`` call, as the systems use it.

    Attributes:
        vectors: ``(n_queries, dim)`` float32.
        thoughts: per query the thoughts used (``[]`` where none), or None for bare-query vectors.
        details: the encoder's settings worth stating in the report.
        costs: per query, :class:`QueryCost`.
    """

    vectors: np.ndarray
    thoughts: list[list[str]] | None
    details: dict[str, Any]
    costs: list[QueryCost]


def encode_queries(encoder: QueryDocEncoder, queries: list[str], spec: SystemSpec) -> QueryVectors:
    """Call ``encoder.encode_queries`` with the settings ``spec`` states and collect thoughts and costs.

    Raises:
        ConfigError: the encoder does not take the contract's arguments, or returns the wrong shapes.
    """
    call = spec.encoder_call()
    try:
        raw = encoder.encode_queries(queries, **call)
    except TypeError as exc:
        raise ConfigError(
            f"{type(encoder).__name__}.encode_queries does not take {sorted(call)} (the encoder contract of "
            f"tasks.evaluation.encoders): {exc}"
        ) from exc
    vecs = np.asarray(raw, dtype=np.float32)  # (n, dim)
    if vecs.shape[0] != len(queries):
        raise ConfigError(f"{type(encoder).__name__} returned {vecs.shape[0]} vectors for {len(queries)} queries")
    thinking = spec.mode != "never"
    thoughts = _thought_lists(getattr(encoder, "thoughts", None), len(queries)) if thinking else None
    records = getattr(encoder, "records", None)
    if records is not None and len(records) == len(queries):
        costs = [
            QueryCost(
                bool(r.thought),
                float(r.thought_tokens),
                float(r.seconds),
                None if getattr(r, "p_close", None) is None else float(r.p_close),
            )
            for r in records
        ]
    else:  # an encoder without records: whether it thought is read off its thoughts
        costs = [QueryCost(bool(thoughts and any(t.strip() for t in thoughts[i]))) for i in range(len(queries))]
    return QueryVectors(vecs, thoughts, encoder_details(encoder, spec, call["num_thoughts"]), costs)


def _thought_lists(thoughts: Any, n: int) -> list[list[str]]:
    """Normalise an encoder's ``.thoughts`` (``list[str]`` or ``list[list[str]]``) to one list per query.

    Raises:
        ConfigError: no thoughts, or not one entry per query.
    """
    if thoughts is None:
        raise ConfigError("the encoder exposes no .thoughts after a thinking encode_queries call")
    out = [[t] if isinstance(t, str) else [str(x) for x in t] for t in thoughts]
    if len(out) != n:
        raise ConfigError(f"the encoder returned thoughts for {len(out)} queries, expected {n}")
    return out


def encoder_details(encoder: QueryDocEncoder, spec: SystemSpec, m: int = 1) -> dict[str, Any]:
    """What a report should state about an encoder: its thought sampling (when thinking) and passage length."""
    out: dict[str, Any] = {}
    if spec.mode != "never":
        sampling_for = getattr(encoder, "sampling_for", None)
        sampling = sampling_for(m) if callable(sampling_for) else getattr(encoder, "sampling", None)
        if isinstance(sampling, dict):
            out["sampling"] = dict(sampling)
        if spec.mode == "auto":
            threshold = spec.close_threshold
            auto_threshold = getattr(encoder, "auto_threshold", None)
            if threshold is None and callable(auto_threshold):
                threshold = auto_threshold(spec.decider)
            out["close_threshold"] = threshold
            if spec.skip_vector is not None:
                out["skip_vector"] = spec.skip_vector
            if spec.decider is not None:
                out["decider"] = spec.decider
    if spec.fusion_alpha is not None and spec.mode != "never":
        out["fusion_alpha"] = spec.fusion_alpha
    model_cfg = getattr(getattr(encoder, "model", None), "config", None)
    if getattr(model_cfg, "max_passage_tokens", None) is not None:
        out["max_passage_tokens"] = model_cfg.max_passage_tokens
    return out
