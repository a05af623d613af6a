"""Prefect flow ``synthesize``: BEIR folder -> candidate thoughts -> committee -> training examples, in Parquet.

One Prefect task per shard; each runs its shard as a Ray task, so shards spread over a Ray cluster when
``RAY_ADDRESS`` names one. A rerun with the same parameters resumes; new source queries make a new revision.
"""

from __future__ import annotations

import contextlib

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NONE

from o1embed.flows.committee import committee as committee_flow
from o1embed.flows.progress import StageProgress
from o1embed.flows.shard_loop import run_shards
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.endpoint import Endpoint, resolve_endpoint
from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig
from o1embed.tasks.paths import local_path
from o1embed.tasks.ray_runtime import init_ray, run_remote
from o1embed.tasks.shard_progress import clear_progress, read_progress
from o1embed.tasks.synthesis import (
    ShardSummary,
    SynthesisConfig,
    SynthesisResult,
    finish_revision,
    judged_queries,
    plan_revision,
    prepare_version,
    synthesize_shard,
    write_snapshots,
)


@task(name="synthesize-shard", cache_policy=NONE)
def synthesize_shard_task(dv, shard: str, query_ids: list[str], cfg: SynthesisConfig, endpoint: Endpoint):
    """One shard, run on Ray. The key is resolved here, never passed as a Prefect parameter."""
    return run_remote(
        synthesize_shard,
        dv,
        shard,
        query_ids,
        cfg,
        endpoint.base_urls,
        endpoint.model,
        cfg.llm.resolve_api_key(),
    )


@flow(name="synthesize", log_prints=False)
def synthesize(
    config: SynthesisConfig,
    committee: CommitteeConfig | None = None,
    judge: bool = True,
    wait_for_lock: bool = False,
) -> SynthesisResult:
    """Synthesize K candidate thoughts for every judged query of a BEIR split, then judge them.

    Args:
        config: the stage configuration (see :class:`tasks.synthesis.SynthesisConfig`).
        committee: the committee configuration (default: BM25 + all-MiniLM-L6-v2, majority vote).
        judge: run the committee after the candidates (writes judgements and training examples).
        wait_for_lock: wait for another writer of the same dataset version instead of failing.

    Returns:
        A :class:`~o1embed.tasks.synthesis.SynthesisResult`: output dir, dataset, split, version, revision (None
        when nothing was new), rows per table and the shards' summaries.
    """
    logger = get_run_logger()
    cfg = config.model_copy(
        update={k: local_path(k, getattr(config, k)) for k in ("dataset_dir", "output_dir", "cache_dir")}
    )
    endpoint = resolve_endpoint(cfg.llm)
    dv, ingest = prepare_version(cfg, endpoint.model)
    logger.info("dataset version %s (%d ingest errors)", dv.partition, ingest.errors.num_rows)
    with dv.writer_lock(wait=wait_for_lock):
        plan = plan_revision(dv, judged_queries(ingest, cfg.max_queries), cfg.shard_size)
        shard_summaries: list[ShardSummary] = []
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
                if endpoint.embedded and plan.pending:  # started only when there is work; stopped before the committee
                    servers = [
                        stack.enter_context(LlamaServer(LlamaServerConfig())) for _ in range(cfg.llm.embedded_servers)
                    ]
                    endpoint = endpoint.started(*(s.base_url for s in servers))
                shard_summaries = _run_shards(dv, plan, cfg, endpoint)
            finish_revision(dv, plan, cfg, ingest, endpoint.model, endpoint.public)
        del ingest  # the committee reads the snapshots; these tables would stay in the driver all through it
        if judge:
            committee_flow(
                str(dv.root),
                dv.dataset,
                dv.split,
                dv.version,
                config=committee or CommitteeConfig(),
                take_lock=False,
            )
    manifest = dv.manifest_model()
    counts = {t: v.rows for t, v in manifest.tables.items()} if manifest else {}
    logger.info("wrote %s rows %s", cfg.output_dir, counts)
    return SynthesisResult(
        output_dir=cfg.output_dir,
        dataset=dv.dataset,
        split=dv.split,
        version=dv.version,
        revision=plan.revision if plan else None,
        tables=counts,
        shards=shard_summaries,
    )


def _run_shards(dv, plan, cfg: SynthesisConfig, endpoint: Endpoint) -> list[ShardSummary]:
    """Run the pending shards, at most ``cfg.parallel_shards`` at once, with a progress artifact and live
    progress (requests done of total, candidates per second, retries and errors so far)."""
    logger = get_run_logger()
    init_ray()
    artifact = create_progress_artifact(0.0, description=f"synthesize {dv.partition}")
    done = len(plan.shards) - len(plan.pending)
    k = cfg.candidates_per_query
    live = StageProgress(
        f"synthesize {dv.partition}",
        total=k * sum(len(plan.shards[s]) for s in plan.pending),
        unit="requests",
        rate_unit="candidates",
        logger=logger,
    )
    summaries: list[ShardSummary] = []

    def tick() -> None:
        c = read_progress(dv, "llm", list(plan.pending))
        live.update(done=c["done"], rate_of=c["candidates"], retries=c["retries"], errors=c["errors"])

    def on_result(shard: str, summary) -> None:
        nonlocal done
        logger.info("%s", summary)
        summaries.append(summary)
        done += 1
        update_progress_artifact(artifact, 100.0 * done / len(plan.shards))
        tick()

    try:
        run_shards(
            lambda s: synthesize_shard_task.submit(dv, s, plan.shards[s], cfg, endpoint),
            plan.pending,
            cfg.parallel_shards,
            on_result=on_result,
            on_tick=tick,
        )
    finally:
        live.close()
    clear_progress(dv, "llm")
    return summaries
