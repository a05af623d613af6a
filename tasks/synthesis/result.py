"""What one synthesize run reports: where the version is, which revision it wrote, rows per table, its shards."""

from __future__ import annotations

from dataclasses import dataclass, field

from o1embed.tasks.synthesis.shard import ShardSummary


@dataclass
class SynthesisResult:
    """The summary of a synthesize run (``flows/synthesize.py``).

    Attributes:
        output_dir: the output root the version lives under.
        dataset, split, version: the dataset version (see :class:`tasks.shards.DatasetVersion`).
        revision: the revision this run finished; None when every query already had candidates.
        tables: rows per table of the version, from its manifest.
        shards: one summary per shard this run produced (empty when nothing was pending).
    """

    output_dir: str
    dataset: str
    split: str
    version: str
    revision: int | None
    tables: dict[str, int] = field(default_factory=dict)
    shards: list[ShardSummary] = field(default_factory=list)
