"""Candidate-thought synthesis: dataset versions, revision plans, and the work of one shard.

The flow (``flows/synthesize.py``) is thin wiring over these functions, one module per concept:

1. :func:`~.snapshots.prepare_version` ingests the BEIR folder and fixes the dataset version
   (:mod:`.lineage` names it); :func:`~.snapshots.write_snapshots` writes the ingest snapshots.
2. :func:`~.planning.plan_revision` decides which shards this run must produce: the unfinished shards of an
   interrupted run (resume), or new shards for queries the version has not seen (incremental refresh), or nothing.
3. :func:`~.shard.synthesize_shard` generates K candidates per query of one shard (requests from
   :mod:`.requests`) and writes the ``errors`` shard, then the ``candidates`` shard (whose presence marks the
   shard done).
4. :func:`~.lineage.finish_revision` writes the manifest, last.

The stage's config is :class:`~.config.SynthesisConfig`.
"""

from __future__ import annotations

from o1embed.tasks.synthesis.config import SynthesisConfig
from o1embed.tasks.synthesis.lineage import (
    REQUEST_MODE_KEY,
    code_version,
    finish_revision,
    legacy_version_id,
    revision_usage,
    version_id,
)
from o1embed.tasks.synthesis.planning import RevisionPlan, judged_queries, plan_revision
from o1embed.tasks.synthesis.requests import DemoInputs, build_requests, demo_inputs, request_mode
from o1embed.tasks.synthesis.result import SynthesisResult
from o1embed.tasks.synthesis.shard import ShardSummary, synthesize_shard
from o1embed.tasks.synthesis.snapshots import prepare_version, shard_inputs, write_snapshots

__all__ = [
    "REQUEST_MODE_KEY",
    "DemoInputs",
    "RevisionPlan",
    "ShardSummary",
    "SynthesisConfig",
    "SynthesisResult",
    "build_requests",
    "code_version",
    "demo_inputs",
    "finish_revision",
    "judged_queries",
    "legacy_version_id",
    "plan_revision",
    "prepare_version",
    "request_mode",
    "revision_usage",
    "shard_inputs",
    "synthesize_shard",
    "version_id",
    "write_snapshots",
]
