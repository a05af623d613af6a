"""Benchmark: how the synthesize path's time and memory grow with queries and with the corpus.

Synthetic BEIR folders (a fixed seeded vocabulary, Zipf word frequencies, one positive per query whose words are
drawn from it) go through the REAL ``synthesize`` flow: Prefect, Ray tasks per shard, Parquet shards, the committee
in Ray actors with BM25 (bm25s) and a small dense member, examples and manifest. The expert is the fake
OpenAI-compatible server with zero latency (the LLM's own cost is not measured here: ``bench/synth_throughput.py``
and the token accounting cover it). The dense member is a tiny RANDOMLY INITIALISED sentence-transformers model
(2 layers, 32 dims, MiniLM's tokenizer) built on the fly in the data root: cost, not quality, is measured.

Points (queries x documents): the query series 1k, 10k, 100k queries over 100k documents; the corpus series 10k,
100k, 1M documents with 10k queries (shared point 10k x 100k). Corpora above ``--pool-from`` documents are judged
in a pool (``pool_top_n``: the member's top-N of the query-only search joined with the positives); that top-N
search is approximate unless ``--exact-pools``: BM25 over an index pruned to ``--search-postings`` postings per
term, the dense member through an IVF index of ~4 sqrt(n) lists read ``--nprobe`` at a time
(``bench/pool_search.py`` measures both against the exact search).

Each point runs in its own process (so peak RSS is that point's): wall seconds per stage (ingest: load, version,
snapshots; expert requests: the shards; committee fit: members start and index the corpus; committee: judging
shards; examples: finalize, stats, report, manifest), peak RSS of the driver, in all and per stage (``VmHWM``,
read and reset at every stage boundary, first when the clock starts, so the synthetic folder's generation before
it does not count) and of the Ray workers (sampled with psutil every 0.5 s: the largest worker and the largest
sum).

Run::

    nice -n 10 python bench/scale.py --points small          # quick check (seconds to minutes)
    nice -n 10 python bench/scale.py --points full           # the issue's points (hours on 2 cores)
    python bench/scale.py --table-only                       # rebuild the table from finished points
    nice -n 10 python bench/scale.py --points full --resume  # skip the points this code already measured
    nice -n 10 python bench/scale.py --points full --point 10000:100000   # one point of the series (repeatable)

``--resume`` makes the hours-long full series runnable in pieces (one point per process, so a stop loses at most
the point in flight): a point is skipped when ``points.jsonl`` holds a run of it from the same code (the git tree
ids of ``flows``, ``tasks`` and this file, with no uncommitted change to them) and the same settings.

Results: ``docs/results/scale/points.jsonl`` (one line per finished point, appended) and
``docs/results/scale/table-<points>.md``. Last lines: ``time_exponent_corpus=``,
``driver_mem_ratio_100k_vs_10k_queries=``, and LAST ``time_exponent_queries=`` (slope of log total seconds against
log queries; target <= 1.1). ``small`` uses 500/1k/2k queries over 10k documents and 5k/10k/20k documents with 1k
queries, so its figures are labelled with those sizes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from o1embed.tasks.retrievers.spec import LATER_SPEC_FIELDS
from o1embed.tasks.testing.tiny_models import build_tiny_dense_model

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "docs" / "results" / "scale"

POINTS = {
    # name: [(queries, docs), ...]; the query series first, then the corpus series
    "full": {
        "queries": [(1_000, 100_000), (10_000, 100_000), (100_000, 100_000)],
        "corpus": [(10_000, 10_000), (10_000, 100_000), (10_000, 1_000_000)],
    },
    "small": {
        "queries": [(500, 10_000), (1_000, 10_000), (2_000, 10_000)],
        "corpus": [(1_000, 5_000), (1_000, 10_000), (1_000, 20_000)],
    },
}


# ---- synthetic BEIR -------------------------------------------------------------------------------------------
def vocabulary(size: int, seed: int) -> np.ndarray:
    """``size`` distinct pseudo-words (3-9 letters), fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words: set[str] = set()
    while len(words) < size:
        n = rng.integers(3, 10)
        words.add("".join(rng.choice(letters, n)))
    return np.array(sorted(words), dtype=object)


