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
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from o1embed.tasks.ingest import load_beir  # noqa: E402
from o1embed.tasks.llm_client import ThoughtGenerator  # noqa: E402
from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig  # noqa: E402
from o1embed.tasks.synthesis import SynthesisConfig, build_requests, judged_queries  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def seconds_per_request(threads: int | None, reqs, cfg: SynthesisConfig) -> float:
    server_cfg = LlamaServerConfig(n_threads=threads)
    with LlamaServer(server_cfg) as server:
        gen = ThoughtGenerator(
            server.base_url, server_cfg.model_alias, cfg.llm.resolve_api_key(), cfg.sampling, cfg.llm, None
        )
        asyncio.run(gen.generate(reqs[:1]))  # warm-up: model pages, first graph
        t0 = time.perf_counter()
        results = asyncio.run(gen.generate(reqs))
        seconds = time.perf_counter() - t0
    tokens = sum(r.completion_tokens or 0 for r in results if hasattr(r, "completion_tokens"))
    attempts = sum(r.attempts for r in results)
    print(
        f"  n_threads={threads or 'default'}: {len(results)} results, {attempts} attempts, {tokens} kept tokens, "
        f"{seconds / len(reqs):.2f} s/request, {1000 * seconds / max(tokens, 1):.0f} ms/kept token"
    )
    return seconds / len(reqs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=2, help="SciFact train queries (K requests each)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of both settings")
    ap.add_argument("--threads", type=int, default=multiprocessing.cpu_count(), help="the alternative to the default")
    args = ap.parse_args()
    block = yaml.safe_load((REPO / "prefect.yaml").read_text())["definitions"]["scifact_synthesis"]
    cfg = SynthesisConfig(**{k: v for k, v in block.items() if k in SynthesisConfig.model_fields})
    ingest = load_beir(cfg.dataset_dir, "train")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    reqs = build_requests([q for q, _ in judged_queries(ingest, args.queries)], tables, cfg)
    default = max(multiprocessing.cpu_count() // 2, 1)
    print(f"{len(reqs)} requests, default n_threads={default}, --threads {args.threads}")
    base, ours = [], []
    for r in range(args.rounds):
        print(f"round {r + 1}")
        base.append(seconds_per_request(None, reqs, cfg))
        ours.append(seconds_per_request(args.threads, reqs, cfg))
    b, o = sum(base) / len(base), sum(ours) / len(ours)
    print(f"default {b:.2f} s/request, --threads {args.threads}: {o:.2f} s/request")
    print(f"expert_threads_speedup={b / o:.3f}")


if __name__ == "__main__":
    main()
