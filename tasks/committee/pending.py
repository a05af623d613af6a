"""Which committee shards a run must judge: every planned shard with candidates and no examples yet."""

from __future__ import annotations

from o1embed.tasks.shards import DatasetVersion


def planned_shards(dv: DatasetVersion) -> dict[str, list[str]]:
    """Every planned shard of every revision: shard name -> query ids."""
    out: dict[str, list[str]] = {}
    for _, plan in sorted(dv.plans().items()):
        out.update(plan.get("shards", {}))
    return out


def pending_shards(dv: DatasetVersion) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Split planned shards into (to judge, already judged, waiting for candidates)."""
    todo, done, waiting = {}, [], []
    for shard, qids in planned_shards(dv).items():
        if dv.has_shard("examples", shard):
            done.append(shard)
        elif dv.has_shard("candidates", shard):
            todo[shard] = qids
        else:
            waiting.append(shard)
    return todo, done, waiting
