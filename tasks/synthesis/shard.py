"""The work of one shard: generate its candidates and write its ``errors`` and ``candidates`` shards."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

import pyarrow as pa
from pydantic import SecretStr

from o1embed.tasks.errors import O1EmbedError
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_client import LLMFailure, ThoughtGenerator, generate_across
from o1embed.tasks.ray_runtime import current_node
from o1embed.tasks.schemas import CANDIDATES, ERRORS, error_row
from o1embed.tasks.shard_progress import ProgressWriter, progress_path
from o1embed.tasks.shards import DatasetVersion
from o1embed.tasks.synthesis.config import SynthesisConfig
from o1embed.tasks.synthesis.lineage import REQUEST_MODE_KEY
from o1embed.tasks.synthesis.requests import build_requests, demo_inputs, request_mode

log = logging.getLogger(__name__)


@dataclass
class ShardSummary:
    """What one shard produced. ``deadline_hits``, ``truncated`` and ``extra_choices`` count an endpoint out of
    contract: attempts cut off by the total deadline, thoughts cut to ``max_tokens``, and responses with more
    choices than asked for (see :mod:`o1embed.tasks.llm_client`)."""

    shard: str
    queries: int
    candidates: int
    errors: int
    requests: int
    cache_hits: int
    retries: int
    n_requests: int = 0
    deadline_hits: int = 0
    truncated: int = 0
    extra_choices: int = 0
    node: str = "local"


def synthesize_shard(
    dv: DatasetVersion,
    shard: str,
    query_ids: list[str],
    cfg: SynthesisConfig,
    base_urls: list[str],
    model: str,
    api_key: SecretStr,
) -> ShardSummary:
    """Generate the candidates of one shard and write its ``errors`` and ``candidates`` shards.

    Every (query_id, candidate_idx) ends as exactly one candidate row or one error row. The requests are spread
    over ``base_urls`` (every URL serves ``model``) by query; the responses do not depend on which one answers.

    Raises:
        ConfigError: the endpoint refuses the key or the model (the shard is not written).
    """
    requests = build_requests(query_ids, demo_inputs(dv), cfg)
    cache = ResponseCache(cfg.cache_dir) if cfg.use_cache else None
    use_n = request_mode(cfg)["n"] > 1
    gens = [ThoughtGenerator(u, model, api_key, cfg.sampling, cfg.llm, cache, use_n=use_n) for u in base_urls]
    progress = ProgressWriter(progress_path(dv, "llm", shard), total=len(requests))
    tally = {"done": 0, "candidates": 0, "errors": 0}

    def stats() -> dict[str, int]:
        return {k: sum(g.stats[k] for g in gens) for k in gens[0].stats}

    def on_result(res) -> None:
        tally["done"] += 1
        tally["errors" if isinstance(res, LLMFailure) else "candidates"] += 1
        progress.update(**tally, **stats())

    for g in gens:
        g.on_result = on_result
    results = asyncio.run(generate_across(gens, requests))
    progress.update(force=True, **tally, **stats())
    cands, errs = [], []
    for req, res in zip(requests, results, strict=True):
        if (req.query_id, req.candidate_idx) != (res.query_id, res.candidate_idx):
            raise O1EmbedError(f"result {res.query_id}/{res.candidate_idx} answers request {req.query_id}")
        if isinstance(res, LLMFailure):
            errs.append(
                error_row(
                    "llm",
                    res.reason,
                    query_id=res.query_id,
                    candidate_idx=res.candidate_idx,
                    attempts=res.attempts,
                    prompt_tokens=res.prompt_tokens,
                    completion_tokens=res.completion_tokens,
                )
            )
        else:
            cands.append(
                {
                    "query_id": res.query_id,
                    "candidate_idx": res.candidate_idx,
                    "thought": res.thought,
                    "demo_query_ids": list(req.demo_query_ids),
                    "style": req.style,
                    "seed": res.seed,
                    "model": model,
                    "finish_reason": res.finish_reason,
                    "completion_tokens": res.completion_tokens,
                    "attempts": res.attempts,
                    "cached": res.cached,
                    "shard": shard,
                    "prompt_tokens": res.prompt_tokens,
                    "mean_logprob": res.mean_logprob,
                }
            )
    dv.write_shard("errors", f"llm-{shard}", pa.Table.from_pylist(errs, schema=ERRORS))
    mode = {REQUEST_MODE_KEY: json.dumps(request_mode(cfg, *gens), sort_keys=True)}
    dv.write_shard("candidates", shard, pa.Table.from_pylist(cands, schema=CANDIDATES), metadata=mode)
    log.info("shard %s: %d candidates, %d errors, stats %s", shard, len(cands), len(errs), stats())
    return ShardSummary(shard, len(query_ids), len(cands), len(errs), **stats(), node=current_node())
