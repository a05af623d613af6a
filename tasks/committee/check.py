"""Check the committee with a retriever that is not in it: do chosen thoughts help more than random ones?

For every judged query (one with at least one candidate; its newest example, see :mod:`o1embed.tasks.current_rows`),
an *outside* retriever ranks the positives under the bare query, under query + the committee's winner, and under
query + one candidate drawn at random (seeded). Reported: the mean reciprocal-rank gain of the winner and of the
random candidate (same queries), their difference with a paired bootstrap 95% interval, win/tie/loss counts, how
often the winner beats (or loses to) the bare query, the gain of what the examples actually keep (query-only
examples gain 0), and the per-query gains (``per_query``, for paired comparisons between dataset versions on the
same queries). The default outside retriever is BM25 with other parameters than the committee's (k1 0.9, b 0.4,
no stemming, no stop words).

Example:
    >>> report = outside_check(dv)                     # doctest: +SKIP
    >>> report["mean_gain_chosen"] > report["mean_gain_random"]   # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.inputs import CorpusIndex
from o1embed.tasks.committee.judging import JudgeRequest, judge_batch
from o1embed.tasks.current_rows import candidate_thoughts, read_current_examples
from o1embed.tasks.errors import ConfigError, InputError
from o1embed.tasks.positives import positives_by_query
from o1embed.tasks.retrievers.spec import RetrieverSpec
from o1embed.tasks.shards import DatasetVersion
from o1embed.tasks.versioning import RUN_ONLY

log = logging.getLogger(__name__)

OUTSIDE_BM25 = RetrieverSpec(kind="bm25s", name="bm25-outside", k1=0.9, b=0.4, stemmer=None, stopwords=None)


class OutsideCheckConfig(BaseModel):
    """The arguments of :func:`outside_check` as one config (what ``o1embed committee check --set`` sets)."""

    model_config = ConfigDict(extra="forbid")

    outside: RetrieverSpec = Field(
        default_factory=lambda: OUTSIDE_BM25.model_copy(), description="the outside retriever"
    )
    seed: int = Field(0, description="seed of the random candidate choice and of the bootstrap")
    batch_queries: int = Field(128, ge=1, description="queries per scoring call", json_schema_extra=RUN_ONLY)
    n_bootstrap: int = Field(2000, ge=1, description="bootstrap resamples for the interval")


def outside_check(
    dv: DatasetVersion,
    outside: RetrieverSpec = OUTSIDE_BM25,
    seed: int = 0,
    batch_queries: int = 128,
    n_bootstrap: int = 2000,
) -> dict:
    """Compare the committee's chosen thoughts with random candidates under an outside retriever.

    Args:
        dv: a dataset version with examples and candidates.
        outside: the outside retriever (must differ from every committee member).
        seed: seed of the random candidate choice and of the bootstrap.
        batch_queries: queries per scoring call.
        n_bootstrap: bootstrap resamples for the interval.

    Returns:
        A JSON-able report (see module docstring); ``chosen_beats_random`` is the verdict.

    Raises:
        InputError: no judged examples.
        ConfigError: the outside retriever equals a committee member.
    """
    manifest = dv.manifest_model()
    section = manifest.committee if manifest is not None else None
    committee = CommitteeConfig.model_validate(section.config) if section and section.config else None
    if committee is not None:
        for m in committee.members:
            if m.model_dump(exclude={"name"}) == outside.model_dump(exclude={"name"}):
                raise ConfigError(f"the outside retriever {outside.member_name} is a committee member")
    template = committee or CommitteeConfig()
    examples = read_current_examples(dv).to_pylist()
    judged = [e for e in examples if e["winner_idx"] >= 0]
    if not judged:
        raise InputError("no judged examples (run the committee first)", file=str(dv.table_dir("examples")))
    thought = candidate_thoughts(dv)  # keyed by shard too: an edited query's example meets its own thoughts
    corpus = CorpusIndex.from_table(dv.read("corpus"))
    positives = positives_by_query(dv.read("pairs"))
    retriever = outside.build()
    retriever.fit(corpus.doc_ids, corpus.texts)
    rng = np.random.default_rng(seed)
    strings, string_query, pos_lists, base_rows = [], [], [], []
    random_idx = []
    for qi, e in enumerate(judged):
        r = int(rng.choice(e["candidate_idxs"]))
        random_idx.append(r)
        base_rows.append(len(strings))
        strings += [
            e["query"],
            template.search_query(e["query"], thought[(e["query_id"], e["shard"], e["winner_idx"])]),
            template.search_query(e["query"], thought[(e["query_id"], e["shard"], r)]),
        ]
        string_query += [qi] * 3
        pos_ids = [d for d in positives.get(e["query_id"], e["positive_ids"]) if d in corpus.position]
        pos_lists.append(np.asarray([corpus.position[d] for d in pos_ids], dtype=np.int64))
    ranks = []
    for lo in range(0, len(judged), batch_queries):
        hi = min(lo + batch_queries, len(judged))
        req = JudgeRequest(
            strings=strings[3 * lo : 3 * hi],
            string_query=np.asarray(string_query[3 * lo : 3 * hi]) - lo,
            positives=pos_lists[lo:hi],
            base_rows=np.asarray(base_rows[lo:hi]) - 3 * lo,
            depth=1,
        )
        ranks.append(judge_batch(retriever, req).rank)
    rr = 1.0 / np.concatenate(ranks).reshape(-1, 3)  # (n, [query, chosen, random])
    gain_chosen, gain_random = rr[:, 1] - rr[:, 0], rr[:, 2] - rr[:, 0]
    kept = np.asarray([e["candidate_idx"] >= 0 for e in judged])
    gain_example = np.where(kept, gain_chosen, 0.0)
    diff = gain_chosen - gain_random
    boot = rng.choice(diff, size=(n_bootstrap, len(diff)), replace=True).mean(axis=1)
    report = {
        "outside_retriever": outside.model_dump(),
        "queries": len(judged),
        "mean_rr_query_only": float(rr[:, 0].mean()),
        "mean_gain_chosen": float(gain_chosen.mean()),
        "mean_gain_random": float(gain_random.mean()),
        "mean_gain_examples": float(gain_example.mean()),
        "difference": float(diff.mean()),
        "difference_ci95": [float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))],
        "wins": int((diff > 0).sum()),
        "ties": int((diff == 0).sum()),
        "losses": int((diff < 0).sum()),
        "chosen_beats_query": int((gain_chosen > 0).sum()),
        "chosen_loses_to_query": int((gain_chosen < 0).sum()),
        "seed": seed,
        "per_query": {
            "query_id": [e["query_id"] for e in judged],
            "gain_chosen": gain_chosen.tolist(),
            "gain_random": gain_random.tolist(),
        },
    }
    report["chosen_beats_random"] = report["mean_gain_chosen"] > report["mean_gain_random"]
    log.info(
        "outside check: chosen %+.4f vs random %+.4f over %d queries",
        report["mean_gain_chosen"],
        report["mean_gain_random"],
        len(judged),
    )
    return report
