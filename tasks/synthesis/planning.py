"""Which queries get thoughts, and which shards one run must produce (resume, incremental refresh, or nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from o1embed.tasks.ingest import IngestResult
from o1embed.tasks.shards import DatasetVersion, shard_name


def judged_queries(ingest: IngestResult, max_queries: int | None) -> list[tuple[str, str]]:
    """Return (query_id, text_sha256) of the queries with at least one positive, sorted by id."""
    positives = ingest.positives()
    rows = [
        (q, h)
        for q, h in zip(ingest.queries["query_id"].to_pylist(), ingest.queries["text_sha256"].to_pylist(), strict=True)
        if q in positives
    ]
    rows.sort()
    return rows[:max_queries] if max_queries else rows


@dataclass
class RevisionPlan:
    """What one run must do: ``revision`` and its shards (name -> query ids); ``pending`` are not done yet."""

    revision: int
    shards: dict[str, list[str]]
    pending: list[str]
    resumed: bool


def plan_revision(dv: DatasetVersion, queries: list[tuple[str, str]], shard_size: int) -> RevisionPlan | None:
    """Decide the shards of this run; write the plan before any shard.

    Args:
        dv: the dataset version.
        queries: (query_id, text_sha256) of every judged source query, sorted.
        shard_size: queries per new shard.

    Returns:
        The plan, or None when every query is already covered by a finished revision.
    """
    plans = dv.plans()
    if plans:
        last = max(plans)
        manifest = dv.manifest_model()
        if manifest is None or manifest.revision < last:  # interrupted: finish the same plan
            shards = plans[last]["shards"]
            pending = [s for s in shards if not dv.has_shard("candidates", s)]
            return RevisionPlan(last, shards, pending, resumed=True)
    covered = {(q, h) for p in plans.values() for q, h in p["query_sha"].items()}
    new = [(q, h) for q, h in queries if (q, h) not in covered]
    if not new:
        return None
    revision = max(plans, default=0) + 1
    shards = {
        shard_name(revision, i // shard_size): [q for q, _ in new[i : i + shard_size]]
        for i in range(0, len(new), shard_size)
    }
    dv.write_plan(revision, {"revision": revision, "shards": shards, "query_sha": dict(new)})
    return RevisionPlan(revision, shards, list(shards), resumed=False)
