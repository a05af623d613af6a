"""Requests per second of several embedded llama.cpp servers answering at once, against one.

llama-cpp-python's server answers one request at a time and generates on half the cores (one of two here), and
every core on one server measured no faster (bench/expert_threads.py). The alternative is N servers, each on the
default threads, sharing one request list by query (:func:`~o1embed.tasks.llm_client.generate_across`). Both
sides answer the same requests (the synthesis defaults of ``prefect.yaml``'s ``scifact_synthesis``: SciFact train,
the paper's prompt, seeded demos, 96 new tokens at most), with no cache, in alternating rounds in one run.

Run it on an otherwise idle machine (other CPU work skews both sides):
``python bench/expert_servers.py [--first 700] [--queries 4] [--rounds 2] [--servers N]``.
Last line: ``expert_servers_speedup=<seconds per request of one server / of --servers>``.
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


def seconds_per_request(n_servers: int, reqs, cfg: SynthesisConfig) -> float:
    server_cfg = LlamaServerConfig()
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(LlamaServer(server_cfg)) for _ in range(n_servers)]
        gens = [
            ThoughtGenerator(s.base_url, server_cfg.model_alias, cfg.llm.resolve_api_key(), cfg.sampling, cfg.llm)
            for s in servers
        ]
        for g in gens:  # warm-up: model pages, first graph
            asyncio.run(g.generate(reqs[:1]))
        t0 = time.perf_counter()
        results = asyncio.run(generate_across(gens, reqs))
        seconds = time.perf_counter() - t0
    tokens = sum(r.completion_tokens or 0 for r in results if hasattr(r, "completion_tokens"))
    attempts = sum(r.attempts for r in results)
    print(
        f"  servers={n_servers}: {len(results)} results, {attempts} attempts, {tokens} kept tokens, "
        f"{seconds / len(reqs):.2f} s/request, {tokens / seconds:.1f} kept tokens/s"
    )
    return seconds / len(reqs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=700, help="skip the first judged SciFact train queries")
    ap.add_argument("--queries", type=int, default=4, help="SciFact train queries (K requests each)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of both settings")
    ap.add_argument("--servers", type=int, default=multiprocessing.cpu_count(), help="servers of the alternative")
    args = ap.parse_args()
    block = yaml.safe_load((REPO / "prefect.yaml").read_text())["definitions"]["scifact_synthesis"]
    cfg = SynthesisConfig(**{k: v for k, v in block.items() if k in SynthesisConfig.model_fields})
    ingest = load_beir(cfg.dataset_dir, "train")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    qids = [q for q, _ in judged_queries(ingest, args.first + args.queries)][args.first :]
    reqs = build_requests(qids, tables, cfg)
    print(f"{len(reqs)} requests, 1 server against {args.servers}")
    base, ours = [], []
    for r in range(args.rounds):
        print(f"round {r + 1}")
        base.append(seconds_per_request(1, reqs, cfg))
        ours.append(seconds_per_request(args.servers, reqs, cfg))
    b, o = sum(base) / len(base), sum(ours) / len(ours)
    print(f"1 server {b:.2f} s/request, {args.servers} servers: {o:.2f} s/request")
    print(f"expert_servers_speedup={b / o:.3f}")


if __name__ == "__main__":
    main()
