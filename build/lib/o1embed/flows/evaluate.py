"""Prefect flow ``evaluate``: compare retrieval systems on BEIR folders and publish the report.

One task per dataset (:func:`tasks.evaluation.harness.evaluate_folder`), then one that writes the report; the
markdown page and the summary and delta tables become Prefect artifacts.

Example:
    >>> from o1embed.flows.evaluate import evaluate_flow
    >>> evaluate_flow(datasets=["scifact"], model_path="data/runs/models/o1", max_queries=50)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, resolve_systems
from o1embed.tasks.evaluation.data import resolve_datasets
from o1embed.tasks.evaluation.harness import DatasetResult, evaluate_folder
from o1embed.tasks.evaluation.report import (
    EvalReport,
    build_report,
    default_out_dir,
    publish_artifacts,
    write_report,
)


# NO_CACHE: a model folder rewritten in place must be evaluated again; results hold whole tables.
@task(name="evaluate-dataset", task_run_name="evaluate-{folder.name}", cache_policy=NO_CACHE)
def evaluate_dataset_task(folder: Path, config: EvalConfig, specs: list[SystemSpec]) -> DatasetResult:
    """Evaluate every system on one BEIR folder (models load inside the task)."""
    return evaluate_folder(folder, config, specs)


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_task(
    results: list[DatasetResult], specs: list[SystemSpec], config: EvalConfig
) -> EvalReport:
    """Build and write the report, then publish it as artifacts."""
    report = build_report(results, specs, config)
    write_report(report, Path(config.out_dir) if config.out_dir else default_out_dir())
    publish_artifacts(report)
    return report


@flow(name="evaluate", log_prints=False)
def evaluate_flow(
    datasets: list[str] | None = None,
    model_path: str | None = None,
    systems: list[SystemSpec | str] | None = None,
    backbone_path: str | None = None,
    split: str = "test",
    max_queries: int | None = None,
    corpus_sample: int | None = None,
    doc_max_tokens: int | None = 256,
    out_dir: str | None = None,
    config: EvalConfig | None = None,
) -> EvalReport:
    """Evaluate ``systems`` on ``datasets`` (default: every bundled BEIR set) and write the report.

    Args:
        datasets: bundled set names or BEIR folders; None means every folder under ``data/beir``.
        model_path: the trained O1 model folder.
        systems: preset names or :class:`SystemSpec` objects; None means every system the models allow.
        backbone_path: the backbone before training.
        split: qrels split.
        max_queries: evaluate only the first N judged queries.
        corpus_sample: search only the positives of the evaluated queries plus N other documents.
        doc_max_tokens: cut documents to N tokens (dense and encoder systems).
        out_dir: report folder.
        config: a full :class:`EvalConfig`; when given, the other arguments are ignored.

    Returns:
        The written :class:`EvalReport`.
    """
    config = config or EvalConfig(
        datasets=list(datasets or []),
        model_path=model_path,
        systems=systems,
        backbone_path=backbone_path,
        split=split,
        max_queries=max_queries,
        corpus_sample=corpus_sample,
        doc_max_tokens=doc_max_tokens,
        out_dir=out_dir,
    )
    specs = resolve_systems(config)
    folders = resolve_datasets(config.datasets, config.split)
    get_run_logger().info("evaluating %s on %s", [s.name for s in specs], [f.name for f in folders])
    results = [evaluate_dataset_task(f, config, specs) for f in folders]
    report = write_report_task(results, specs, config)
    get_run_logger().info("report: %s", report.paths.get("markdown"))
    return report