def make_synthetic_beir(folder: Path, n_queries: int, n_docs: int, seed: int = 0, vocab: int = 30_000) -> Path:
    """Write a BEIR folder: Zipf-distributed words (exponent 1.07), docs of 30-80 words, queries of 8 words.

    Each query has one positive document; six of its words come from that document, two from the Zipf law.
    Written once per (queries, docs, seed) and reused (``.done`` marks a complete folder).
    """
    if (folder / ".done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qrels").mkdir(exist_ok=True)
    words = vocabulary(vocab, seed)
    p = 1.0 / np.arange(1, vocab + 1) ** 1.07
    p /= p.sum()
    rng = np.random.default_rng(seed + 1)
    doc_words: dict[int, list[str]] = {}
    positives = rng.integers(0, n_docs, n_queries)
    wanted = set(positives.tolist())
    with open(folder / "corpus.jsonl", "w") as f:
        for start in range(0, n_docs, 50_000):
            n = min(50_000, n_docs - start)
            lengths = rng.integers(30, 81, n)
            ids = rng.choice(vocab, size=int(lengths.sum()), p=p)
            toks = words[ids]
            ends = np.cumsum(lengths)
            lines = []
            for i in range(n):
                w = toks[ends[i] - lengths[i] : ends[i]]
                d = start + i
                if d in wanted:
                    doc_words[d] = list(w)
                lines.append(json.dumps({"_id": f"d{d:07d}", "title": "", "text": " ".join(w)}))
            f.write("\n".join(lines) + "\n")
    with open(folder / "queries.jsonl", "w") as fq, open(folder / "qrels" / "train.tsv", "w") as fr:
        fr.write("query-id\tcorpus-id\tscore\n")
        extra = words[rng.choice(vocab, size=2 * n_queries, p=p)]
        for q, d in enumerate(positives.tolist()):
            own = rng.choice(doc_words[d], 6, replace=False)
            text = " ".join([*own, *extra[2 * q : 2 * q + 2]])
            fq.write(json.dumps({"_id": f"q{q:07d}", "text": text}) + "\n")
            fr.write(f"q{q:07d}\td{d:07d}\t1\n")
    (folder / ".done").write_text("ok")
    return folder


def ivf_index(n_docs: int) -> str:
    """The dense member's pool-search index for a corpus: an inverted file of about 4 * sqrt(n) k-means lists."""
    return f"IVF{round(4 * n_docs**0.5)},Flat"


def tiny_dense_model(folder: Path) -> str:
    """A random-initialised 2-layer, 32-dim BERT with MiniLM's tokenizer, 512 positions (cost, not quality)."""
    return build_tiny_dense_model(folder, max_positions=512, initializer_range=0.02)


# ---- measuring one point --------------------------------------------------------------------------------------
class RaySampler(threading.Thread):
    """Samples the RSS of Ray worker processes (titles ``ray::...``) every ``period`` seconds."""

    def __init__(self, period: float = 0.5):
        super().__init__(daemon=True)
        self.period, self.stop_flag = period, threading.Event()
        self.peak_worker, self.peak_sum = 0, 0

    def run(self) -> None:
        import psutil

        while not self.stop_flag.is_set():
            total = 0
            for proc in psutil.process_iter(["name", "cmdline", "memory_info", "uids"]):
                try:
                    if proc.info["uids"].real != os.getuid():
                        continue
                    title = " ".join(proc.info["cmdline"] or []) or proc.info["name"] or ""
                    if title.startswith("ray::"):
                        rss = proc.info["memory_info"].rss
                        total += rss
                        self.peak_worker = max(self.peak_worker, rss)
                except (psutil.Error, AttributeError, TypeError):
                    continue
            self.peak_sum = max(self.peak_sum, total)
            self.stop_flag.wait(self.period)


