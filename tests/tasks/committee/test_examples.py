"""Judging a shard with scripted members where the right decision is known: votes, policies, negatives."""

from __future__ import annotations

import numpy as np
import pytest

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.examples import judge_items
from o1embed.tasks.committee.inputs import CorpusIndex, QueryItem
from o1embed.tasks.committee.members import LocalMembers
from tests.tasks.committee.toy import ScriptedRetriever

N_DOCS = 40
CORPUS = CorpusIndex([f"d{i}" for i in range(N_DOCS)], [f"text {i}" for i in range(N_DOCS)])


def item(qid: str, text: str, positives: list[int], thoughts: list[str]) -> QueryItem:
    return QueryItem(qid, text, [f"d{p}" for p in positives], np.asarray(positives), list(enumerate(thoughts)))


def members(*scripts: dict) -> LocalMembers:
    rs = [ScriptedRetriever(f"m{i}", s) for i, s in enumerate(scripts)]
    for r in rs:
        r.fit(CORPUS.doc_ids, CORPUS.texts)
    return LocalMembers(rs)


def cfg(**kw) -> CommitteeConfig:
    base = {"use_ray": False, "negatives_count": 5, "negatives_skip": 1, "negatives_depth": 20}
    return CommitteeConfig(**(base | kw))


# the query token "Q" lifts docs 0..3 above the positive d10 (bare-query rank 5); "good" lifts d10 to the top
QUERY = {"Q": {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 10: 0.9}}
GOOD = {"good": {10: 5.0}}
BAD = {"bad": {20: 5.0, 21: 5.0, 22: 5.0}}


def by_qid(result):
    return {r["query_id"]: r for r in result.examples.to_pylist()}


def test_known_winner_gain_and_judgement_rows():
    m = members(QUERY | GOOD | BAD, QUERY | GOOD | BAD)
    res = judge_items([item("q", "Q", [10], ["bad", "good", "bad good"])], m, cfg(), CORPUS, "s0")
    ex = by_qid(res)["q"]
    # "good" and "bad good" both rank d10 first with the same score (5.9 > the 5.0 of d20..d22): each member
    # breaks that tie by the lower candidate index, so both vote for candidate 1
    assert ex["winner_idx"] == 1 and ex["thought"] == "good" and ex["policy"] == "kept"
    assert ex["votes"] == 2 and ex["gain"] == pytest.approx(1 - 1 / 5)
    assert ex["candidate_idxs"] == [0, 1, 2] and ex["candidate_votes"] == [0, 2, 0]
    j = res.judgements.to_pylist()
    assert len(j) == 2 * 4  # 2 members x (baseline + 3 candidates)
    base = [r for r in j if r["candidate_idx"] == -1]
    assert {r["rank"] for r in base} == {5} and all(r["gain"] == 0 and not r["vote"] for r in base)
    assert sum(r["vote"] for r in j) == 2


def test_member_that_disagrees():
    other = QUERY | {"good": {}, "alt": {10: 5.0}}
    m = members(QUERY | GOOD, QUERY | GOOD, other)
    ex = by_qid(judge_items([item("q", "Q", [10], ["alt", "good"])], m, cfg(), CORPUS, "s0"))["q"]
    assert ex["winner_idx"] == 1 and ex["candidate_votes"] == [1, 2] and ex["margin"] == 1.0


def test_tie_broken_by_mean_reciprocal_rank():
    a = QUERY | {
        "x": {10: 5.0},
        "y": {10: 0.15},
    }  # member a: x and y both rank d10 first, x with a higher score
    b = QUERY | {"y": {10: 0.12}}  # member b: x leaves d10 at rank 5, y lifts it to rank 1
    m = members(a, b)
    ex = by_qid(judge_items([item("q", "Q", [10], ["x", "y"])], m, cfg(), CORPUS, "s0"))["q"]
    # a votes x (same rank, higher score), b votes y: 1-1; mean RR x = (1 + 1/5)/2 = .6 < y = (1 + 1)/2 -> y
    assert ex["candidate_votes"] == [1, 1]
    assert ex["winner_idx"] == 1 and ex["margin"] == 0.0


@pytest.mark.parametrize(
    ("policy", "expect"),
    [("query_only", ("query_only", "", -1)), ("keep", ("kept_no_gain", "worse", 1)), ("drop", None)],
)
def test_every_candidate_worse_than_the_bare_query(policy, expect):
    # the bare query ranks d10 first; every thought lifts other documents above it ("worse" only one: rank 2)
    q = {"Q": {10: 2.0}}
    m = members(q | BAD | {"worse": {20: 9.0}}, q | BAD | {"worse": {21: 9.0}})
    res = judge_items([item("q", "Q", [10], ["bad", "worse"])], m, cfg(no_gain_policy=policy), CORPUS, "s0")
    if expect is None:
        assert res.examples.num_rows == 0
        assert len(res.errors) == 1 and "no candidate beats the bare query" in res.errors[0]["reason"]
        assert res.errors[0]["stage"] == "committee" and res.errors[0]["query_id"] == "q"
    else:
        ex = by_qid(res)["q"]
        assert (ex["policy"], ex["thought"], ex["candidate_idx"]) == expect
        assert ex["winner_idx"] == 1 and not ex["beats_query"]
        assert all(g < 0 for g in ex["candidate_gains"])


