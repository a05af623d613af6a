"""Evaluation harness: load BEIR folders, run systems (BM25, MiniLM, O1 models), score per query, write a report.

Modules:
    config     typed configuration (:class:`EvalConfig`, :class:`SystemSpec`, presets)
    data       the evaluated queries and searched corpus of one folder
    search     exact and FAISS inner-product search
    metrics    nDCG@10, Recall@100, MRR@10 per query via pytrec_eval
    encoders   the encoder contract (explicit think / num_thoughts arguments), thoughts and per-query costs
    systems    adapters over Retrievers and QueryDocEncoders; the cost-quality sweep
    resources  models, fitted retrievers, vectors and thoughts shared by the systems
    harness    run systems over one dataset
    tables     the summary and delta tables, the paired randomisation test
    markdown   the report page
    report     the report object, assembled from the results and written as files
    chart      the bar chart and the cost-quality plot

The driver over datasets (one Resources, so models load once; Prefect artifacts) is ``o1embed.flows.evaluate``;
the CLI is ``o1embed evaluate`` (``o1embed.flows.cli.evaluate``).

Example:
    >>> from o1embed.flows.evaluate import run_evaluation
    >>> run_evaluation(EvalConfig(datasets=["scifact"], systems=["bm25", "minilm"]))   # doctest: +SKIP
"""

from __future__ import annotations

from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, preset_systems, resolve_systems
from o1embed.tasks.evaluation.harness import DatasetResult, evaluate_folder
from o1embed.tasks.evaluation.metrics import METRICS, evaluate_run
from o1embed.tasks.evaluation.report import EvalReport, build_report, write_report
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
    "resolve_systems",
    "write_report",
]
