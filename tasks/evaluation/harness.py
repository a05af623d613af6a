"""Run the configured systems over one BEIR folder and keep per-query metrics.

:func:`evaluate_folder` evaluates every system on one dataset (the unit a Prefect task wraps). The one driver over
every dataset, which shares one :class:`Resources` (each model loads once) and writes the report, is
``o1embed.flows.evaluate.run_evaluation``.

Example:
    >>> from o1embed.tasks.evaluation import EvalConfig
    >>> result = evaluate_folder("data/beir/scifact", EvalConfig(systems=["bm25"], max_queries=50))  # doctest: +SKIP
    >>> result.per_query.num_rows                                                                   # doctest: +SKIP
    50
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, resolve_systems
from o1embed.tasks.evaluation.data import EvalData, load_eval_data, read_query_ids
from o1embed.tasks.evaluation.metrics import evaluate_run, run_from_topk, trec_order
from o1embed.tasks.evaluation.resources import Resources
from o1embed.tasks.evaluation.systems import System, build_systems

log = logging.getLogger(__name__)

# Per-query results: one row per (dataset, system, query).
PER_QUERY = pa.schema(
    [
        ("dataset", pa.string()),
        ("split", pa.string()),
        ("system", pa.string()),
        ("query_id", pa.string()),
        ("ndcg_at_10", pa.float64()),
        ("recall_at_100", pa.float64()),
        ("mrr_at_10", pa.float64()),
        ("rr", pa.float64()),  # reciprocal rank over all top_k retrieved (not reported; a think gate's dense label)
        ("n_relevant", pa.int32()),  # judged documents with grade >= 1 in the searched corpus
        ("top_doc_ids", pa.list_(pa.string())),  # the 10 best documents, in trec_eval order
        ("thoughts", pa.list_(pa.string())),  # the thoughts used (thinking systems), else null
        ("thought", pa.bool_()),  # encoder/expansion systems: the query thought; else null
        ("thought_tokens", pa.float64()),  # thought tokens written (mean over m); null when unknown
        ("query_seconds", pa.float64()),  # the query's share of the encoder's time; null when unknown
    ]
)

# Cost-quality sweep: one row per (dataset, system, point).
COST_QUALITY = pa.schema(
    [
        ("dataset", pa.string()),
        ("system", pa.string()),
        ("point", pa.string()),  # never | always | auto | fused
        ("threshold", pa.float64()),  # auto, fused: the close threshold; else null
        ("fusion_alpha", pa.float64()),  # fused: the weight of the bare-query vector; else null
        ("thought_share", pa.float64()),
        ("ndcg_at_10", pa.float64()),
    ]
)

TOP_IDS_KEPT = 10


@dataclass
class DatasetResult:
    """What one dataset contributes to a report.

    Attributes:
        per_query: rows of :data:`PER_QUERY`.
        info: the dataset's counts and settings (name, folder, queries and documents used and in total, ...).
        timing: ``{"dataset", "system", "seconds"}`` per system.
        cost_quality: rows of :data:`COST_QUALITY` (empty without a sweep).
    """

    per_query: pa.Table
    info: dict[str, Any]
    timing: list[dict[str, Any]] = field(default_factory=list)
    cost_quality: list[dict[str, Any]] = field(default_factory=list)


def dataset_info(data: EvalData) -> dict[str, Any]:
    """Counts and settings of one dataset, as the report states them."""
    return {
        "dataset": data.name,
        "folder": str(data.folder),
        "split": data.split,
        "queries": len(data.query_ids),
        "queries_judged": data.n_queries_full,
        "documents": len(data.doc_ids),
        "documents_total": data.n_docs_full,
        "ignore_identical_ids": data.ignore_identical_ids,
        "ingest_errors": 0 if data.errors is None else data.errors.num_rows,
        "checksums": data.checksums,
    }


def evaluate_systems(
    data: EvalData,
    systems: list[System],
    top_k: int,
    sweep_system: str | None = None,
    thresholds: list[float] | None = None,
    alphas: list[float] | None = None,
) -> DatasetResult:
    """Run each system on ``data`` and score it per query.

    Args:
        data: the dataset.
        systems: adapters from :func:`tasks.evaluation.systems.build_systems`.
        top_k: documents kept per query (one more is retrieved when identical ids are dropped).
        sweep_system: the auto system whose threshold is swept for the cost-quality plot (None: no sweep).
        thresholds: the sweep's thresholds.
        alphas: the fusion weights swept with every threshold (``fused`` rows).

    Raises:
        ConfigError: a system returned results for the wrong number of queries.
    """
    rows: list[dict[str, Any]] = []
    timing = []
    details: dict[str, dict[str, Any]] = {}
    k = top_k + (1 if data.ignore_identical_ids else 0)
    for system in systems:
        name = system.spec.name
        t0 = time.perf_counter()
        result = system.run(data, k)
        seconds = time.perf_counter() - t0
        if np.asarray(result.indices).shape[0] != len(data.query_ids):
            raise ConfigError(
                f"system {name!r} returned {np.asarray(result.indices).shape[0]} result rows for "
                f"{len(data.query_ids)} queries of {data.name}"
            )
        run = run_from_topk(data.query_ids, data.doc_ids, result.indices, result.scores)
        metrics = evaluate_run(data.qrels, run, ignore_identical_ids=data.ignore_identical_ids)
        for i, q in enumerate(data.query_ids):
            ranked = [d for d, _ in trec_order(run[q]) if not (data.ignore_identical_ids and d == q)]
            rows.append(
                {
                    "dataset": data.name,
                    "split": data.split,
                    "system": name,
                    "query_id": q,
                    **metrics[q],
                    "n_relevant": sum(1 for g in data.qrels[q].values() if g >= 1),
                    "top_doc_ids": ranked[:TOP_IDS_KEPT],
                    "thoughts": None if result.thoughts is None else list(result.thoughts[i]),
                    "thought": None if result.costs is None else result.costs[i].thought,
                    "thought_tokens": None if result.costs is None else result.costs[i].thought_tokens,
                    "query_seconds": None if result.costs is None else result.costs[i].seconds,
                }
            )
        mean = {
            m: float(np.mean([r[m] for r in rows[-len(data.query_ids) :]])) for m in ("ndcg_at_10", "recall_at_100")
        }
        log.info(
            "%s / %s: nDCG@10 %.4f, Recall@100 %.4f over %d queries (%.1f s)",
            data.name, name, mean["ndcg_at_10"], mean["recall_at_100"], len(data.query_ids), seconds,
        )  # fmt: skip
        timing.append({"dataset": data.name, "system": name, "seconds": seconds})
        if result.details:
            details[name] = result.details
    sweep: list[dict[str, Any]] = []
    for system in systems:
        if sweep_system and system.spec.name == sweep_system and hasattr(system, "cost_quality"):
            sweep = system.cost_quality(data, k, list(thresholds or []), list(alphas or []))
            if not sweep:
                log.info("%s: the encoder reports no close probabilities; no cost-quality sweep", sweep_system)
    info = dataset_info(data)
    info["system_details"] = details
    return DatasetResult(pa.Table.from_pylist(rows, schema=PER_QUERY), info, timing, sweep)


def evaluate_folder(
    folder: str | Path,
    config: EvalConfig,
    specs: list[SystemSpec] | None = None,
    resources: Resources | None = None,
) -> DatasetResult:
    """Load one BEIR folder as configured and evaluate every system on it.

    Args:
        folder: the BEIR-layout folder.
        config: the run configuration (split, max queries, corpus sample, truncation, top-k, ...).
        specs: the systems; default :func:`resolve_systems(config) <tasks.evaluation.config.resolve_systems>`.
        resources: shared models and caches (default: a fresh :class:`Resources`; pass one to share models
            across datasets, or to inject test doubles).
    """
    specs = resolve_systems(config) if specs is None else specs
    resources = resources or Resources(config)
    folder = Path(folder)
    data = load_eval_data(
        folder,
        config.split,
        max_queries=config.max_queries,
        query_ids=read_query_ids(config.query_ids_file) if config.query_ids_file else None,
        corpus_sample=config.corpus_sample,
        seed=config.seed,
        ignore_identical_ids=config.identical_ids_for(folder.name),
    )
    resources.start_dataset(data)
    return evaluate_systems(
        data,
        build_systems(specs, resources),
        config.top_k,
        sweep_system=config.cost_quality_system,
        thresholds=config.cost_quality_thresholds,
        alphas=config.cost_quality_alphas,
    )
