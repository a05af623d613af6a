"""Prefect flow ``refresh``: the scheduled incremental dataset refresh.

It reruns synthesis on the same configuration. Queries the dataset version has already seen (same id, same
text hash) are skipped; new or edited queries get candidates, judgements and examples in new shards of a new
revision, with a new manifest version (``manifest-<rev>.json``); earlier shards are never rewritten. Optionally it
retrains on the refreshed examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import flow, get_run_logger

from o1embed.flows.synthesize import synthesize
from o1embed.flows.train import overrides_for_version, train
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.synthesis import SynthesisConfig, SynthesisResult
from o1embed.trainer.result import TrainResult


@dataclass
class RefreshResult:
    """What a refresh did: the synthesize result (``revision`` None when nothing was new) and the retrain's."""

    synthesis: SynthesisResult
    train: TrainResult | None = None


@flow(name="refresh", log_prints=False)
def refresh(
    synthesis: SynthesisConfig,
    committee: CommitteeConfig | None = None,
    retrain: bool = False,
    train_preset: str = "cpu-small",
    train_overrides: dict[str, Any] | None = None,
    wait_for_lock: bool = True,
) -> RefreshResult:
    """Add what is new in the source to the dataset version, then (optionally) retrain.

    Args:
        synthesis: the same configuration as the dataset's synthesize runs (a different one is a new version).
        committee: the committee configuration.
        retrain: train a new model when the refresh added a revision.
        train_preset: trainer preset for the retrain.
        train_overrides: trainer overrides; ``data`` is set to the refreshed version.
        wait_for_lock: wait for a running writer of the same version (a scheduled run queues behind it).

    Returns:
        The :class:`RefreshResult` (``train`` is None unless a retrain ran).
    """
    logger = get_run_logger()
    s = synthesize(synthesis, committee=committee, wait_for_lock=wait_for_lock)
    if s.revision is None:
        logger.info("no new queries in %s: nothing added", synthesis.dataset_dir)
    trained = None
    if retrain and s.revision is not None:
        overrides = overrides_for_version(s, train_overrides, f"{s.version}-r{s.revision:04d}")
        trained = train(train_preset, overrides)
    return RefreshResult(synthesis=s, train=trained)
