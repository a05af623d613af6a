"""Prefect flow ``committee``: candidate thoughts -> judgements, votes, hard negatives and training examples.

One Prefect task per shard (the shard names of the synthesis stage); the members live in Ray actors (or in this
process with ``use_ray=False``) for the whole run. A rerun skips shards whose ``examples`` exist. Ends with a table
artifact of vote statistics, a link to the thought-gain histogram and a ``committee`` section in the manifest.

Example:
    >>> committee("data/runs/scifact", "scifact", "train", "<version>")    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from itertools import islice
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NONE
from prefect.futures import as_completed

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.members import start_members
from o1embed.tasks.committee.report import statistics_rows
from o1embed.tasks.committee.stage import (
    check_config_matches,
    finalize,
    load_inputs,
    pending_shards,
    run_shard,
)
from o1embed.tasks.shards import DatasetVersion


@task(name="committee-shard", cache_policy=NONE)
def committee_shard(dv, shard: str, query_ids: list[str], inputs, members, config: CommitteeConfig) -> dict:
    """Judge one shard with the run's members; writes errors, judgements, then examples."""
    return run_shard(dv, shard, query_ids, inputs, members, config)


@flow(name="committee", log_prints=False)
def committee(
    output_root: str,
    dataset: str,
    split: str,
    version: str,
    config: CommitteeConfig | None = None,
    wait_for_lock: bool = False,
    take_lock: bool = True,
) -> dict:
    """Judge every candidate shard of a dataset version that has no examples yet.

    Args:
        output_root: the synthesis output folder (holds ``candidates/``, ``_manifests/`` ...).
        dataset: dataset name (e.g. ``scifact``).
        split: split (e.g. ``train``).
        version: dataset version id.
        config: committee configuration (default: BM25 + all-MiniLM-L6-v2 in Ray actors, majority vote).
        wait_for_lock: wait for another writer of this version instead of failing.
        take_lock: take the version's write lock (False when the caller already holds it, e.g. a parent flow).

    Returns:
        ``{"shards_judged", "skipped", "waiting", "stats", "stats_path", "histogram_path", "manifest_path"}``.
    """
    logger = get_run_logger()
    config = config or CommitteeConfig()
    dv = DatasetVersion(Path(output_root), dataset, split, version)
    lock = dv.writer_lock(wait=wait_for_lock) if take_lock else contextlib.nullcontext()
    with lock:
        check_config_matches(dv, config)
        todo, done, waiting = pending_shards(dv)
        logger.info(
            "%s: %d shards to judge, %d done, %d waiting for candidates",
            dv.partition,
            len(todo),
            len(done),
            len(waiting),
        )
        inputs = load_inputs(dv)
        summaries: list[dict] = []
        member_info = (dv.manifest() or {}).get("committee", {}).get("members", [])
        if todo:
            members = start_members(config, inputs.corpus.doc_ids, inputs.corpus.texts)
            try:
                member_info = members.info()
                progress = create_progress_artifact(0.0, description=f"committee {dv.partition}")
                pending = iter(todo.items())
                inflight: set = set()

                def submit_next() -> None:
                    for shard, qids in islice(pending, 1):
                        inflight.add(committee_shard.submit(dv, shard, qids, inputs, members, config))

                for _ in range(config.max_parallel_shards):
                    submit_next()
                while inflight:
                    fut = next(as_completed(inflight))
                    inflight.remove(fut)
                    summaries.append(fut.result())  # a failed shard fails the run; a rerun resumes
                    update_progress_artifact(progress, 100.0 * len(summaries) / len(todo))
                    submit_next()
            finally:
                members.stop()
        out = finalize(dv, config, member_info, summaries)
    stats = out["stats"]
    create_table_artifact(
        key="committee-vote-statistics",
        table=statistics_rows(stats),
        description=f"Committee vote statistics for {dv.partition}: vote distribution, member agreement, mean gain",
    )
    create_link_artifact(
        key="committee-gain-histogram",
        link=Path(out["histogram_path"]).resolve().as_uri(),
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
    return {
        "shards_judged": [s["shard"] for s in summaries],
        "skipped": done,
        "waiting": waiting,
        **{k: out[k] for k in ("stats", "stats_path", "histogram_path", "manifest_path")},
    }