def reset_peak_rss() -> None:
    """Reset this process's peak resident set size (``ru_maxrss``, ``VmHWM``) to its current size (Linux >= 4.0:
    ``5`` written to ``/proc/self/clear_refs``), so the peak read later is that of what ran since."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """This process's peak resident set size since the last :func:`reset_peak_rss` (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


class Stages:
    """Wall seconds and the driver's peak memory per stage, by wrapping the functions the flows call (bench
    instrumentation only).

    Memory: the peak is read and reset (:func:`reset_peak_rss`) at every stage boundary, so each stage gets the
    peak of its own span, what runs between wrapped stages (judging the shards, flow glue) is booked to
    ``committee``, and :attr:`overall_mb` is the maximum over all spans: the whole run's peak.
    """

    between = "committee"

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self.overall_mb = 0.0

    def close_span(self, stage: str) -> None:
        """Book the peak since the last boundary to ``stage`` and reset it."""
        peak = peak_rss_mb()
        self.peak_mb[stage] = max(self.peak_mb.get(stage, 0.0), peak)
        self.overall_mb = max(self.overall_mb, peak)
        reset_peak_rss()

    def wrap(self, module, name: str, stage: str) -> None:
        fn = getattr(module, name)

        def timed(*a, **kw):
            self.close_span(self.between)
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0
                self.close_span(stage)

        setattr(module, name, timed)


def collect_judged_shards(stage_module) -> list:
    """Wrap the committee's ``run_shard`` so every shard's :class:`JudgedShard` (its member seconds) is kept."""
    judged: list = []
    fn = stage_module.run_shard

    def kept(*a, **kw):
        out = fn(*a, **kw)
        judged.append(out)
        return out

    stage_module.run_shard = kept
    return judged


