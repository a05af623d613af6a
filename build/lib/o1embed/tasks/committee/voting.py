"""Votes and thought gain for one training query, from every member's ranks of its best positive.

- **Member vote**: each member votes for the candidate under which the positive ranks best; equal ranks go to the
  higher score of that positive, then to the lower candidate index.
- **Majority** (default): the candidate with most votes wins; a tie between candidates goes to the higher mean
  reciprocal rank across members, then to the lower candidate index. ``margin`` = winner's votes minus the
  runner-up's.
- **Soft** (the reference's vote): per member, a softmax over the candidates of the positive's score times the
  member's scale (100 for dense, 1 for BM25, as the reference), summed over members; ``margin`` = winner's sum minus
  the runner-up's. Its flaw, scores on different scales, is kept on purpose: it exists for comparison.
- **Thought gain**: per member, the positive's reciprocal rank under query + thought minus under the bare query;
  the committee's gain is the mean over members. The winner *beats the bare query* when its mean gain is > 0.

Example:
    >>> import numpy as np
    >>> v = vote(ranks=np.array([[3, 1], [2, 5]]), scores=np.zeros((2, 2)), base_ranks=np.array([4, 4]),
    ...          candidate_idx=np.array([0, 1]))
    >>> (v.winner, v.votes.tolist(), v.margin)       # 1-1 tie: mean RR 0.417 vs 0.6 -> candidate 1
    (1, [1, 1], 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class VoteResult:
    """The committee's decision for one training query.

    Attributes:
        winner: candidate index of the winner.
        winner_pos: its position among the candidates.
        votes: ``(n_cands,)`` votes per candidate.
        member_choice: ``(n_members,)`` position of the candidate each member voted for.
        margin: winner's votes (or soft total) minus the runner-up's.
        gain: ``(n_members, n_cands)`` reciprocal-rank gain against the bare query.
        mean_gain: ``(n_cands,)`` mean gain over members.
        soft: ``(n_cands,)`` soft-vote totals (computed for every method, for the record).
        beats_query: the winner's mean gain is > 0.
    """

    winner: int
    winner_pos: int
    votes: np.ndarray
    member_choice: np.ndarray
    margin: float
    gain: np.ndarray
    mean_gain: np.ndarray
    soft: np.ndarray
    beats_query: bool


def member_choices(ranks: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each member's chosen candidate position: best rank, then higher score, then lower position.

    Args:
        ranks: ``(n_members, n_cands)`` rank of the best positive.
        scores: ``(n_members, n_cands)`` score of that positive.

    Returns:
        ``(n_members,)`` positions.
    """
    n_m, n_c = ranks.shape
    out = np.empty(n_m, dtype=np.int64)
    pos = np.arange(n_c)
    for m in range(n_m):
        out[m] = np.lexsort((pos, -scores[m], ranks[m]))[0]
    return out


def soft_totals(scores: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The reference's soft vote: per-member softmax over candidates of ``score * scale``, summed over members."""
    z = scores * scales[:, None]  # (n_members, n_cands)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return p.sum(axis=0)  # (n_cands,)


def vote(
    ranks: np.ndarray,
    scores: np.ndarray,
    base_ranks: np.ndarray,
    candidate_idx: np.ndarray,
    method: str = "majority",
    soft_scales: np.ndarray | None = None,
) -> VoteResult:
    """Decide the winner among one query's candidates.

    Args:
        ranks: ``(n_members, n_cands)`` 1-based rank of the best positive under each candidate's search query.
        scores: ``(n_members, n_cands)`` the member's score of that positive.
        base_ranks: ``(n_members,)`` the rank under the bare query.
        candidate_idx: ``(n_cands,)`` the candidates' indices (at least one).
        method: ``majority`` or ``soft``.
        soft_scales: ``(n_members,)`` multipliers for the soft vote (default 1).

    Returns:
        A :class:`VoteResult`.
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    n_m, n_c = ranks.shape
    if n_c == 0:
        raise ValueError("vote needs at least one candidate")
    rr = 1.0 / ranks  # (n_members, n_cands)
    gain = rr - 1.0 / np.asarray(base_ranks, dtype=np.float64)[:, None]
    mean_gain = gain.mean(axis=0)
    mean_rr = rr.mean(axis=0)
    choice = member_choices(ranks, scores)
    votes = np.bincount(choice, minlength=n_c)
    scales = np.ones(n_m) if soft_scales is None else np.asarray(soft_scales, dtype=np.float64)
    soft = soft_totals(scores, scales)
    pos = np.arange(n_c)
    if method == "majority":
        order = np.lexsort((pos, -mean_rr, -votes))
        tally = votes.astype(np.float64)
    elif method == "soft":
        order = np.lexsort((pos, -soft))
        tally = soft
    else:
        raise ValueError(f"unknown vote method {method!r}")
    w = int(order[0])
    runner_up = float(tally[order[1]]) if n_c > 1 else 0.0
    return VoteResult(
        winner=int(candidate_idx[w]),
        winner_pos=w,
        votes=votes,
        member_choice=choice,
        margin=float(tally[w] - runner_up),
        gain=gain,
        mean_gain=mean_gain,
        soft=soft,
        beats_query=bool(mean_gain[w] > 0),
    )
