"""Approximate nearest-neighbour indexes over L2-normalised vectors (FAISS, inner product): one way to build them.

A ``faiss.index_factory`` description names the index: ``"Flat"`` is exact, ``"IVF1024,Flat"`` (an inverted file
of 1,024 k-means lists) and ``"HNSW32"`` trade exactness for speed on large corpora; search-time parameters go in
a ``faiss.ParameterSpace`` string (``"nprobe=32"``: lists read per query). Used by the evaluation's search of
large corpora and by a dense committee member's pool search (``RetrieverSpec.search_index``).

Example:
    >>> import numpy as np
    >>> docs = np.eye(4, dtype=np.float32)
    >>> index = build_index(docs, "Flat")
    >>> index.search(docs[:1], 2)[1].tolist()
    [[0, 1]]
"""

from __future__ import annotations

import numpy as np


def build_index(docs: np.ndarray, factory: str, params: str = "", threads: int | None = None):
    """Build, train (when the index needs it) and fill a FAISS inner-product index over ``docs``.

    Args:
        docs: ``(n_docs, dim)`` vectors.
        factory: a ``faiss.index_factory`` description.
        params: ``faiss.ParameterSpace`` search parameters (``"nprobe=32"``), empty for the index's defaults.
        threads: FAISS's OpenMP threads in this process (None leaves FAISS's setting).

    Returns:
        The filled ``faiss.Index``; its ``search(queries, k)`` returns ``(scores, indices)``, best first, and an
        approximate index may pad with index -1 when it finds fewer than ``k``.
    """
    import faiss

    if threads:
        faiss.omp_set_num_threads(threads)
    docs = np.ascontiguousarray(docs, dtype=np.float32)
    index = faiss.index_factory(docs.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(docs)
    index.add(docs)
    if params:
        faiss.ParameterSpace().set_index_parameters(index, params)
    return index
