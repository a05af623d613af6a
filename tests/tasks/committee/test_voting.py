"""Majority and soft votes, tie-breaks and thought gain on hand-written ranks."""

from __future__ import annotations

import numpy as np
import pytest

from o1embed.tasks.committee.voting import member_choices, soft_totals, vote

CANDS = np.array([0, 1, 2])


def test_unanimous_majority_and_gain():
    ranks = np.array([[1, 4, 9], [2, 3, 7]])
    v = vote(ranks, np.zeros((2, 3)), base_ranks=np.array([4, 4]), candidate_idx=CANDS)
    assert v.winner == 0 and v.votes.tolist() == [2, 0, 0] and v.margin == 2.0
    assert v.gain[0].tolist() == pytest.approx([1 - 0.25, 0.0, 1 / 9 - 0.25])
    assert v.mean_gain[0] == pytest.approx(((1 - 0.25) + (0.5 - 0.25)) / 2)
    assert v.beats_query


def test_member_that_disagrees_is_outvoted():
    # members A and B prefer candidate 1, C prefers candidate 2 (and ranks it first)
    ranks = np.array([[5, 2, 6], [4, 3, 9], [8, 7, 1]])
    v = vote(ranks, np.zeros((3, 3)), base_ranks=np.array([5, 5, 5]), candidate_idx=CANDS)
    assert v.member_choice.tolist() == [1, 1, 2]
    assert (v.winner, v.votes.tolist(), v.margin) == (1, [0, 2, 1], 1.0)


def test_tie_between_candidates_broken_by_mean_reciprocal_rank():
    # A votes 0 (rank 1), B votes 1 (rank 2): 1-1; mean RR of 0 = (1 + 1/5)/2 = 0.6 > of 1 = (1/5 + 1/2)/2
    ranks = np.array([[1, 5], [5, 2]])
    v = vote(ranks, np.zeros((2, 2)), base_ranks=np.array([5, 5]), candidate_idx=np.array([0, 1]))
    assert (v.winner, v.votes.tolist(), v.margin) == (0, [1, 1], 0.0)
    # swap which member is more convinced: now candidate 1 wins the tie
    v = vote(np.array([[2, 5], [5, 1]]), np.zeros((2, 2)), np.array([5, 5]), np.array([0, 1]))
    assert v.winner == 1


def test_full_tie_goes_to_lower_candidate_index():
    v = vote(np.array([[3, 3]]), np.zeros((1, 2)), np.array([3]), np.array([4, 7]))
    assert v.winner == 4 and v.votes.tolist() == [1, 0]  # the member itself breaks its tie by index


def test_member_rank_tie_broken_by_score():
    assert member_choices(np.array([[2, 2, 3]]), np.array([[0.1, 0.5, 9.0]])).tolist() == [1]


def test_every_candidate_worse_than_the_bare_query():
    ranks = np.array([[3, 4], [2, 6]])
    v = vote(ranks, np.zeros((2, 2)), base_ranks=np.array([1, 1]), candidate_idx=np.array([0, 1]))
    assert v.winner == 0 and not v.beats_query
    assert (v.mean_gain < 0).all()


def test_equal_rank_is_no_gain():
    v = vote(np.array([[2]]), np.zeros((1, 1)), np.array([2]), np.array([0]))
    assert v.mean_gain[0] == 0 and not v.beats_query and v.margin == 1.0


def test_soft_vote_reproduces_reference_scale_bias():
    # BM25 (scale 1) scores of the positive: 30 vs 10 -> softmax ~(1, 0); dense cosine (scale 100): .50 vs .52
    scores = np.array([[30.0, 10.0], [0.50, 0.52]])
    ranks = np.array([[1, 2], [2, 1]])
    totals = soft_totals(scores, np.array([1.0, 100.0]))
    assert totals.sum() == pytest.approx(2.0)
    v = vote(ranks, scores, np.array([3, 3]), np.array([0, 1]), method="soft", soft_scales=np.array([1.0, 100.0]))
    assert v.winner == 0 and v.margin == pytest.approx(totals[0] - totals[1])


def test_unknown_method_and_no_candidates_raise():
    with pytest.raises(ValueError):
        vote(np.array([[1]]), np.zeros((1, 1)), np.array([1]), np.array([0]), method="plurality")
    with pytest.raises(ValueError):
        vote(np.zeros((1, 0)), np.zeros((1, 0)), np.array([1]), np.array([], dtype=int))
