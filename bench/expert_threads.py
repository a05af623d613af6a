"""Seconds per expert request of the embedded llama.cpp server: generation on every core against the default.

``LlamaServerConfig.n_threads=None`` keeps llama-cpp-python's default, half the cores, which on a 2-core machine
leaves generation on one core; ``--threads`` (default: every core) is the alternative. Both servers answer the same
requests (the synthesis defaults of ``prefect.yaml``'s ``scifact_synthesis``: SciFact train, the paper's prompt,
seeded demos, 96 new tokens at most), one at a time as the single-slot server takes them, through
:class:`~o1embed.tasks.llm_client.ThoughtGenerator` with no cache, in alternating rounds in one run.

Run it on an otherwise idle machine (other CPU work skews both sides):
``python bench/expert_threads.py [--queries 2] [--rounds 2] [--threads N]``.
Last line: ``expert_threads_speedup=<seconds per request at the default / with --threads>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from o1embed.tasks.ingest import load_beir  # noqa: E402
from o1embed.tasks.llm_client import ThoughtGenerator, generate_across  # noqa: E402
from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig  # noqa: E402
from o1embed.tasks.synthesis import SynthesisConfig, build_requests, judged_queries  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def synthesis_requests(queries: int, first: int = 0) -> tuple[list, SynthesisConfig]:
    """The requests ``o1embed synthesize`` makes for judged SciFact train queries ``first .. first + queries``
    with ``prefect.yaml``'s ``scifact_synthesis`` settings, and that config."""
    block = yaml.safe_load((REPO / "prefect.yaml").read_text())["definitions"]["scifact_synthesis"]
    cfg = SynthesisConfig(**{k: v for k, v in block.items() if k in SynthesisConfig.model_fields})
    ingest = load_beir(cfg.dataset_dir, "train")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    qids = [q for q, _ in judged_queries(ingest, first + queries)][first:]
    return build_requests(qids, tables, cfg), cfg


def seconds_per_request(reqs, cfg: SynthesisConfig, threads: int | None = None, servers: int = 1) -> float:
    """Seconds per request (wall time / requests) of ``servers`` embedded servers on ``threads`` threads each
    (None: llama-cpp-python's default) answering ``reqs`` with no cache, after one warm-up request each."""
    server_cfg = LlamaServerConfig(n_threads=threads)
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(LlamaServer(server_cfg)) for _ in range(servers)]
        gens = [
            ThoughtGenerator(s.base_url, server_cfg.model_alias, cfg.llm.resolve_api_key(), cfg.sampling, cfg.llm)
            for s in running
        ]
        for g in gens:  # warm-up: model pages, first graph
            asyncio.run(g.generate(reqs[:1]))
        t0 = time.perf_counter()
        results = asyncio.run(generate_across(gens, reqs))
        seconds = time.perf_counter() - t0
    tokens = sum(r.completion_tokens or 0 for r in results if hasattr(r, "completion_tokens"))
    attempts = sum(r.attempts for r in results)
    print(
        f"  servers={servers} n_threads={threads or 'default'}: {len(results)} results, {attempts} attempts, "
        f"{tokens} kept tokens, {seconds / len(reqs):.2f} s/request, {1000 * seconds / max(tokens, 1):.0f} ms/kept "
        f"token"
    )
    return seconds / len(reqs)


def alternating_rounds(rounds: int, reqs, cfg: SynthesisConfig, **alternative) -> tuple[float, float]:
    """Mean seconds per request of the default (one server, default threads) and of ``alternative``
    (:func:`seconds_per_request`'s keywords), measured in alternating rounds."""
    base, ours = [], []
    for r in range(rounds):
        print(f"round {r + 1}")
        base.append(seconds_per_request(reqs, cfg))
        ours.append(seconds_per_request(reqs, cfg, **alternative))
    return sum(base) / len(base), sum(ours) / len(ours)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=2, help="SciFact train queries (K requests each)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of both settings")
    ap.add_argument("--threads", type=int, default=multiprocessing.cpu_count(), help="the alternative to the default")
    args = ap.parse_args()
    reqs, cfg = synthesis_requests(args.queries)
    default = max(multiprocessing.cpu_count() // 2, 1)
    print(f"{len(reqs)} requests, default n_threads={default}, --threads {args.threads}")
    b, o = alternating_rounds(args.rounds, reqs, cfg, threads=args.threads)
    print(f"default {b:.2f} s/request, --threads {args.threads}: {o:.2f} s/request")
    print(f"expert_threads_speedup={b / o:.3f}")


if __name__ == "__main__":
    main()
