"""Prefect flow ``synthesize``: BEIR folder -> candidate thoughts -> committee -> training examples, in Parquet.

One Prefect task per shard; each runs its shard as a Ray task, so shards spread over a Ray cluster when
``RAY_ADDRESS`` names one. A rerun with the same parameters resumes; new source queries make a new revision.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import asdict
from itertools import islice

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NONE
from prefect.futures import as_completed

from o1embed.flows.committee import committee as committee_flow
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.llm_client import first_model
from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig
from o1embed.tasks.ray_runtime import init_ray, run_remote
from o1embed.tasks.synthesis import (
    SynthesisConfig,
    finish_revision,
    judged_queries,
    plan_revision,
    prepare_version,
    synthesize_shard,
    write_snapshots,
)


@task(name="synthesize-shard", cache_policy=NONE)
def synthesize_shard_task(
    dv, shard: str, query_ids: list[str], cfg: SynthesisConfig, base_url: str, model: str
):
    """One shard, run on Ray. The key is resolved here, never passed as a Prefect parameter."""
    return run_remote(synthesize_shard, dv, shard, query_ids, cfg, base_url, model, cfg.llm.resolve_api_key())


@flow(name="synthesize", log_prints=False)
def synthesize(
    config: SynthesisConfig,
    committee: CommitteeConfig | None = None,
    judge: bool = True,
    wait_for_lock: bool = False,
) -> dict:
    """Synthesize K candidate thoughts for every judged query of a BEIR split, then judge them.

    Args:
        config: the stage configuration (see :class:`tasks.synthesis.SynthesisConfig`).
        committee: the committee configuration (default: BM25 + all-MiniLM-L6-v2, majority vote).
        judge: run the committee after the candidates (writes judgements and training examples).
        wait_for_lock: wait for another writer of the same dataset version instead of failing.

    Returns:
        A summary: output dir, dataset, split, version, revision (None when nothing was new), rows per table.
    """
    logger = get_run_logger()
    cfg = config
    base_url = cfg.llm.base_url or os.environ.get("OPENAI_BASE_URL")
    embedded = LlamaServerConfig() if not base_url else None
    if embedded:
        model = cfg.llm.model or embedded.model_alias
    else:
        model = cfg.llm.model or asyncio.run(first_model(base_url, cfg.llm.resolve_api_key()))
    dv, ingest = prepare_version(cfg, model)
    logger.info("dataset version %s (%d ingest errors)", dv.partition, ingest.errors.num_rows)
    with dv.writer_lock(wait=wait_for_lock):
        plan = plan_revision(dv, judged_queries(ingest, cfg.max_queries), cfg.shard_size)
        shard_summaries: list[dict] = []
        if plan is None:
            logger.info("every query already has candidates")
        else:
            if not plan.resumed:
                write_snapshots(dv, ingest)
            logger.info(
                "revision %d: %d shards, %d pending%s",
                plan.revision,
                len(plan.shards),
                len(plan.pending),
                " (resumed)" if plan.resumed else "",
            )
            with contextlib.ExitStack() as stack:
                if embedded and plan.pending:  # started only when there is work; stopped before the committee
                    server = stack.enter_context(LlamaServer(embedded))
                    base_url = server.base_url
                shard_summaries = _run_shards(dv, plan, cfg, base_url, model)
            finish_revision(dv, plan, cfg, ingest, model, "embedded" if embedded else base_url)
        if judge:
            committee_flow(
                str(dv.root),
                dv.dataset,
                dv.split,
                dv.version,
                config=committee or CommitteeConfig(),
                take_lock=False,
            )
    tables = (dv.manifest() or {}).get("tables", {})
    counts = {t: v["rows"] for t, v in tables.items()}
    logger.info("wrote %s rows %s", cfg.output_dir, counts)
    return {
        "output_dir": cfg.output_dir,
        "dataset": dv.dataset,
        "split": dv.split,
        "version": dv.version,
        "revision": plan.revision if plan else None,
        "tables": counts,
        "shards": shard_summaries,
    }


def _run_shards(dv, plan, cfg: SynthesisConfig, base_url: str, model: str) -> list[dict]:
    """Run the pending shards, at most ``cfg.parallel_shards`` at once, with a progress artifact."""
    logger = get_run_logger()
    init_ray()
    progress = create_progress_artifact(0.0, description=f"synthesize {dv.partition}")
    done = len(plan.shards) - len(plan.pending)
    todo = iter(plan.pending)
    inflight: set = set()
    summaries: list[dict] = []

    def submit_next() -> None:
        for s in islice(todo, 1):
            inflight.add(synthesize_shard_task.submit(dv, s, plan.shards[s], cfg, base_url, model))

    for _ in range(cfg.parallel_shards):
        submit_next()
    while inflight:
        fut = next(as_completed(inflight))
        inflight.remove(fut)
        summary = fut.result()  # a failed shard fails the run; a rerun resumes
        logger.info("%s", summary)
        summaries.append(asdict(summary))
        done += 1
        update_progress_artifact(progress, 100.0 * done / len(plan.shards))
        submit_next()
    return summaries
