"""Top-k inner-product search over L2-normalised vectors: exact (numpy) for corpora that fit, FAISS for larger ones.

Both return the same layout, ``(scores, indices)`` of shape ``(n_queries, k)``, best first. With the default
``"Flat"`` index FAISS is exact too, so the two give the same ranking; other index factory strings (``"HNSW32"``,
``"IVF1024,Flat"``) trade exactness for speed on large corpora.

Example:
    >>> import numpy as np
    >>> d = np.eye(3, dtype=np.float32)
    >>> scores, idx = exact_search(d[:1], d, k=2)
    >>> idx.tolist()
    [[0, 1]]
"""

from __future__ import annotations

import logging

import numpy as np

from o1embed.tasks.retrievers.ann import build_index
from o1embed.tasks.retrievers.base import top_k

log = logging.getLogger(__name__)


def exact_search(queries: np.ndarray, docs: np.ndarray, k: int, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product.

    Args:
        queries: ``(n_queries, dim)``.
        docs: ``(n_docs, dim)``.
        k: results per query (capped at ``n_docs``).
        batch_size: queries scored per matrix product (bounds memory at ``batch_size * n_docs`` floats).

    Returns:
        ``(scores, indices)``, each ``(n_queries, min(k, n_docs))``; ties keep the lower document index first
        (:func:`tasks.retrievers.base.top_k`).
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    docs = np.ascontiguousarray(docs, dtype=np.float32)
    k = min(k, docs.shape[0])
    all_s, all_i = [], []
    for start in range(0, queries.shape[0], batch_size):
        sims = queries[start : start + batch_size] @ docs.T  # (batch, n_docs)
        scores, idx = top_k(sims, k)  # (batch, k) each
        all_s.append(scores)
        all_i.append(idx)
    if not all_s:
        return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
    return np.concatenate(all_s), np.concatenate(all_i)


def faiss_search(
    queries: np.ndarray, docs: np.ndarray, k: int, index_factory: str = "Flat"
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k by inner product through a FAISS index built over ``docs``.

    Args:
        queries: ``(n_queries, dim)``.
        docs: ``(n_docs, dim)``.
        k: results per query (capped at ``n_docs``).
        index_factory: a ``faiss.index_factory`` description; trained on ``docs`` when the index needs it.

    Returns:
        ``(scores, indices)``, each ``(n_queries, min(k, n_docs))``; an approximate index may pad with -1.
    """
    index = build_index(docs, index_factory)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, docs.shape[0]))


def dense_search(
    queries: np.ndarray,
    docs: np.ndarray,
    k: int,
    *,
    faiss_threshold: int = 200_000,
    index_factory: str = "Flat",
) -> tuple[np.ndarray, np.ndarray]:
    """Exact search when ``n_docs <= faiss_threshold``, else a FAISS index (see the module docstring)."""
    if docs.shape[0] > faiss_threshold:
        log.info("searching %d documents with FAISS %r", docs.shape[0], index_factory)
        return faiss_search(queries, docs, k, index_factory)
    return exact_search(queries, docs, k)
