"""Benchmark: the committee's pool search on a large corpus, exact against approximate, per member.

Pooled judging (``CommitteeConfig.pool_top_n``) ranks each training query's candidates in a pool: the member's
top-N for the bare query joined with the positives. On a large corpus that one whole-corpus search per query is
the stage's cost (``bench/scale.py``: judging at 1M documents was 10x its cost per candidate at 10k). The members
can search approximately instead: BM25 over a statically pruned, impact-ordered index (``search_postings``: each
term keeps its N highest-scoring documents) and a dense member through a FAISS index (``search_index``, e.g. an
inverted file). Both keep exact scores inside the pool, so only the pool's membership is approximate.

On the synthetic BEIR folder of ``bench/scale.py`` (Zipf words, seeded) with its tiny randomly initialised dense
member (cost, not quality), this measures for each member, over the same bare queries: seconds per 1,000 queries
exact and approximate, and the recall of the approximate pool (the share of the exact top-N it holds), and
whether each query's positive was in the exact and in the approximate top-N.

Run::

    nice -n 10 python bench/pool_search.py --docs 1000000 --queries 512

Last lines: ``<member>_pool_recall=<mean share of the exact top-N>`` per member, then LAST
``pool_search_speedup=<exact seconds / approximate seconds, both members together>``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench script below

from scale import make_synthetic_beir, tiny_dense_model  # noqa: E402

from o1embed.tasks.retrievers.spec import RetrieverSpec  # noqa: E402


def load(folder: Path, n_queries: int) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Corpus ids and texts, the first ``n_queries`` query texts and their positives' corpus positions."""
    ids, texts = [], []
    with open(folder / "corpus.jsonl") as f:
        for line in f:
            d = json.loads(line)
            ids.append(d["_id"])
            texts.append(d["text"])
    with open(folder / "queries.jsonl") as f:
        queries = [json.loads(line)["text"] for line in itertools.islice(f, n_queries)]
    where = {d: i for i, d in enumerate(ids)}
    with open(folder / "qrels" / "train.tsv") as f:
        pos = [where[line.split("\t")[1]] for line in itertools.islice(f, 1, n_queries + 1)]
    return ids, texts, queries, np.asarray(pos)


def timed_search(retriever, queries: list[str], k: int, batch: int) -> tuple[np.ndarray, float]:
    """Top-``k`` columns ``(n, k)`` in batches of ``batch`` queries (as the committee calls it), and seconds."""
    t0 = time.perf_counter()
    cols = [retriever.search(queries[i : i + batch], k)[1] for i in range(0, len(queries), batch)]
    return np.concatenate(cols), time.perf_counter() - t0


def compare(exact_spec: RetrieverSpec, approx_spec: RetrieverSpec, ids, texts, queries, pos, args) -> dict:
    """Fit both, search the same queries, return seconds, recall and positives found."""
    out: dict = {"member": exact_spec.member_name}
    found = {}
    for label, spec in (("exact", exact_spec), ("approximate", approx_spec)):
        r = spec.build()
        t0 = time.perf_counter()
        r.fit(ids, texts)
        out[f"{label}_fit_s"] = round(time.perf_counter() - t0, 1)
        r.search(queries[: args.batch], args.pool_top_n)  # warm-up (lazy indexes, threads)
        found[label], secs = timed_search(r, queries, args.pool_top_n, args.batch)
        out[f"{label}_s_per_1000_queries"] = round(1000 * secs / len(queries), 2)
        out[f"{label}_positive_in_pool"] = int(sum(p in row for p, row in zip(pos, found[label], strict=True)))
        del r
    recall = [
        len(np.intersect1d(a[a >= 0], e)) / len(e) for a, e in zip(found["approximate"], found["exact"], strict=True)
    ]
    out["pool_recall"] = round(float(np.mean(recall)), 4)
    out["pool_recall_p10"] = round(float(np.percentile(recall, 10)), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=512, help="bare queries searched (the first of the folder's)")
    ap.add_argument("--folder-queries", type=int, default=10_000, help="the synthetic folder's size in queries")
    ap.add_argument("--pool-top-n", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=64, help="queries per search call (the committee's batch)")
    ap.add_argument("--search-postings", type=int, default=4000)
    ap.add_argument("--search-index", default="IVF4000,Flat")
    ap.add_argument("--search-index-params", default="nprobe=128")
    ap.add_argument("--members", default="bm25,dense", help="which members to measure (comma-separated)")
    ap.add_argument("--threads", type=int, default=1, help="torch and FAISS threads of the dense member")
    ap.add_argument("--data-root", default=None, help="default: $O1EMBED_DATA/bench-scale (shared with scale.py)")
    ap.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()
    from o1embed.tasks.paths import data_root

    root = Path(args.data_root) if args.data_root else data_root() / "bench-scale"
    folder = make_synthetic_beir(
        root / "beir" / f"q{args.folder_queries}-d{args.docs}-s0", args.folder_queries, args.docs
    )
    model = tiny_dense_model(root / "tiny-dense")
    ids, texts, queries, pos = load(folder, args.queries)
    bm25 = RetrieverSpec(kind="bm25s", name="bm25")
    dense = RetrieverSpec(kind="dense", name="tiny-random", model_path=model, cache=True, num_threads=args.threads)
    approximate = {
        "bm25": (bm25, bm25.model_copy(update={"search_postings": args.search_postings})),
        "dense": (
            dense,
            dense.model_copy(
                update={"search_index": args.search_index, "search_index_params": args.search_index_params}
            ),
        ),
    }
    rows = [compare(*approximate[m], ids, texts, queries, pos, args) for m in args.members.split(",")]
    settings = {k: getattr(args, k) for k in ("docs", "queries", "pool_top_n", "batch", "search_postings", "threads")}
    settings |= {"search_index": args.search_index, "search_index_params": args.search_index_params}
    settings["members"] = args.members
    print(json.dumps(settings))
    print("| member | exact s / 1k queries | approximate s / 1k queries | pool recall (mean, p10) | positive in pool "
          "(exact, approximate) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['member']} | {r['exact_s_per_1000_queries']} | {r['approximate_s_per_1000_queries']} | "
            f"{r['pool_recall']}, {r['pool_recall_p10']} | {r['exact_positive_in_pool']}, "
            f"{r['approximate_positive_in_pool']} of {len(queries)} |"
        )
    if args.out:
        Path(args.out).write_text(json.dumps({"settings": settings, "members": rows}, indent=1) + "\n")
    for r in rows:
        print(f"{r['member']}_pool_recall={r['pool_recall']:.4f}")
    exact = sum(r["exact_s_per_1000_queries"] for r in rows)
    approx = sum(r["approximate_s_per_1000_queries"] for r in rows)
    print(f"pool_search_speedup={exact / approx:.2f}")


if __name__ == "__main__":
    main()
