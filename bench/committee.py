"""Benchmark: the batched committee against a per-query committee (the reference's way), same members, same run.

Both judge the same SciFact train queries and candidate thoughts with the same fitted members (bm25s BM25 and
all-MiniLM-L6-v2 by default): the batched committee scores every search query of ``batch_queries`` training
queries in one call per member (one encoder pass, one matrix product); the per-query committee calls each member
once per candidate (and once for the bare query), as the reference's ``vote.py`` does. Both must pick the same
winners. Candidate thoughts are spans of corpus text (one from a positive, the rest from random documents) with
the length of LLM thoughts, so no LLM is needed here; the LLM's own seconds per 1,000 candidates can be passed in
to print the ratio.

Also printed: rank-bm25 against bm25s seconds per 1,000 searches (why the BM25 member uses bm25s), and for each dense
member its encoding time alone, one string per call against one batched call (the bound on what batching can buy).

Run::

    .venv/bin/python bench/committee.py --queries 100 --k 3
    .venv/bin/python bench/committee.py --llm-seconds-per-1000 1500     # LLM figure measured on the embedded stack

Last line: ``committee_overhead=<committee seconds / the members' own seconds>``: the batched committee
(``judge_items``) against its physical limit, each member scoring the very same search strings (the bare queries
and query + thought) in one call (encoding and full-corpus search, nothing around it), both in this process with
the same torch threads; target <= 1.25 on 1,000 SciFact candidates (``--queries 334 --k 3``, the default).
``--per-query`` also times the reference's per-query committee (on a CPU both do the same model work, so that
ratio shows little; it is printed as ``committee_speedup``, not last). The committee as the flow runs it
(one Ray actor per member, 1 CPU each, hence 1 torch thread) is timed too and printed on its own line;
``--no-ray`` skips it.

What to expect: on a GPU a one-string call is launch- and transfer-bound, so batching pays many times over; on a
2-core CPU all-MiniLM-L6-v2 is compute-bound one string at a time (23.7 ms per string alone, 27.3 ms per string in
batches of 64, fp32, 2 threads, measured 2026-11-28), so the ratio there is ~0.85x
(``docs/results/bench-2026-11-28/``).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time

import numpy as np

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.examples import judge_items
from o1embed.tasks.committee.inputs import CorpusIndex, QueryItem
from o1embed.tasks.committee.members import LocalMembers, RayMembers
from o1embed.tasks.committee.negatives import hard_negatives
from o1embed.tasks.committee.voting import vote
from o1embed.tasks.ingest import load_beir
from o1embed.tasks.paths import bundled_dataset
from o1embed.tasks.retrievers.base import rank_of, top_k
from o1embed.tasks.retrievers.spec import RetrieverSpec


def pseudo_thoughts(corpus: CorpusIndex, positives: list[str], k: int, words: int, rng: random.Random) -> list[str]:
    """K thought-like texts: a span of a positive document and spans of random documents, shuffled."""
    docs = [corpus.position[positives[0]]] + [rng.randrange(len(corpus.doc_ids)) for _ in range(k - 1)]
    out = []
    for d in docs:
        toks = corpus.texts[d].split()
        start = rng.randrange(max(1, len(toks) - words))
        out.append(" ".join(toks[start : start + words]))
    rng.shuffle(out)
    return out


def build_items(n_queries: int, k: int, words: int, seed: int) -> tuple[CorpusIndex, list[QueryItem]]:
    data = load_beir(bundled_dataset("scifact"), "train")
    corpus = CorpusIndex.from_table(data.corpus)
    qtext = dict(zip(*(data.queries.column(c).to_pylist() for c in ("query_id", "text")), strict=True))
    positives = data.positives()
    rng = random.Random(seed)
    qids = sorted(positives)[:n_queries]
    items = []
    for q in qids:
        pos = [d for d in positives[q] if d in corpus.position]
        thoughts = pseudo_thoughts(corpus, pos, k, words, rng)
        items.append(
            QueryItem(q, qtext[q], pos, np.asarray([corpus.position[d] for d in pos]), list(enumerate(thoughts)))
        )
    return corpus, items


def per_query_committee(items: list[QueryItem], retrievers: list, cfg: CommitteeConfig, corpus: CorpusIndex) -> dict:
    """The reference's loop: every (query, candidate, member) is a separate model call.

    Returns:
        ``(winner per query, model-call seconds per member)``.
    """
    winners = {}
    seconds = dict.fromkeys((r.name for r in retrievers), 0.0)
    for it in items:
        strings = [cfg.search_query(it.text, None)] + [cfg.search_query(it.text, t) for _, t in it.candidates]
        ranks = np.zeros((len(retrievers), len(strings)))
        scores = np.zeros_like(ranks)
        tops = []
        for m, r in enumerate(retrievers):
            member_tops = []
            for s, string in enumerate(strings):
                t0 = time.perf_counter()
                row = r.score([string])  # (1, n_docs): one model call per candidate
                seconds[r.name] += time.perf_counter() - t0
                pr = rank_of(np.repeat(row, len(it.positives), axis=0), it.positives)
                best = int(np.argmin(pr))
                ranks[m, s], scores[m, s] = pr[best], row[0, it.positives[best]]
                member_tops.append(top_k(row, cfg.negatives_depth)[1][0])
            tops.append(member_tops)
        cand_idx = np.asarray([c for c, _ in it.candidates])
        res = vote(ranks[:, 1:], scores[:, 1:], ranks[:, 0], cand_idx, cfg.vote)
        chosen = 1 + res.winner_pos if res.beats_query else 0
        hard_negatives(
            [t[chosen] for t in tops],
            set(it.positives.tolist()),
            cfg.negatives_skip,
            cfg.negatives_count,
            cfg.rrf_k,
        )
        winners[it.query_id] = res.winner
    return winners, seconds


def dense_floor(retrievers: list, strings: list[str]) -> dict[str, tuple[float, float]]:
    """Per dense member, encoding alone: ms per string one string per call, and ms per string in one batched call.

    The ratio bounds what batching can buy for that member on this machine (no search, no Python around it).
    """
    out = {}
    for r in retrievers:
        if not hasattr(r, "encode"):
            continue
        r.encode(strings[:2])  # warm-up
        t0 = time.perf_counter()
        for x in strings:
            r.encode([x])
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        r.encode(strings)
        out[r.name] = (1000 * one / len(strings), 1000 * (time.perf_counter() - t0) / len(strings))
    return out


def bm25_engines(corpus: CorpusIndex, strings: list[str]) -> tuple[float, float]:
    """Seconds per 1,000 full-corpus searches: rank-bm25 (per query) and bm25s (batched)."""
    out = []
    for kind in ("rank_bm25", "bm25s"):
        r = RetrieverSpec(kind=kind).build()
        r.fit(corpus.doc_ids, corpus.texts)
        r.score(strings[:2])  # warm-up (tokenizer, stemmer)
        t0 = time.perf_counter()
        r.score(strings)
        out.append(1000 * (time.perf_counter() - t0) / len(strings))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=334, help="SciFact train queries (334 x 3 = 1,002 candidates)")
    ap.add_argument("--per-query", action="store_true", help="also time the reference's per-query committee")
    ap.add_argument("--k", type=int, default=3, help="candidates per query")
    ap.add_argument("--words", type=int, default=80, help="words per pseudo thought")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray actors (the committee as the flow runs it)")
    ap.add_argument("--llm-seconds-per-1000", type=float, default=None, help="LLM seconds per 1,000 candidates")
    ap.add_argument("--bm25-searches", type=int, default=100, help="searches for the rank-bm25 vs bm25s figure")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(args.threads)
    corpus, items = build_items(args.queries, args.k, args.words, args.seed)
    n_cands = sum(len(it.candidates) for it in items)
    cfg = CommitteeConfig(use_ray=False)
    t0 = time.perf_counter()
    members = LocalMembers.start(cfg, corpus.doc_ids, corpus.texts)
    print(
        f"members {members.names} fitted in {time.perf_counter() - t0:.1f}s "
        f"(dense cache hit: {[i.get('embedding_cache_hit') for i in members.info()]})"
    )
    # warm-up (first calls allocate)
    judge_items(items[:2], members, cfg, corpus, "warmup")

    t0 = time.perf_counter()
    batched = judge_items(items, members, cfg, corpus, "bench")
    t_batched = time.perf_counter() - t0
    # The physical limit: each member scores the same strings in one call, nothing around it.
    all_strings = [
        s
        for it in items
        for s in [cfg.search_query(it.text, None)] + [cfg.search_query(it.text, t) for _, t in it.candidates]
    ]
    floor = {}
    for r in members.retrievers:
        t0 = time.perf_counter()
        r.score(all_strings)  # (strings, n_docs)
        floor[r.name] = time.perf_counter() - t0
    t_floor = sum(floor.values())
    print(f"queries={len(items)} candidates={n_cands} strings={len(all_strings)} threads={args.threads}")
    print(f"batched committee: {t_batched:.2f}s  member seconds {batched.member_seconds}")
    print(f"members' own encoding + search of the same strings: {t_floor:.2f}s {floor}")
    t_ref = None
    if args.per_query:
        per_query_committee(items[:2], members.retrievers, cfg, corpus)
        t0 = time.perf_counter()
        ref_winners, ref_member_seconds = per_query_committee(items, members.retrievers, cfg, corpus)
        t_ref = time.perf_counter() - t0
        got = dict(
            zip(
                batched.examples["query_id"].to_pylist(),
                batched.examples["winner_idx"].to_pylist(),
                strict=True,
            )
        )
        same = sum(got[q] == w for q, w in ref_winners.items())
        print(f"same winners (batched vs per-query): {same}/{len(items)}")
        print(f"per-query committee: {t_ref:.2f}s  member seconds {ref_member_seconds}")
    strings = [cfg.search_query(it.text, t) for it in items for _, t in it.candidates]  # query + thought
    sample = strings[:100]
    for name, (one, batched_ms) in dense_floor(members.retrievers, sample).items():
        print(
            f"member {name}, encoding alone over {len(sample)} search queries: {one:.1f} ms per string one per call, "
            f"{batched_ms:.1f} ms per string batched ({one / batched_ms:.2f}x: the most batching can buy here)"
        )
    per_1000 = 1000 * t_batched / n_cands
    print(f"in-process batched seconds per 1,000 candidates: {per_1000:.2f}")
    in_proc = dict(
        zip(batched.examples["query_id"].to_pylist(), batched.examples["winner_idx"].to_pylist(), strict=True)
    )
    t_ray = None
    if not args.no_ray:
        from o1embed.tasks.ray_runtime import init_ray

        init_ray()
        t0 = time.perf_counter()
        rm = RayMembers.start(cfg.model_copy(update={"use_ray": True}), corpus.doc_ids, corpus.texts)
        t_start = time.perf_counter() - t0
        judge_items(items[:2], rm, cfg, corpus, "warmup")
        t0 = time.perf_counter()
        by_ray = judge_items(items, rm, cfg, corpus, "bench")
        t_ray = time.perf_counter() - t0
        rm.stop()
        ray_w = dict(
            zip(
                by_ray.examples["query_id"].to_pylist(),
                by_ray.examples["winner_idx"].to_pylist(),
                strict=True,
            )
        )
        print(
            f"ray actors: start {t_start:.1f}s (once per run), judge {t_ray:.2f}s, same winners as in-process "
            f"{sum(ray_w[q] == got_w for q, got_w in in_proc.items())}/{len(items)}"
        )
        print(f"committee_seconds_per_1000_candidates={1000 * t_ray / n_cands:.2f} (Ray actors)")
    rank_bm25_s, bm25s_s = bm25_engines(corpus, strings[: args.bm25_searches])
    print(
        f"bm25 engines, seconds per 1,000 full-corpus searches: rank-bm25 {rank_bm25_s:.1f}, bm25s {bm25s_s:.3f} "
        f"({rank_bm25_s / bm25s_s:.0f}x)"
    )
    if args.llm_seconds_per_1000:
        print(
            f"llm_seconds_per_1000_candidates={args.llm_seconds_per_1000:.1f} "
            f"committee/llm={1000 * (t_ray or t_batched) / n_cands / args.llm_seconds_per_1000:.4f}"
        )
    else:
        print("llm_seconds_per_1000_candidates=not measured here (pass --llm-seconds-per-1000)")
    print(f"cpu_count={os.cpu_count()}")
    if t_ref is not None:
        print(f"committee_speedup={t_ref / t_batched:.2f} (per-query / batched; same model work on a CPU)")
    print(f"committee_overhead={t_batched / t_floor:.3f}")


if __name__ == "__main__":
    main()
