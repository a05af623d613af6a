"""Judge one shard's queries and build its ``judgements``, ``examples`` and ``errors`` rows.

For each query: the members rank its positives under the bare query and under query + thought for every candidate
(batched: one member call per ``batch_queries`` queries); the vote picks a winner; the no-gain policy decides what
is kept; hard negatives come from the committee's search for the kept example's search query.

No-gain policy (``no_gain_policy``), applied when the winner's mean gain is <= 0:

- ``query_only`` (default): keep the query, its positive and negatives, with an empty thought. The contrastive
  signal of the pair is kept, while the thought that did not help retrieval is not taught to the model (the
  behaviour-cloning loss would otherwise imitate it). The method already trains ~10% of examples without a thought,
  so query-only examples fit the trainer as they are. ``policy = "query_only"``.
- ``keep``: keep the winner anyway (the reference's behaviour). ``policy = "kept_no_gain"``.
- ``drop``: no example; an ``errors`` row says why.

A query with no candidate at all (every LLM attempt failed) gets a query-only example (``policy = "no_candidates"``),
or an ``errors`` row under ``drop``.

Example:
    >>> from o1embed.tasks.committee.config import CommitteeConfig               # doctest: +SKIP
    >>> result = judge_items(items, members, CommitteeConfig(), corpus, "part-r0001-00000")  # doctest: +SKIP
    >>> result.examples.num_rows                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.inputs import STAGE, CorpusIndex, QueryItem
from o1embed.tasks.committee.judging import JudgeRequest, MemberJudgement
from o1embed.tasks.committee.members import Members
from o1embed.tasks.committee.negatives import hard_negatives
from o1embed.tasks.committee.voting import vote
from o1embed.tasks.schemas import SCHEMAS, error_row

log = logging.getLogger(__name__)


@dataclass
class ShardResult:
    """The rows of one judged shard, and how long the members took."""

    examples: pa.Table
    judgements: pa.Table
    errors: list[dict]
    member_seconds: dict[str, float] = field(default_factory=dict)
    n_candidates: int = 0
    seconds: float = 0.0


@dataclass
class _Layout:
    """Where each query's strings sit in the shard-wide string list."""

    strings: list[str]
    base_row: list[int]
    cand_rows: list[list[int]]


def _layout(items: list[QueryItem], config: CommitteeConfig) -> _Layout:
    strings, base_row, cand_rows = [], [], []
    for it in items:
        base_row.append(len(strings))
        strings.append(config.search_query(it.text, None))
        rows = []
        for _, thought in it.candidates:
            rows.append(len(strings))
            strings.append(config.search_query(it.text, thought))
        cand_rows.append(rows)
    return _Layout(strings, base_row, cand_rows)


