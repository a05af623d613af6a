"""Fill the LLM response cache for the candidate study without Ray or Prefect.

On a machine where other jobs run ``ray stop``, a long synthesize flow loses its raylet mid-run. This script makes
the study's expert requests directly (embedded llama.cpp server, the same requests, seeds and cache keys as
``o1embed synthesize``), version by version; the flows of ``bench/candidate_study_run.sh`` then find every
response cached and only judge.

Usage:
    python bench/candidate_study_prefill.py 20 multi-k3 paper-k6 multi-k6
"""

from __future__ import annotations

import asyncio
import logging
import sys

from o1embed.tasks.ingest import load_beir
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_client import ThoughtGenerator
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
    n, names = int(sys.argv[1]), sys.argv[2:] or list(VERSIONS)
    ingest = load_beir("data/beir/scifact", "train")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    server_cfg = LlamaServerConfig()
    with LlamaServer(server_cfg) as server:
        for name in names:
            k, styles = VERSIONS[name]
            cfg = SynthesisConfig(
                dataset_dir="data/beir/scifact",
                max_queries=n,
                candidates_per_query=k,
                shard_size=100,
                prompt={"styles": styles},
                sampling={"max_tokens": 96},
            )
            qids = [q for q, _ in judged_queries(ingest, n)]
            gen = ThoughtGenerator(
                server.base_url,
                server_cfg.model_alias,
                cfg.llm.resolve_api_key(),
                cfg.sampling,
                cfg.llm,
                ResponseCache(cfg.cache_dir),
            )
            results = asyncio.run(gen.generate(build_requests(qids, tables, cfg)))
            logging.info("%s: %d results, stats %s", name, len(results), gen.stats)


if __name__ == "__main__":
    main()
