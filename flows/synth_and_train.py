"""Prefect flow ``synth-and-train``: synthesize (with the committee), train, evaluate, each stage handed the last
stage's output.

    prefect deployment run 'synth-and-train/scifact-quickstart' --watch
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from o1embed.flows.evaluate import evaluate_flow
from o1embed.flows.synthesize import synthesize
from o1embed.flows.train import overrides_for_version, train
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.evaluation.config import EvalConfig
from o1embed.tasks.synthesis import SynthesisConfig, SynthesisResult
from o1embed.trainer.model_card import write_model_card
from o1embed.trainer.prepare import default_backbone_dir
from o1embed.trainer.result import TrainResult


@dataclass
class PipelineResult:
    """Each stage's result and where its outputs are.

    Attributes:
        synthesis: the synthesize stage's result (shards, rows per table, revision).
        train: the training run's result (model folder, losses, lineage).
        report: the evaluation's files by kind (``markdown``, ``summary``, ...), or None when it was skipped.
        paths: ``{"shards", "model", "report"}``: the shards' root, the model folder, the report page (or None).
    """

    synthesis: SynthesisResult
    train: TrainResult
    report: dict[str, Path] | None
    paths: dict[str, str | None]


@flow(name="synth-and-train", log_prints=False)
def synth_and_train(
    synthesis: SynthesisConfig,
    committee: CommitteeConfig | None = None,
    train_preset: str = "cpu-small",
    train_overrides: dict[str, Any] | None = None,
    evaluation: EvalConfig | None = None,
    run_evaluation: bool = True,
) -> PipelineResult:
    """Run the whole pipeline once.

    Args:
        synthesis: synthesize stage (dataset, split, expert LLM, sampling, shard sizes).
        committee: committee stage (members, vote, policy, negatives); default BM25 + all-MiniLM-L6-v2.
        train_preset: ``cpu-small`` (2-core CPU), ``cpu-small-long-query`` (the same, queries kept to 256 tokens)
            or ``paper`` (GPU).
        train_overrides: any trainer fields (``max_steps``, ``model_path`` ...); ``data`` is set from the
            synthesized version and ``output_dir`` defaults to ``<output_dir>/models/<version>``.
        evaluation: evaluation stage; its ``model_path`` is set to the trained model. Default: the synthesized
            dataset's test split, all systems the models allow.
        run_evaluation: skip the evaluation when False.

    Returns:
        The :class:`PipelineResult`: each stage's result, with the paths of shards, model and report.
    """
    logger = get_run_logger()
    s = synthesize(synthesis, committee=committee)
    overrides = overrides_for_version(s, train_overrides, s.version)
    t = train(train_preset, overrides)
    report = None
    if run_evaluation:
        ev = evaluation or EvalConfig(datasets=[synthesis.dataset_dir])
        ev = ev.model_copy(
            update={
                "model_path": t.model_dir,
                "backbone_path": ev.backbone_path or overrides.get("model_path") or str(default_backbone_dir()),
                "out_dir": ev.out_dir or str(Path(overrides["output_dir"]) / "report"),
            }
        )
        report = evaluate_flow(ev)
        write_model_card(t.model_dir, report_dir=ev.out_dir)  # the card gains the evaluation table
    paths = {
        "shards": s.output_dir,
        "model": t.model_dir,
        "report": str(report.paths["markdown"]) if report else None,
    }
    create_markdown_artifact(
        "## synth-and-train\n\n" + "\n".join(f"- {k}: `{v}`" for k, v in paths.items()),
        key="synth-and-train-outputs",
        description="Where this run's shards, model and report are",
    )
    logger.info("outputs: %s", paths)
    return PipelineResult(synthesis=s, train=t, report=report.paths if report else None, paths=paths)