def run_point(n_queries: int, n_docs: int, args) -> dict:
    """Run one point in this process and return its figures."""
    root = Path(args.data_root)
    src = make_synthetic_beir(root / "beir" / f"q{n_queries}-d{n_docs}-s{args.seed}", n_queries, n_docs, args.seed)
    model = tiny_dense_model(root / "tiny-dense")
    out_dir = root / "runs" / f"q{n_queries}-d{n_docs}"
    if out_dir.exists():
        import shutil

        shutil.rmtree(out_dir)

    import o1embed.flows.synthesize as fs
    import o1embed.tasks.committee.stage as fc  # the committee flow's work lives here
    from o1embed.tasks.committee.config import CommitteeConfig
    from o1embed.tasks.ray_runtime import init_ray
    from o1embed.tasks.retrievers.spec import RetrieverSpec
    from o1embed.tasks.synthesis import SynthesisConfig
    from o1embed.tasks.testing.server_process import fake_openai_server

    stages = Stages()
    stages.wrap(fs, "prepare_version", "ingest")
    stages.wrap(fs, "write_snapshots", "ingest")
    stages.wrap(fs, "_run_shards", "expert_requests")
    stages.wrap(fc, "start_members", "committee_fit")
    stages.wrap(fc, "load_inputs", "committee_fit")
    stages.wrap(fc, "finalize", "examples")
    judged = collect_judged_shards(fc)
    init_ray()
    from prefect import flow

    flow(name="scale-warm-up")(lambda: None)()  # the ephemeral Prefect API starts before the clock
    sampler = RaySampler()
    sampler.start()
    pool = args.pool_top_n if n_docs > args.pool_from else None
    approximate = pool is not None and not args.exact_pools
    committee = CommitteeConfig(
        members=[
            RetrieverSpec(kind="bm25s", name="bm25", search_postings=args.search_postings if approximate else None),
            RetrieverSpec(
                kind="dense",
                name="tiny-random",
                model_path=model,
                cache=True,  # written on a miss, so bench/pool_search.py reuses the corpus vectors; hits are recorded
                num_threads=1,
                search_index=ivf_index(n_docs) if approximate else None,
                search_index_params=f"nprobe={args.nprobe}" if approximate else "",
            ),
        ],
        pool_top_n=pool,
    )
    with fake_openai_server(latency=0.0) as url:
        cfg = SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(out_dir),
            use_cache=False,
            candidates_per_query=args.k,
            shard_size=args.shard_size,
            parallel_shards=args.parallel_shards,
            prompt={"demo_policy": args.demo_policy},
            llm={"base_url": url, "model": "fake-expert", "concurrency": args.concurrency},
        )
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        reset_peak_rss()  # the driver's peak from here: the pipeline's, not the synthetic data's generation
        t0 = time.perf_counter()
        res = fs.synthesize(cfg, committee=committee, judge=True)
        total = time.perf_counter() - t0
        stages.close_span(stages.between)
    sampler.stop_flag.set()
    sampler.join(2)
    sec = stages.seconds
    committee_total = total - sum(sec.values())  # what the wrapped stages leave: judging shards (+ flow glue)
    sec["committee"] = max(0.0, committee_total)
    cands = res.tables.get("candidates", 0)
    from o1embed.tasks.shards import DatasetVersion

    manifest = DatasetVersion(out_dir, res.dataset, res.split, res.version).manifest_model()
    dense_hit = [m.get("embedding_cache_hit") for m in manifest.committee.members if "embedding_cache_hit" in m]
    point = {
        "queries": n_queries,
        "docs": n_docs,
        "k": args.k,
        "pool_top_n": pool,
        "pool_search": [m.model_dump(include=set(LATER_SPEC_FIELDS)) for m in committee.members] if pool else None,
        "demo_policy": args.demo_policy,
        "candidates": cands,
        "examples": res.tables.get("examples", 0),
        "total_s": round(total, 2),
        **{f"{k}_s": round(v, 2) for k, v in sec.items()},
        "committee_s_per_1000_candidates": round(1000 * sec["committee"] / max(cands, 1), 3),
        "driver_peak_rss_mb": round(stages.overall_mb, 1),
        **{f"driver_peak_{k}_mb": round(v, 1) for k, v in stages.peak_mb.items()},
        "ray_worker_peak_rss_mb": round(sampler.peak_worker / 2**20, 1),
        "ray_workers_peak_sum_rss_mb": round(sampler.peak_sum / 2**20, 1),
        "dense_member": "tiny randomly initialised BERT (2 layers, 32 dims), built on the fly",
        "dense_cache_hit": dense_hit[0] if dense_hit else None,  # True: committee_fit read the corpus vectors
        # busy seconds of each member's actor (judge_batch, summed over batches), and the shards' own seconds
        # summed: against committee_s they show whether the actors or the driver bound judging
        "member_s": {
            m["name"]: round(sum(j.member_seconds.get(m["name"], 0.0) for j in judged), 2)
            for m in manifest.committee.members
        },
        "shards_s": round(sum(j.seconds for j in judged), 2),
        "started": started,
    }
    if not args.keep_outputs:
        import shutil

        shutil.rmtree(out_dir, ignore_errors=True)
    return point


