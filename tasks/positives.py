"""Positive documents per query, read from a ``pairs`` table (BEIR qrels).

The rule, the same for every reader: a pair is positive when its score is above zero; a missing score is not a
judgement and is not positive. Each query's positives keep table order, without duplicates.

Example:
    >>> import pyarrow as pa
    >>> pairs = pa.table({"query_id": ["a", "a", "b"], "doc_id": ["x", "y", "z"], "score": [1, 0, None]})
    >>> positives_by_query(pairs)
    {'a': ['x']}
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def positives_by_query(pairs: pa.Table) -> dict[str, list[str]]:
    """Map each query id to its positive document ids (score > 0), in table order, without duplicates."""
    kept = pairs.filter(pc.fill_null(pc.greater(pairs["score"], 0), False))
    out: dict[str, list[str]] = {}
    for q, d in zip(kept["query_id"].to_pylist(), kept["doc_id"].to_pylist(), strict=True):
        docs = out.setdefault(q, [])
        if d not in docs:
            docs.append(d)
    return out
