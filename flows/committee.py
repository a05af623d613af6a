"""Prefect flow ``committee``: candidate thoughts -> judgements, votes, hard negatives and training examples.

A thin flow over the stage's one driver, :func:`tasks.committee.stage.run_committee`: it takes the version's
write lock, runs each shard as one Prefect task (at most ``max_parallel_shards`` at once, the members in Ray
actors or in this process with ``use_ray=False``), then adds a table artifact of vote statistics and a link to the
thought-gain histogram. A rerun skips shards whose ``examples`` exist.

Example:
    >>> committee("data/runs/scifact", "scifact", "train", "<version>")    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NONE

from o1embed.flows.progress import StageProgress
from o1embed.flows.shard_loop import run_shards
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.inputs import STAGE
from o1embed.tasks.committee.report import statistics_rows
from o1embed.tasks.committee.stage import CommitteeResult, JudgedShard, JudgeShard, ShardRunner, run_committee
from o1embed.tasks.paths import local_path
from o1embed.tasks.shard_progress import clear_progress, read_progress
from o1embed.tasks.shards import DatasetVersion


@task(name="committee-shard", cache_policy=NONE)
def committee_shard(judge: JudgeShard, shard: str, query_ids: list[str]) -> JudgedShard:
    """Judge one shard with the run's members; writes errors, judgements, then examples."""
    return judge(shard, query_ids)


def prefect_shards(parallel: int, description: str, dv: DatasetVersion) -> ShardRunner:
    """A :data:`ShardRunner` of one Prefect task per shard, ``parallel`` at once, with live progress.

    Each shard writes its counters (queries and candidates judged so far) as it goes
    (:mod:`o1embed.tasks.shard_progress`), wherever its Ray task runs; the runner sums them while it waits.
    """

    def run(todo: dict[str, list[str]], judge: JudgeShard) -> list[JudgedShard]:
        logger = get_run_logger()
        artifact = create_progress_artifact(0.0, description=description)
        live = StageProgress(
            description,
            total=sum(len(q) for q in todo.values()),
            unit="queries",
            rate_unit="candidates",
            logger=logger,
        )
        summaries: list[JudgedShard] = []

        def tick() -> None:
            c = read_progress(dv, STAGE, list(todo))
            live.update(
                done=c["done"],
                rate_of=c["candidates"],
                shards=f"{len(summaries)}/{len(todo)}",
                errors=c["errors"],
            )

        def on_result(item, summary: JudgedShard) -> None:
            summaries.append(summary)
            update_progress_artifact(artifact, 100.0 * len(summaries) / len(todo))
            tick()

        try:
            run_shards(
                lambda item: committee_shard.submit(judge, item[0], item[1]),
                todo.items(),
                parallel,
                on_result=on_result,
                on_tick=tick,
            )
        finally:
            live.close()
        clear_progress(dv, STAGE)
        return summaries

    return run


@flow(name="committee", log_prints=False)
def committee(
    output_root: str,
    dataset: str,
    split: str,
    version: str,
    config: CommitteeConfig | None = None,
    wait_for_lock: bool = False,
    take_lock: bool = True,
) -> CommitteeResult:
    """Judge every candidate shard of a dataset version that has no examples yet.

    Args:
        output_root: the synthesis output folder (holds ``candidates/``, ``_manifests/`` ...).
        dataset: dataset name (e.g. ``scifact``).
        split: split (e.g. ``train``).
        version: dataset version id.
        config: committee configuration (default: BM25 + all-MiniLM-L6-v2 in Ray actors, majority vote).
        wait_for_lock: wait for another writer of this version instead of failing.
        take_lock: take the version's write lock (False when the caller already holds it, e.g. a parent flow).
    """
    logger = get_run_logger()
    config = config or CommitteeConfig()
    dv = DatasetVersion(Path(local_path("output_root", output_root)), dataset, split, version)
    lock = dv.writer_lock(wait=wait_for_lock) if take_lock else contextlib.nullcontext()
    with lock:
        out = run_committee(
            dv, config, run_shards=prefect_shards(config.max_parallel_shards, f"committee {dv.partition}", dv)
        )
    stats = out.stats
    create_table_artifact(
        key="committee-vote-statistics",
        table=statistics_rows(stats),
        description=f"Committee vote statistics for {dv.partition}: vote distribution, member agreement, mean gain",
    )
    create_link_artifact(
        key="committee-gain-histogram",
        link=Path(out.histogram_path).resolve().as_uri(),
        link_text="thought-gain histogram (PNG)",
    )
    logger.info(
        "committee: %d examples, %d errors, policy %s, mean winner gain %.4f, agreement %s",
        stats["examples"],
        stats["errors"],
        stats["policy"],
        stats["mean_gain_winner"],
        stats["member_agreement"],
    )
    return out