def test_query_without_candidates():
    m = members(QUERY)
    res = judge_items([item("q", "Q", [10], [])], m, cfg(), CORPUS, "s0")
    ex = by_qid(res)["q"]
    assert (ex["policy"], ex["thought"], ex["winner_idx"], ex["votes"]) == ("no_candidates", "", -1, 0)
    assert len(ex["negative_ids"]) == 5
    res = judge_items([item("q", "Q", [10], [])], m, cfg(no_gain_policy="drop"), CORPUS, "s0")
    assert res.examples.num_rows == 0 and "no candidate thought" in res.errors[0]["reason"]


def test_hard_negatives_skip_exclude_positives_and_count():
    # bare query order: d0 d1 d2 d3 (boosted), d10 (positive), then d4 d5 ... by prior; d2 is a second positive
    m = members(QUERY)
    res = judge_items([item("q", "Q", [10, 2], [])], m, cfg(negatives_skip=2, negatives_count=4), CORPUS, "s0")
    ex = by_qid(res)["q"]
    assert ex["positive_ids"] == ["d10", "d2"]
    # non-positive order d0 d1 d3 d4 d5 d6 ...: skip 2 -> d3 d4 d5 d6
    assert ex["negative_ids"] == ["d3", "d4", "d5", "d6"]
    assert len(ex["negative_scores"]) == 4 and ex["negative_scores"] == sorted(ex["negative_scores"], reverse=True)


def test_negatives_follow_the_chosen_thought():
    m = members(QUERY | GOOD | {"good": {10: 5.0, 30: 4.0, 31: 4.0}})
    ex = by_qid(judge_items([item("q", "Q", [10], ["good"])], m, cfg(negatives_skip=0), CORPUS, "s0"))["q"]
    assert ex["negative_ids"][:2] == ["d30", "d31"]
    ex = by_qid(
        judge_items([item("q", "Q", [10], ["good"])], m, cfg(negatives_skip=0, negatives_from="query"), CORPUS, "s0")
    )["q"]
    assert ex["negative_ids"][:2] == ["d0", "d1"]


def test_query_id_that_is_a_document_is_never_a_negative():
    corpus = CorpusIndex(["q", *CORPUS.doc_ids[1:]], CORPUS.texts)  # doc 0 has the query's id (ArguAna)
    m = members(QUERY)
    ex = judge_items([item("q", "Q", [10], [])], m, cfg(negatives_skip=0), corpus, "s0").examples.to_pylist()[0]
    assert "q" not in ex["negative_ids"] and ex["negative_ids"][0] == "d1"


def test_pool_mode_ranks_within_the_query_only_top_n_and_the_positives():
    m = members(QUERY | GOOD | BAD)
    items = [item("q", "Q", [10], ["bad", "good"]), item("r", "Q bad", [21], ["good"])]
    full = judge_items(items, m, cfg(), CORPUS, "s0")
    pool = judge_items(items, m, cfg(pool_top_n=8), CORPUS, "s0")
    assert by_qid(full)["q"]["winner_idx"] == by_qid(pool)["q"]["winner_idx"] == 1
    fj, pj = full.judgements.to_pylist(), pool.judgements.to_pylist()
    # "bad" lifts d20..d22, which are outside q's pool (top 8 of "Q"): the pool rank is 5, the corpus rank 8
    assert [r["rank"] for r in fj] == [5, 8, 1, 2, 3]
    assert [r["rank"] for r in pj] == [5, 5, 1, 2, 3]
    assert {r["pool_size"] for r in fj} == {N_DOCS} and {r["pool_size"] for r in pj} <= {8, 9}


def test_batches_give_the_same_rows():
    m = members(QUERY | GOOD | BAD)
    items = [item(f"q{i}", "Q", [10 + i % 3], ["bad", "good"][: 1 + i % 2]) for i in range(7)]
    one = judge_items(items, m, cfg(batch_queries=64), CORPUS, "s0")
    many = judge_items(items, m, cfg(batch_queries=2), CORPUS, "s0")
    assert one.examples.equals(many.examples) and one.judgements.equals(many.judgements)


def test_progress_is_reported_after_every_batch():
    m = members(QUERY | GOOD)
    items = [item(f"q{i}", "Q", [10], ["good", "bad"][: i % 3]) for i in range(7)]
    seen: list[tuple[int, int]] = []
    judge_items(items, m, cfg(batch_queries=3), CORPUS, "s0", on_batch=lambda q, c: seen.append((q, c)))
    # 7 queries in batches of 3: after 3, 6 and 7 queries; candidates 0+1+2, +0+1+2, +0
    assert seen == [(3, 3), (6, 6), (7, 6)]
