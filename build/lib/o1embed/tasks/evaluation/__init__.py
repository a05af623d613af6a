"""Evaluation harness: load BEIR folders, run systems (BM25, MiniLM, O1 models), score per query, write a report.

Modules:
    config     typed configuration (:class:`EvalConfig`, :class:`SystemSpec`, presets)
    data       the evaluated queries and searched corpus of one folder
    search     exact and FAISS inner-product search
    metrics    nDCG@10, Recall@100, MRR@10 per query via pytrec_eval
    systems    adapters over Retrievers and QueryDocEncoders
    resources  models, fitted retrievers, vectors and thoughts shared by the systems
    harness    run systems over datasets
    report     Parquet, markdown, Prefect artifacts
    chart      the bar chart
    cli        ``o1embed evaluate``

Example:
    >>> from o1embed.tasks.evaluation import EvalConfig, run_evaluation
    >>> run_evaluation(EvalConfig(datasets=["scifact"], systems=["bm25", "minilm"]))   # doctest: +SKIP
"""

from __future__ import annotations

from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, preset_systems, resolve_systems
from o1embed.tasks.evaluation.harness import DatasetResult, evaluate_folder, run_evaluation
from o1embed.tasks.evaluation.metrics import METRICS, evaluate_run
from o1embed.tasks.evaluation.report import EvalReport, build_report, publish_artifacts, write_report
from o1embed.tasks.evaluation.resources import Resources

__all__ = [
    "METRICS",
    "DatasetResult",
    "EvalConfig",
    "EvalReport",
    "Resources",
    "SystemSpec",
    "build_report",
    "evaluate_folder",
    "evaluate_run",
    "preset_systems",
    "publish_artifacts",
    "resolve_systems",
    "run_evaluation",
    "write_report",
]
