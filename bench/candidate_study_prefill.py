"""Fill the LLM response cache for the candidate study without Ray or Prefect.

On a machine where other jobs run ``ray stop``, a long synthesize flow loses its raylet mid-run. This script makes
the study's expert requests directly (embedded llama.cpp server, the same requests, seeds and cache keys as
``o1embed synthesize``), version by version; the flows of ``bench/candidate_study_run.sh`` then find every
response cached and only judge.

``--servers N`` runs N embedded servers at once, each on llama-cpp-python's default threads, and spreads the
requests over them by query (``generate_across``): on 2 cores two servers answer 1.37x as many requests per second
as one (bench/expert_servers.py, docs/results/expert-threads). The responses are the same: a request's seed and
cache key do not depend on the server that answers it.

Usage:
    python bench/candidate_study_prefill.py 20 multi-k3 paper-k6 multi-k6 [--servers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from o1embed.tasks.ingest import load_beir
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_client import ThoughtGenerator, generate_across
from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig
from o1embed.tasks.synthesis import SynthesisConfig, build_requests, judged_queries

VERSIONS = {
    "paper-k3": (3, ["paper"]),
    "paper-k6": (6, ["paper"]),
    "multi-k3": (3, ["paper", "passage", "keywords"]),
    "multi-k6": (6, ["paper", "passage", "keywords"]),
}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("queries", type=int, help="the first N judged SciFact train queries")
    ap.add_argument("versions", nargs="*", choices=list(VERSIONS), default=list(VERSIONS))
    ap.add_argument("--servers", type=int, default=1, help="embedded servers answering at once")
    args = ap.parse_args()
    ingest = load_beir("data/beir/scifact", "train")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    server_cfg = LlamaServerConfig()
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(LlamaServer(server_cfg)) for _ in range(args.servers)]
        for name in args.versions:
            k, styles = VERSIONS[name]
            cfg = SynthesisConfig(
                dataset_dir="data/beir/scifact",
                max_queries=args.queries,
                candidates_per_query=k,
                shard_size=100,
                prompt={"styles": styles},
                sampling={"max_tokens": 96},
            )
            qids = [q for q, _ in judged_queries(ingest, args.queries)]
            gens = [
                ThoughtGenerator(
                    server.base_url,
                    server_cfg.model_alias,
                    cfg.llm.resolve_api_key(),
                    cfg.sampling,
                    cfg.llm,
                    ResponseCache(cfg.cache_dir),
                )
                for server in servers
            ]
            results = asyncio.run(generate_across(gens, build_requests(qids, tables, cfg)))
            logging.info("%s: %d results, stats %s", name, len(results), [g.stats for g in gens])


if __name__ == "__main__":
    main()
