"""The committee stage's driver: check the config, judge the pending shards, write the report.

Reads what the synthesis stage wrote (``corpus``, ``queries``, ``pairs`` snapshots, plans, ``candidates`` shards)
and writes, per shard and under the same shard name, ``errors``, ``judgements`` and, last, ``examples`` (the
completion table: a shard whose ``examples`` file exists is skipped on a rerun). After all shards: vote
statistics, the thought-gain histogram and a ``committee`` section in the latest manifest. The parts live in
modules named for them: :mod:`.pending` (which shards), :mod:`.shard` (the inputs and one shard's work) and
:mod:`.finalize` (the report).

:func:`run_committee` is the stage's one driver: the plain loop (``run_shards=run_in_order``) and the Prefect flow
``committee`` (``flows/committee.py``, one Prefect task per shard) differ only in the ``run_shards`` they pass.

Example:
    >>> dv = DatasetVersion(Path("data/runs/scifact"), "scifact", "train", "abc123")  # doctest: +SKIP
    >>> result = run_committee(dv, CommitteeConfig(use_ray=False))                       # doctest: +SKIP
    >>> result.shards_judged                                                             # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.finalize import CommitteeResult, finalize
from o1embed.tasks.committee.members import Members, start_members
from o1embed.tasks.committee.pending import pending_shards, planned_shards
from o1embed.tasks.committee.shard import JudgedShard, StageInputs, load_inputs, run_shard
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.paths import local_path
from o1embed.tasks.shards import DatasetVersion

__all__ = [
    "CommitteeResult",
    "JudgeShard",
    "JudgedShard",
    "ShardRunner",
    "StageInputs",
    "check_config_matches",
    "finalize",
    "load_inputs",
    "pending_shards",
    "planned_shards",
    "run_committee",
    "run_in_order",
    "run_shard",
]

log = logging.getLogger(__name__)


def check_config_matches(dv: DatasetVersion, config: CommitteeConfig) -> None:
    """Refuse to add shards judged under another committee configuration to the same version.

    Raises:
        ConfigError: the manifest's committee fingerprint differs and examples exist.
    """
    manifest = dv.manifest_model()
    previous = manifest.committee.fingerprint if manifest is not None and manifest.committee else None
    accepted = {config.fingerprint(), config.legacy_fingerprint()}
    if previous and previous not in accepted and dv.files("examples"):
        raise ConfigError(
            f"examples of {dv.partition} were judged with committee config {previous}, not {config.fingerprint()}; "
            "write to another output root (or delete the examples/judgements tables) to change the committee"
        )


def _recorded_members(dv: DatasetVersion) -> list[dict]:
    """The members the manifest's committee section names (nothing was judged now, so none were started)."""
    manifest = dv.manifest_model()
    return manifest.committee.members if manifest is not None and manifest.committee else []


JudgeShard = Callable[[str, list[str]], JudgedShard]
"""Judges one shard (name, query ids) with the run's inputs and members."""

ShardRunner = Callable[[dict[str, list[str]], JudgeShard], list[JudgedShard]]
"""Runs ``judge`` over every pending shard (name -> query ids) and returns what each wrote."""


def run_in_order(todo: dict[str, list[str]], judge: JudgeShard) -> list[JudgedShard]:
    """The plain :data:`ShardRunner`: one shard after another, in this process."""
    return [judge(shard, qids) for shard, qids in todo.items()]


def run_committee(
    dv: DatasetVersion,
    config: CommitteeConfig | None = None,
    members: Members | None = None,
    run_shards: ShardRunner = run_in_order,
) -> CommitteeResult:
    """Judge every pending shard of ``dv``, then finalize: the stage's one driver (the caller holds the lock).

    Args:
        dv: the dataset version.
        config: committee configuration (defaults: BM25 + MiniLM, Ray actors).
        members: already started members (else started here, only when there is work, and stopped at the end).
        run_shards: how the shards are run: :func:`run_in_order`, or the flow's one Prefect task per shard.

    Raises:
        ConfigError: the version's examples were judged under another committee configuration.
    """
    config = config or CommitteeConfig()
    local_path("output_root", dv.root)
    check_config_matches(dv, config)
    todo, done, waiting = pending_shards(dv)
    log.info(
        "%s: %d shards to judge, %d done, %d waiting for candidates",
        dv.partition,
        len(todo),
        len(done),
        len(waiting),
    )
    if waiting:
        log.warning("%d planned shards have no candidates yet: %s", len(waiting), waiting[:5])
    inputs = load_inputs(dv)
    own = members is None
    t0 = time.perf_counter()
    summaries: list[JudgedShard] = []
    if todo:
        members = members or start_members(config, inputs.corpus.doc_ids, inputs.corpus.texts)
        inputs = replace(inputs, corpus=inputs.corpus.without_texts())  # the members hold what they index
    try:
        if todo:
            summaries = run_shards(
                todo, lambda shard, qids, ins=inputs: run_shard(dv, shard, qids, ins, members, config)
            )
        info = members.info() if members is not None else _recorded_members(dv)
    finally:
        if own and members is not None:
            members.stop()
    del inputs  # every query's text and positives: the report reads the tables, and the driver must not hold both
    out = finalize(dv, config, info, summaries)
    return replace(out, skipped=done, waiting=waiting, seconds=time.perf_counter() - t0)
