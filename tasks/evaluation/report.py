"""The evaluation report: what a run shows (:class:`EvalReport`), assembled and written as files.

The tables are computed in :mod:`~o1embed.tasks.evaluation.tables`, the page in
:mod:`~o1embed.tasks.evaluation.markdown`, the charts in :mod:`~o1embed.tasks.evaluation.chart`.

Files written by :func:`write_report` (atomically) into one folder::

    per_query.parquet    one row per (dataset, system, query): metrics, top-10 ids, thoughts
    summary.parquet      one row per (dataset, system): mean metrics, queries, seconds
    deltas.parquet       one row per (dataset, system with a baseline): mean differences, queries better/worse/tied,
                         paired randomisation test p-value (scipy.stats.permutation_test) on nDCG@10
    report.md            setup, systems, tables, deltas, thinking cost, the charts
    metrics.png          grouped bars: nDCG@10, Recall@100, MRR@10 per dataset and system
    out_of_domain.parquet        the sets outside the trained model's own, together: mean metrics per system
    out_of_domain_deltas.parquet the same, deltas against each baseline with the paired test (both when the run has
                                 such sets: :func:`~o1embed.tasks.evaluation.tables.out_of_domain`)
    cost_quality.parquet the auto threshold sweep (when the run has one)
    cost_quality.png     nDCG@10 against the share of queries that thought, one line per dataset
    config.json          the configuration and the datasets' counts and checksums

Example:
    >>> report = build_report(results, specs, config)          # doctest: +SKIP
    >>> write_report(report, Path("data/runs/reports/demo"))    # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from o1embed.tasks.atomic import write_bytes_atomic, write_json_atomic, write_parquet_atomic
from o1embed.tasks.evaluation.chart import render_chart, render_cost_quality
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec
from o1embed.tasks.evaluation.harness import COST_QUALITY, PER_QUERY, DatasetResult
from o1embed.tasks.evaluation.markdown import render_markdown
from o1embed.tasks.evaluation.tables import compute_deltas, out_of_domain, summarize
from o1embed.tasks.paths import runs_root

log = logging.getLogger(__name__)


@dataclass
class EvalReport:
    """Everything a report shows, before and after it is written.

    Attributes:
        per_query, summary, deltas: the three tables (see the module docstring).
        datasets: per-dataset counts and settings.
        systems: the compared systems.
        config: the run configuration.
        created: UTC time of the report.
        markdown: the report page.
        cost_quality: the auto threshold sweep (rows of ``harness.COST_QUALITY``; empty without one).
        in_domain: the sets left out of the out-of-domain tables (:func:`in_domain_sets`).
        ood_summary, ood_deltas: the out-of-domain tables (empty when every set is in domain, or none is known).
        paths: files written (``per_query``, ``summary``, ``deltas``, ``markdown``, ``chart``, ``config``, and
            ``cost_quality`` / ``cost_quality_chart`` with a sweep).
    """

    per_query: pa.Table
    summary: pl.DataFrame
    deltas: pl.DataFrame
    datasets: list[dict[str, Any]]
    systems: list[SystemSpec]
    config: EvalConfig
    created: datetime
    cost_quality: pl.DataFrame = field(default_factory=lambda: pl.from_arrow(COST_QUALITY.empty_table()))
    in_domain: list[str] = field(default_factory=list)
    ood_summary: pl.DataFrame = field(default_factory=pl.DataFrame)
    ood_deltas: pl.DataFrame = field(default_factory=pl.DataFrame)
    markdown: str = ""
    paths: dict[str, Path] = field(default_factory=dict)


def default_out_dir() -> Path:
    """``<runs_root>/reports/<UTC timestamp>``."""
    return runs_root() / "reports" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def in_domain_sets(config: EvalConfig) -> list[str]:
    """``config.in_domain``, or the training dataset in the trained model's ``model_card.json`` (else none)."""
    if config.in_domain is not None:
        return list(config.in_domain)
    card = Path(config.model_path) / "model_card.json" if config.model_path else None
    if card is None or not card.is_file():
        return []
    try:
        dataset = json.loads(card.read_text())["config"]["data"]["dataset"]
    except (json.JSONDecodeError, KeyError, TypeError):
        log.warning("%s names no training dataset; the report has no out-of-domain tables", card)
        return []
    return [dataset] if dataset else []


def build_report(results: list[DatasetResult], systems: list[SystemSpec], config: EvalConfig) -> EvalReport:
    """Assemble the tables and the markdown page of a run from its per-dataset results."""
    tables = [r.per_query for r in results]
    per_query = pa.concat_tables(tables) if tables else PER_QUERY.empty_table()
    df = pl.from_arrow(per_query)
    timing = [t for r in results for t in r.timing]
    sweep = [row for r in results for row in r.cost_quality]
    report = EvalReport(
        per_query=per_query,
        summary=summarize(df, timing),
        deltas=compute_deltas(df, systems),
        datasets=[r.info for r in results],
        systems=systems,
        config=config,
        created=datetime.now(UTC),
        cost_quality=pl.from_arrow(pa.Table.from_pylist(sweep, schema=COST_QUALITY)),
        in_domain=in_domain_sets(config),
    )
    if report.in_domain:  # without a known training set every set would count as out of domain
        report.ood_summary, report.ood_deltas = out_of_domain(df, systems, report.in_domain)
    report.markdown = render_markdown(report)
    return report


def write_report(report: EvalReport, out_dir: Path) -> dict[str, Path]:
    """Write every report file into ``out_dir`` (atomically) and record the paths in ``report.paths``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "per_query": write_parquet_atomic(out_dir / "per_query.parquet", report.per_query),
        "summary": write_parquet_atomic(out_dir / "summary.parquet", report.summary.to_arrow()),
        "deltas": write_parquet_atomic(out_dir / "deltas.parquet", report.deltas.to_arrow()),
        "chart": write_bytes_atomic(
            out_dir / "metrics.png", render_chart(report.summary, [s.name for s in report.systems])
        ),
        "config": write_json_atomic(
            out_dir / "config.json",
            {
                "config": report.config.model_dump(mode="json"),
                "systems": [s.model_dump(mode="json") for s in report.systems],
                "datasets": report.datasets,
                "in_domain": report.in_domain,  # as resolved (:func:`in_domain_sets`), not only as configured
                "created": report.created.isoformat(),
            },
        ),  # fmt: skip
    }
    if report.ood_summary.height:
        paths["out_of_domain"] = write_parquet_atomic(out_dir / "out_of_domain.parquet", report.ood_summary.to_arrow())
        paths["out_of_domain_deltas"] = write_parquet_atomic(
            out_dir / "out_of_domain_deltas.parquet", report.ood_deltas.to_arrow()
        )
    if report.cost_quality.height:
        paths["cost_quality"] = write_parquet_atomic(out_dir / "cost_quality.parquet", report.cost_quality.to_arrow())
        paths["cost_quality_chart"] = write_bytes_atomic(
            out_dir / "cost_quality.png", render_cost_quality(report.cost_quality)
        )
    paths["markdown"] = write_bytes_atomic(out_dir / "report.md", report.markdown.encode())
    report.paths = paths
    log.info("report written to %s", out_dir)
    return paths