def score_items(
    items: list[QueryItem],
    members: Members,
    config: CommitteeConfig,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[_Layout, list]:
    """Every member's judgement of every string of ``items``, in batches of ``config.batch_queries`` queries.

    Args:
        on_batch: called after each batch with the queries and candidates judged so far (live progress).

    Returns:
        The string layout and one :class:`MemberJudgement` per member, rows aligned with ``layout.strings``.
    """
    layout = _layout(items, config)
    parts: list[list[MemberJudgement]] = [[] for _ in members.names]
    for start in range(0, len(items), config.batch_queries):
        batch = range(start, min(start + config.batch_queries, len(items)))
        lo = layout.base_row[batch[0]]
        hi = layout.base_row[batch[-1] + 1] if batch[-1] + 1 < len(items) else len(layout.strings)
        string_query = np.empty(hi - lo, dtype=np.int64)
        for j, q in enumerate(batch):
            end = layout.base_row[q + 1] if q + 1 < len(items) else len(layout.strings)
            string_query[layout.base_row[q] - lo : end - lo] = j
        request = JudgeRequest(
            strings=layout.strings[lo:hi],
            string_query=string_query,
            positives=[items[q].positives for q in batch],
            base_rows=np.asarray([layout.base_row[q] - lo for q in batch], dtype=np.int64),
            pool_top_n=config.pool_top_n,
            depth=config.negatives_depth,
        )
        for m, judgement in enumerate(members.judge(request)):
            parts[m].append(judgement)
        if on_batch is not None:
            on_batch(batch[-1] + 1, hi - (batch[-1] + 1))  # strings so far less one bare query each
    return layout, [MemberJudgement.concat(p) for p in parts] if items else []


def judge_items(
    items: list[QueryItem],
    members: Members,
    config: CommitteeConfig,
    corpus: CorpusIndex,
    shard: str,
    on_batch: Callable[[int, int], None] | None = None,
) -> ShardResult:
    """Judge, vote, apply the policy and mine negatives for one shard.

    Args:
        items: the shard's queries (see :func:`tasks.committee.inputs.build_items`).
        members: fitted committee members.
        config: committee configuration.
        corpus: the corpus the members were fitted on (same order).
        shard: shard name, stored in every example row.
        on_batch: see :func:`score_items`.

    Returns:
        A :class:`ShardResult`.
    """
    t0 = time.perf_counter()
    layout, judged = score_items(items, members, config, on_batch)
    names = members.names
    jrows: dict[str, list] = {n: [] for n in SCHEMAS["judgements"].names}
    erows: dict[str, list] = {n: [] for n in SCHEMAS["examples"].names}
    errors: list[dict] = []
    for qi, it in enumerate(items):
        b = layout.base_row[qi]
        rows = layout.cand_rows[qi]
        cand_idx = np.asarray([k for k, _ in it.candidates], dtype=np.int64)
        base_ranks = np.asarray([j.rank[b] for j in judged])  # (n_members,)
        res = None
        if rows:
            ranks = np.stack([j.rank[rows] for j in judged])  # (n_members, n_cands)
            scores = np.stack([j.score[rows] for j in judged])  # (n_members, n_cands)
            res = vote(ranks, scores, base_ranks, cand_idx, config.vote, members.soft_scales)
        # -- judgement rows: the baseline, then every candidate, per member
        for m, (name, j) in enumerate(zip(names, judged, strict=True)):
            for c, row in [(-1, b), *zip(cand_idx.tolist(), rows, strict=True)]:
                pos = c if c < 0 else rows.index(row)
                jrows["query_id"].append(it.query_id)
                jrows["candidate_idx"].append(c)
                jrows["member"].append(name)
                jrows["best_positive_id"].append(corpus.doc_ids[j.best_positive[row]])
                jrows["rank"].append(int(j.rank[row]))
                jrows["score"].append(float(j.score[row]))
                jrows["reciprocal_rank"].append(1.0 / float(j.rank[row]))
                jrows["pool_size"].append(int(j.pool_size[row]))
                jrows["gain"].append(0.0 if c < 0 else float(res.gain[m, pos]))
                jrows["vote"].append(bool(c >= 0 and res.member_choice[m] == pos))
                jrows["shard"].append(shard)
        # -- the decision
        if res is None:
            decision, chosen_row = "no_candidates", b
        elif res.beats_query:
            decision, chosen_row = "kept", rows[res.winner_pos]
        elif config.no_gain_policy == "keep":
            decision, chosen_row = "kept_no_gain", rows[res.winner_pos]
        else:
            decision, chosen_row = "query_only", b
        if config.no_gain_policy == "drop" and decision in ("no_candidates", "query_only"):
            why = (
                "no candidate thought to judge (none survived the LLM stage)"
                if res is None
                else f"no candidate beats the bare query (winner {res.winner}, mean gain "
                f"{res.mean_gain[res.winner_pos]:+.4f})"
            )
            errors.append(error_row(STAGE, f"{why}; dropped by no_gain_policy=drop", query_id=it.query_id, file=shard))
            continue
        mine_row = chosen_row if config.negatives_from == "chosen" else b
        exclude = set(it.positives.tolist())
        if it.query_id in corpus.position:
            exclude.add(corpus.position[it.query_id])
        neg_idx, neg_scores = hard_negatives(
            [j.top_idx[mine_row] for j in judged],
            exclude,
            config.negatives_skip,
            config.negatives_count,
            config.rrf_k,
        )
        if len(neg_idx) < config.negatives_count:
            log.warning(
                "query %s: only %d hard negatives (asked %d)",
                it.query_id,
                len(neg_idx),
                config.negatives_count,
            )
        kept = decision in ("kept", "kept_no_gain")
        erows["query_id"].append(it.query_id)
        erows["query"].append(it.text)
        erows["positive_ids"].append(list(it.positive_ids))
        erows["thought"].append(it.candidates[res.winner_pos][1] if kept else "")
        erows["candidate_idx"].append(res.winner if kept else -1)
        erows["winner_idx"].append(res.winner if res is not None else -1)
        erows["votes"].append(int(res.votes[res.winner_pos]) if res is not None else 0)
        erows["margin"].append(float(res.margin) if res is not None else 0.0)
        erows["gain"].append(float(res.mean_gain[res.winner_pos]) if kept else 0.0)
        erows["beats_query"].append(bool(res is not None and res.beats_query))
        erows["policy"].append(decision)
        erows["negative_ids"].append([corpus.doc_ids[d] for d in neg_idx.tolist()])
        erows["negative_scores"].append(neg_scores.tolist())
        erows["candidate_idxs"].append(cand_idx.tolist())
        erows["candidate_votes"].append(res.votes.tolist() if res is not None else [])
        erows["candidate_gains"].append(res.mean_gain.tolist() if res is not None else [])
        erows["shard"].append(shard)
    return ShardResult(
        examples=pa.table(erows, schema=SCHEMAS["examples"]),
        judgements=pa.table(jrows, schema=SCHEMAS["judgements"]),
        errors=errors,
        member_seconds={j.member: j.seconds for j in judged},
        n_candidates=sum(len(it.candidates) for it in items),
        seconds=time.perf_counter() - t0,
    )
