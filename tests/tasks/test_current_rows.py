"""The newest rows per query: what every reader of examples and judgements sees."""

from __future__ import annotations

import pyarrow as pa

from o1embed.tasks.current_rows import newest_per_query

R1, R2 = "part-r0001-00000", "part-r0002-00000"


def test_newest_per_query_drops_superseded_rows_in_order():
    t = pa.table({"query_id": ["a", "b", "a", "a"], "shard": [R1, R1, R2, R2], "x": [1, 2, 3, 4]})
    out = newest_per_query(t)
    assert out["x"].to_pylist() == [2, 3, 4]  # a's two judgement rows of r2 stay, its r1 row goes
    assert out.schema == t.schema


def test_newest_per_query_returns_the_table_when_nothing_is_superseded():
    t = pa.table({"query_id": ["a", "b"], "shard": [R1, R2]})
    assert newest_per_query(t) is t
    empty = t.slice(0, 0)
    assert newest_per_query(empty) is empty