# ---- the table and the exponents -----------------------------------------------------------------------------
def short(n: int) -> str:
    """100000 -> '100k', 1000000 -> '1M' (the names of the closing figures)."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = np.log(xs), np.log(ys)
    return float(np.polyfit(lx, ly, 1)[0])


def summarise(points: list[dict], series: dict, label: str, command: str) -> tuple[list[str], list[str]]:
    by = {(p["queries"], p["docs"]): p for p in points}
    cols = [
        "queries", "docs", "pool_top_n", "candidates", "total_s", "ingest_s", "expert_requests_s", "committee_fit_s",
        "committee_s", "examples_s", "committee_s_per_1000_candidates", "driver_peak_rss_mb",
        *(f"driver_peak_{st}_mb" for st in ("ingest", "expert_requests", "committee_fit", "committee", "examples")),
        "ray_worker_peak_rss_mb", "ray_workers_peak_sum_rss_mb",
    ]  # fmt: skip
    lines = [
        f"# bench/scale.py, points `{label}`",
        "",
        f"Command: `{command}`. Machine: {os.cpu_count()} cores (shared with other jobs), no GPU. Expert: the fake",
        "OpenAI server at zero latency; dense member: a tiny randomly initialised BERT (cost, not quality).",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for key in dict.fromkeys([*series["queries"], *series["corpus"]]):  # the shared point once
        if key in by:
            lines.append("| " + " | ".join(str(by[key].get(c, "")) for c in cols) + " |")
    figures = []
    q = [by[k] for k in series["queries"] if k in by]
    c = [by[k] for k in series["corpus"] if k in by]
    stages = ["ingest_s", "expert_requests_s", "committee_fit_s", "committee_s", "examples_s"]
    for ser, x in ((q, "queries"), (c, "docs")):
        if len(ser) >= 2:
            per = {st: slope([p[x] for p in ser], [max(p[st], 1e-3) for p in ser]) for st in stages}
            lines += [
                "",
                f"Per-stage exponents against {x}: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()),
            ]
    if len(c) >= 2:
        figures.append(f"time_exponent_corpus={slope([p['docs'] for p in c], [p['total_s'] for p in c]):.3f}")
        lo, hi = c[0], c[-1]
        figures.append(
            f"committee_s_per_1000_candidates_ratio_{short(hi['docs'])}_vs_{short(lo['docs'])}_docs="
            f"{hi['committee_s_per_1000_candidates'] / lo['committee_s_per_1000_candidates']:.3f}"
        )
    if len(q) >= 2:
        a, b = q[-2], q[-1]
        figures.append(
            f"driver_mem_ratio_{short(b['queries'])}_vs_{short(a['queries'])}_queries="
            f"{b['driver_peak_rss_mb'] / a['driver_peak_rss_mb']:.3f}"
        )
        figures.append(f"time_exponent_queries={slope([p['queries'] for p in q], [p['total_s'] for p in q]):.3f}")
    lines += ["", "```", *figures, "```"]
    return lines, figures


def code_id() -> str:
    """The git tree ids of what a point measures (``flows``, ``tasks``, this file); ``-dirty`` when edited."""
    here = Path(__file__).resolve().parent.parent
    paths = ["flows", "tasks", "bench/scale.py"]
    git = ["git", "-C", str(here)]
    trees = subprocess.run([*git, "rev-parse", *(f"HEAD:{p}" for p in paths)], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", *paths], capture_output=True, text=True).stdout
    if trees.returncode:
        return "unknown"
    return ",".join(t[:12] for t in trees.stdout.split()) + ("-dirty" if dirty.strip() else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", choices=sorted(POINTS), default="small")
    ap.add_argument("--only", default=None, help="run one point 'QUERIES:DOCS' in this process (internal)")
    ap.add_argument("--table-only", action="store_true", help="rebuild the table from points.jsonl")
    ap.add_argument("--resume", action="store_true", help="skip points measured by this code with these settings")
    ap.add_argument("--point", action="append", default=None, help="run only this point 'QUERIES:DOCS' (repeatable)")
    ap.add_argument("--data-root", default=None, help="default: $O1EMBED_DATA/bench-scale")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--shard-size", type=int, default=1000)
    ap.add_argument("--parallel-shards", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--demo-policy", default="per_query", choices=["per_candidate", "per_query"])
    ap.add_argument("--pool-from", type=int, default=50_000, help="pool judging above this many documents")
    ap.add_argument("--pool-top-n", type=int, default=1000)
    ap.add_argument("--exact-pools", action="store_true", help="pool searches exact (else approximate, below)")
    ap.add_argument("--search-postings", type=int, default=4000, help="BM25's pool search: postings kept per term")
    ap.add_argument("--nprobe", type=int, default=128, help="dense pool search: IVF lists read per query")
    ap.add_argument("--keep-outputs", action="store_true")
    ap.add_argument("--results", default=str(RESULTS), help="folder of points.jsonl and the tables")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_worker_niceness", "0")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from o1embed.tasks.paths import data_root

    args.data_root = args.data_root or str(data_root() / "bench-scale")
    if args.only:
        nq, nd = (int(x) for x in args.only.split(":"))
        print("POINT " + json.dumps(run_point(nq, nd, args)), flush=True)
        return

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    store = results / "points.jsonl"
    series = POINTS[args.points]
    # Cheapest first, so a run cut short still gives both series a slope.
    wanted = sorted(dict.fromkeys([*series["queries"], *series["corpus"]]), key=lambda p: 3 * p[0] + p[1])
    command = "nice -n 10 python bench/scale.py --points " + args.points
    code = code_id()
    settings = {k: getattr(args, k) for k in ("seed", "k", "shard_size", "parallel_shards", "concurrency")}
    settings |= {k: getattr(args, k) for k in ("demo_policy", "pool_from", "pool_top_n")}
    if not args.exact_pools:  # (settings before approximate pool searches hold none of these keys)
        settings |= {k: getattr(args, k) for k in ("search_postings", "nprobe")}
    stored = [json.loads(x) for x in store.read_text().splitlines()] if store.exists() else []
    done = {
        (p["queries"], p["docs"])
        for p in stored
        if p.get("points") == args.points and p.get("code") == code and p.get("settings") == settings
    }
    chosen = wanted
    if args.point:
        chosen = [tuple(int(x) for x in p.split(":")) for p in args.point]
        if unknown := [p for p in chosen if p not in wanted]:
            raise SystemExit(f"--point {unknown}: not a point of --points {args.points} ({wanted})")
    if not args.table_only:
        for nq, nd in chosen:
            if args.resume and not code.endswith("-dirty") and (nq, nd) in done:
                print(f"point {nq} queries x {nd} docs: measured by this code ({code}), skipped", flush=True)
                continue
            cmd = [sys.executable, __file__, "--only", f"{nq}:{nd}", "--data-root", args.data_root]
            cmd += ["--seed", str(args.seed), "--k", str(args.k), "--shard-size", str(args.shard_size)]
            cmd += ["--parallel-shards", str(args.parallel_shards), "--concurrency", str(args.concurrency)]
            cmd += ["--demo-policy", args.demo_policy, "--pool-from", str(args.pool_from)]
            cmd += ["--pool-top-n", str(args.pool_top_n), "--search-postings", str(args.search_postings)]
            cmd += ["--nprobe", str(args.nprobe)] + (["--exact-pools"] if args.exact_pools else [])
            t0 = time.time()
            # Files, not pipes: a child's leftover processes (Ray, servers) must not hold this loop open.
            log_path = Path(args.data_root) / "logs" / f"point-q{nq}-d{nd}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "w") as log_file:
                proc = subprocess.run(cmd, stdout=log_file, stderr=subprocess.STDOUT, text=True)
            lines = [x for x in log_path.read_text().splitlines() if x.startswith("POINT ")]
            if proc.returncode or not lines:
                print(f"point {nq}x{nd} failed (rc {proc.returncode}); log {log_path}", flush=True)
                continue
            point = json.loads(lines[-1][6:])
            point |= {"points": args.points, "code": code, "settings": settings}
            with open(store, "a") as f:
                f.write(json.dumps(point) + "\n")
            print(f"point {nq} queries x {nd} docs: {time.time() - t0:.0f}s {point}", flush=True)
    points = [json.loads(x) for x in store.read_text().splitlines()] if store.exists() else []
    latest: dict = {}
    for p in points:
        if (p["queries"], p["docs"]) in wanted and p.get("points") == args.points:
            latest[(p["queries"], p["docs"])] = p  # the newest run of each point
    table, figures = summarise(list(latest.values()), series, args.points, command)
    (results / f"table-{args.points}.md").write_text("\n".join(table) + "\n")
    print("\n".join(table[: -len(figures) - 2]))
    for f in figures:
        print(f)


if __name__ == "__main__":
    main()
