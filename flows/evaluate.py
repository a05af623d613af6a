"""Prefect flow ``evaluate`` and the one evaluation driver: compare retrieval systems on BEIR folders.

:func:`run_evaluation` is the driver: it resolves systems and datasets, builds one
:class:`~tasks.evaluation.resources.Resources` for the whole run (each model loads once, not once per dataset) with
the O1 encoder's loader (:func:`load_o1_encoder`; ``tasks`` never imports the trainer), evaluates every dataset and
writes the report. :func:`evaluate_flow` runs the same driver with one Prefect task per dataset and publishes the
report as artifacts; the CLI (``o1embed evaluate``) calls one or the other.

Example:
    >>> from o1embed.flows.evaluate import evaluate_flow
    >>> from o1embed.tasks.evaluation.config import EvalConfig
    >>> cfg = EvalConfig(datasets=["scifact"], model_path="data/runs/models/o1", max_queries=50)
    >>> evaluate_flow(cfg)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, model_location, resolve_systems
from o1embed.tasks.evaluation.data import resolve_datasets
from o1embed.tasks.evaluation.harness import DatasetResult, evaluate_folder
from o1embed.tasks.evaluation.report import EvalReport, build_report, default_out_dir, write_report
from o1embed.tasks.evaluation.resources import Resources, encoder_options

DatasetStep = Callable[[Path, EvalConfig, list[SystemSpec], Resources], DatasetResult]


def load_o1_encoder(model_path: str, spec: SystemSpec, config: EvalConfig):
    """Load ``trainer.encoder.O1Encoder`` for an encoder or expansion system.

    ``spec.options`` are ``trainer.encoder.EncoderConfig`` fields (``max_new_tokens``, ``query_batch_size``,
    ``seed``, ...); ``max_passage_tokens`` defaults to ``config.doc_max_tokens``, ``max_query_tokens`` to
    ``config.query_max_tokens``, ``device`` to ``config.device``, ``dtype`` to ``config.dtype`` and
    ``doc_batch_size`` to ``config.batch_size``. The thinking mode, m, threshold and alpha are arguments of each
    call, so one loaded model serves every system that uses it.

    Raises:
        ConfigError: the options are not EncoderConfig fields.
    """
    from pydantic import ValidationError

    from o1embed.trainer.encoder import EncoderConfig, O1Encoder

    options = encoder_options(spec)
    defaults = {
        "max_passage_tokens": config.doc_max_tokens,
        "max_query_tokens": config.query_max_tokens,
        "device": config.device,
        "dtype": config.dtype,
        "doc_batch_size": config.batch_size,
    }
    for key, value in defaults.items():
        if value is not None:
            options.setdefault(key, value)
    try:
        enc_config = EncoderConfig(**options)
    except ValidationError as exc:
        raise ConfigError(f"system {spec.name!r}: bad encoder options: {exc}") from exc
    return O1Encoder(model_path, enc_config)


def check_gates(specs: list[SystemSpec], config: EvalConfig) -> None:
    """Load the think gate of every system that decides with one, before any corpus is encoded.

    Raises:
        ConfigError: a system with ``decider="gate"`` whose model folder has no (valid) ``think_gate.json``; it
            names the file and how to fit one (``o1embed model fit-gate``).
    """
    from o1embed.trainer.think_gate import ThinkGate

    for spec in specs:
        if spec.kind in ("encoder", "expansion") and spec.mode == "auto" and spec.decider == "gate":
            try:
                ThinkGate.load(model_location(spec, config))
            except ConfigError as exc:
                raise ConfigError(f"system {spec.name!r}: {exc}") from exc


def run_evaluation(
    config: EvalConfig, resources: Resources | None = None, dataset_step: DatasetStep | None = None
) -> EvalReport:
    """Evaluate every configured dataset and system with one shared :class:`Resources`, then write the report.

    Args:
        config: the run.
        resources: shared models and caches (default: one with the O1 encoder's loader); tests pass doubles.
        dataset_step: evaluates one folder (default :func:`tasks.evaluation.harness.evaluate_folder`; the flow
            passes its Prefect task).

    Returns:
        The written :class:`EvalReport` (``paths`` holds its files).
    """
    specs = resolve_systems(config)
    folders = resolve_datasets(config.datasets, config.split)
    if resources is None:
        check_gates(specs, config)
        resources = Resources(config, encoder_loader=load_o1_encoder)
    step = dataset_step or evaluate_folder
    results = [step(f, config, specs, resources) for f in folders]
    report = build_report(results, specs, config)
    write_report(report, Path(config.out_dir) if config.out_dir else default_out_dir())
    return report


# NO_CACHE: a model folder rewritten in place must be evaluated again; results hold whole tables.
@task(name="evaluate-dataset", task_run_name="evaluate-{folder.name}", cache_policy=NO_CACHE)
def evaluate_dataset_task(
    folder: Path, config: EvalConfig, specs: list[SystemSpec], resources: Resources
) -> DatasetResult:
    """Evaluate every system on one BEIR folder, with the run's shared models."""
    return evaluate_folder(folder, config, specs, resources)


def publish_artifacts(report: EvalReport, key: str = "evaluation") -> bool:
    """Publish the markdown page, the summary and the delta tables as Prefect artifacts when inside a run.

    Args:
        report: a built (and preferably written) report.
        key: artifact key prefix (lowercase letters, digits and dashes).

    Returns:
        True when artifacts were created, False outside a Prefect run.
    """
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.context import FlowRunContext, TaskRunContext

    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        return False

    def rows(df) -> list[dict]:
        return [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in df.iter_rows(named=True)
        ]

    where = f"\n\nFiles: `{report.paths['markdown'].parent}`" if report.paths else ""
    create_markdown_artifact(markdown=report.markdown + where, key=f"{key}-report", description="Evaluation report")
    create_table_artifact(
        table=rows(report.summary), key=f"{key}-summary", description="Mean metrics per dataset and system"
    )
    if report.deltas.height:
        create_table_artifact(
            table=rows(report.deltas),
            key=f"{key}-deltas",
            description="Deltas against each system's baseline",
        )
    return True


@flow(name="evaluate", log_prints=False)
def evaluate_flow(config: EvalConfig) -> EvalReport:
    """Evaluate ``config.systems`` on ``config.datasets``, write the report and publish it as artifacts.

    Args:
        config: the run; every field keeps :class:`EvalConfig`'s default unless set (a deployment passes
            ``config: {systems: [bm25, minilm]}``; an empty ``datasets`` means every bundled BEIR set).

    Returns:
        The written :class:`EvalReport`.
    """
    logger = get_run_logger()
    logger.info("evaluating %s on %s", [s.name for s in resolve_systems(config)], config.datasets or "every set")
    report = run_evaluation(config, dataset_step=evaluate_dataset_task)
    publish_artifacts(report)
    logger.info("report: %s", report.paths.get("markdown"))
    return report
