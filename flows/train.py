"""Prefect flow ``train``: launch the joint O1 trainer (Ray Train) and publish its progress and results.

Thin by design: the flow builds a :class:`trainer.config.TrainConfig` from a preset plus overrides, calls
:func:`trainer.launcher.launch_training` from the flow body (Ray Train needs its own CPUs, so never from inside a
Prefect or Ray task), and turns the step log into a progress artifact, a markdown summary and the loss-curve path.

Example:
    >>> from o1embed.flows.train import train                                                    # doctest: +SKIP
    >>> train(preset="cpu-small", overrides={"data": {...}, "output_dir": "runs/o1"})   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact

from o1embed.trainer.config import TrainConfig
from o1embed.trainer.launcher import launch_training
from o1embed.trainer.prepare import prepare_gguf_model
from o1embed.trainer.result import TrainResult
from o1embed.trainer.run_files import RunFiles

if TYPE_CHECKING:
    from o1embed.tasks.synthesis import SynthesisResult


def _summary(cfg: TrainConfig, result: TrainResult, records: list[dict]) -> str:
    files = RunFiles(Path(cfg.output_dir))
    first, last = (records[0], records[-1]) if records else ({}, {})
    rows = "\n".join(
        f"| {k} | {first.get(k, float('nan')):.4f} | {last.get(k, float('nan')):.4f} |"
        for k in ("loss", "contrastive", "lm")
    )
    return (
        f"## O1 training: {result.total_steps} steps, {result.world_size} worker(s)\n\n"
        f"| loss | first step | last step |\n|---|---|---|\n{rows}\n\n"
        f"- model: `{result.model_dir}`\n- loss curve: `{files.plot}`\n- step log: `{files.log}`\n"
        f"- finetune: {cfg.finetune}, queries/step {cfg.queries_per_step}, negatives {cfg.negatives_per_query}, "
        f"lengths q/t/p {cfg.model.max_query_tokens}/{cfg.model.max_thought_tokens}/{cfg.model.max_passage_tokens}\n"
    )


@flow(name="train", log_prints=False)
def train(preset: str = "paper", overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train an O1 model.

    Args:
        preset: ``paper`` (GPU defaults), ``cpu-small`` or ``cpu-small-long-query`` (queries kept to 256 tokens).
        overrides: any :class:`~trainer.config.TrainConfig` fields; ``data`` and ``output_dir`` are required
            unless the preset sets them, e.g. ``{"data": {"root": "data/runs/scifact", "dataset": "scifact"},
            "output_dir": "data/runs/o1-small", "max_steps": 200}``.

    Returns:
        The run's :class:`~trainer.result.TrainResult` (final losses, model folder, data lineage).
    """
    logger = get_run_logger()
    cfg = TrainConfig.from_preset(preset, **(overrides or {}))
    # The default backbone: convert the packaged GGUF once, before any Ray Train worker needs it.
    if cfg.model_path is None:
        prepare_gguf_model()
    logger.info(
        "training into %s (preset %s, %d worker(s), ray=%s)",
        cfg.output_dir,
        preset,
        cfg.num_workers,
        cfg.use_ray,
    )
    artifact = create_progress_artifact(progress=0.0, description=f"O1 training steps: {cfg.output_dir}")
    last_pct = [-1.0]

    def progress(step: int, total: int, record: dict) -> None:
        pct = 100.0 * step / max(total, 1)
        if pct - last_pct[0] >= 1.0 or step == total:
            update_progress_artifact(artifact, progress=pct)
            last_pct[0] = pct
        logger.info(
            "step %d/%d loss %.4f (contrastive %.4f, lm %.4f)",
            step,
            total,
            record["loss"],
            record["contrastive"],
            record["lm"],
        )

    result = launch_training(cfg, progress=progress)
    records = RunFiles(Path(cfg.output_dir)).read_log()
    create_markdown_artifact(_summary(cfg, result, records), key="o1-training", description="O1 training summary")
    return result


def overrides_for_version(
    synthesis: SynthesisResult, overrides: dict[str, Any] | None, run_name: str
) -> dict[str, Any]:
    """Trainer overrides that read the dataset version a synthesize run reported.

    Args:
        synthesis: the result of the ``synthesize`` flow.
        overrides: the caller's trainer overrides (kept; ``data`` is replaced).
        run_name: folder name under ``<output_dir>/models`` when ``output_dir`` is not given.
    """
    out = dict(overrides or {})
    out["data"] = {
        "root": synthesis.output_dir,
        "dataset": synthesis.dataset,
        "split": synthesis.split,
        "version": synthesis.version,
    }
    out.setdefault("output_dir", str(Path(synthesis.output_dir) / "models" / run_name))
    return out
