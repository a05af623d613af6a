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


def test_current_parts_stream_the_rows_newest_per_query_keeps(tmp_path):
    from o1embed.tasks.current_rows import current_parts
    from o1embed.tasks.schemas import SCHEMAS
    from o1embed.tasks.shards import DatasetVersion

    dv = DatasetVersion(tmp_path, "toy", "train", "v1")
    shards = {"part-r0001-00000": ["a", "b", "a"], "part-r0001-00001": ["c"], "part-r0002-00000": ["a"]}
    for shard, qids in shards.items():
        rows = {n: [None] * len(qids) for n in SCHEMAS["judgements"].names}
        rows |= {"query_id": qids, "shard": [shard] * len(qids), "candidate_idx": list(range(len(qids)))}
        dv.write_shard("judgements", shard, pa.table(rows, schema=SCHEMAS["judgements"]))
    parts = list(current_parts(dv, "judgements", ["query_id", "candidate_idx"]))
    assert [p.to_pydict() for p in parts] == [
        {"query_id": ["a"], "candidate_idx": [0]},  # part-r0002-00000, newest first
        {"query_id": ["c"], "candidate_idx": [0]},
        {"query_id": ["b"], "candidate_idx": [1]},  # its "a" rows are superseded
    ]
    whole = newest_per_query(dv.read("judgements"))
    assert sorted(whole["query_id"].to_pylist()) == sorted(q for p in parts for q in p["query_id"].to_pylist())
