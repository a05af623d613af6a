"""One rule for positives: score > 0; a missing score is not a judgement."""

from __future__ import annotations

import pyarrow as pa

from o1embed.tasks.positives import positives_by_query


def test_a_missing_score_is_not_positive():
    pairs = pa.table(
        {"query_id": ["a", "a", "b", "c"], "doc_id": ["x", "y", "z", "w"], "score": [1, None, 0, 2]},
        schema=pa.schema([("query_id", pa.string()), ("doc_id", pa.string()), ("score", pa.int32())]),
    )
    assert positives_by_query(pairs) == {"a": ["x"], "c": ["w"]}
