"""Building committee items from synthesis tables: every unusable row becomes an errors row."""

from __future__ import annotations

import pyarrow as pa

from o1embed.tasks.committee.inputs import CorpusIndex, build_items
from o1embed.tasks.positives import positives_by_query

CORPUS = CorpusIndex(["d1", "d2", "d3"], ["a", "b", "c"])


def cands(rows):
    return pa.table(
        {
            "query_id": [r[0] for r in rows],
            "candidate_idx": pa.array([r[1] for r in rows], pa.int32()),
            "thought": [r[2] for r in rows],
        }
    )


def test_errors_are_rows_with_reasons():
    table = cands(
        [
            ("q1", 0, "t0"),
            ("q1", 0, "dup"),
            ("q1", 2, "  "),
            ("q1", 1, "t1"),
            ("zz", 0, "stray"),
            ("q2", 0, "x"),
        ]
    )
    qtext = {"q1": "one", "q2": "two", "q3": "three", "q4": "four"}
    pos = {"q1": ["d2", "gone"], "q2": ["gone"], "q3": []}
    items, errors = build_items(["q1", "q2", "q3", "q4", "q5"], qtext, pos, table, CORPUS, "s")
    assert [(i.query_id, i.positive_ids, i.positives.tolist(), i.candidates) for i in items] == [
        ("q1", ["d2"], [1], [(0, "t0"), (1, "t1")])
    ]
    reasons = {(e["query_id"], e["candidate_idx"]): e["reason"] for e in errors}
    assert all(e["stage"] == "committee" and e["file"] == "s" for e in errors)
    assert "duplicate" in reasons[("q1", 0)]
    assert "empty thought" in reasons[("q1", 2)]
    assert "not planned" in reasons[("zz", 0)]
    assert "is in the corpus" in reasons[("q2", None)]
    assert "no positive" in reasons[("q3", None)] and "no positive" in reasons[("q4", None)]
    assert "not found in the queries table" in reasons[("q5", None)]


def test_positives_by_query_keeps_score_above_zero_once():
    pairs = pa.table({"query_id": ["a", "a", "a", "b"], "doc_id": ["x", "x", "y", "z"], "score": [1, 2, 0, 1]})
    assert positives_by_query(pairs) == {"a": ["x"], "b": ["z"]}
