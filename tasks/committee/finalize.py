"""The committee's report over a dataset version's current examples: vote statistics (JSON), the thought-gain
histogram (PNG) and the ``committee`` section of the latest manifest, written after the shards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from o1embed.tasks.atomic import write_json_atomic
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.pending import planned_shards
from o1embed.tasks.committee.report import gain_histogram_png, vote_statistics
from o1embed.tasks.committee.shard import JudgedShard
from o1embed.tasks.current_rows import current_parts, read_current_examples
from o1embed.tasks.manifest import CommitteeSection
from o1embed.tasks.shards import DatasetVersion


@dataclass
class CommitteeResult:
    """What one committee run did and where its report went."""

    stats: dict
    stats_path: str
    histogram_path: str
    manifest_path: str
    revision: int
    shards: list[JudgedShard] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def shards_judged(self) -> list[str]:
        """The shards judged by this run."""
        return [s.shard for s in self.shards]


def report_paths(dv: DatasetVersion, revision: int) -> tuple[Path, Path]:
    """Where the vote statistics (JSON) and the gain histogram (PNG) of a revision go."""
    return (
        dv.meta_dir / f"committee-stats-{revision:04d}.json",
        dv.meta_dir / f"committee-gain-{revision:04d}.png",
    )


_STATS_COLUMNS = {  # what vote_statistics and gain_histogram_png read
    "examples": [
        "query_id",
        "policy",
        "winner_idx",
        "votes",
        "gain",
        "beats_query",
        "candidate_idxs",
        "candidate_gains",
    ],
    "judgements": ["query_id", "candidate_idx", "member", "reciprocal_rank", "gain", "vote"],
    "errors": ["stage", "reason"],
}


def finalize(
    dv: DatasetVersion, config: CommitteeConfig, member_info: list[dict], shard_summaries: list[JudgedShard]
) -> CommitteeResult:
    """Write the statistics, the histogram and the manifest's ``committee`` section (of the current examples)."""
    # Only the columns the statistics read: the lists of negatives and the texts would grow the driver with queries.
    examples = read_current_examples(dv, columns=_STATS_COLUMNS["examples"])
    errors = dv.read("errors", columns=_STATS_COLUMNS["errors"])
    stats = vote_statistics(examples, current_parts(dv, "judgements", _STATS_COLUMNS["judgements"]), errors)
    planned = planned_shards(dv)
    stats["planned_queries"] = sum(len(v) for v in planned.values())
    manifest = dv.manifest_model()
    plans = dv.plans()
    revision = manifest.revision if manifest else max(plans, default=1)
    stats_path, png_path = report_paths(dv, revision)
    write_json_atomic(stats_path, stats)
    gain_histogram_png(examples, png_path)
    secs = sum(s.seconds for s in shard_summaries)
    cands = sum(s.candidates for s in shard_summaries)
    section = {
        "config": config.model_dump(mode="json"),
        "fingerprint": config.fingerprint(),
        "members": [{k: v for k, v in i.items() if k != "spec"} for i in member_info],
        "shards_judged_now": [s.shard for s in shard_summaries],
        "seconds_per_1000_candidates": (1000 * secs / cands) if cands else None,
        "stats": {
            k: stats[k]
            for k in (
                "examples",
                "errors",
                "policy",
                "vote_distribution",
                "member_agreement",
                "mean_gain_winner",
                "beats_query_fraction",
                "planned_queries",
            )
        },
        "stats_path": str(stats_path.relative_to(Path(dv.root))),
        "histogram_path": str(png_path.relative_to(Path(dv.root))),
    }
    # The other stages' sections as they were written; write_manifest sets the identity and the table counts.
    identity = {"revision", "dataset", "split", "version", "tables"}
    body = manifest.model_dump(exclude_unset=True, exclude=identity) if manifest else {}
    # Validated here as well as in write_manifest: the dump turns numpy scalars into JSON numbers.
    body["committee"] = CommitteeSection.model_validate(section).model_dump()
    dv.write_manifest(revision, body)
    return CommitteeResult(stats, str(stats_path), str(png_path), str(dv.manifest_path()), revision, shard_summaries)
