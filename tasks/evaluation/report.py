"""The evaluation report: per-query Parquet, summary and delta tables, a markdown page, charts.

Files written by :func:`write_report` (atomically) into one folder::

    per_query.parquet    one row per (dataset, system, query): metrics, top-10 ids, thoughts
    summary.parquet      one row per (dataset, system): mean metrics, queries, seconds
    deltas.parquet       one row per (dataset, system with a baseline): mean differences, queries better/worse/tied,
                         paired randomisation test p-value (scipy.stats.permutation_test) on nDCG@10
    report.md            setup, systems, tables, deltas, thinking cost, the charts
    metrics.png          grouped bars: nDCG@10, Recall@100, MRR@10 per dataset and system
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
from o1embed.tasks.evaluation.chart import render_chart, render_cost_quality, summary_value
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec
from o1embed.tasks.evaluation.harness import COST_QUALITY, PER_QUERY, DatasetResult
from o1embed.tasks.evaluation.metrics import METRICS
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
    markdown: str = ""
    paths: dict[str, Path] = field(default_factory=dict)


def default_out_dir() -> Path:
    """``<runs_root>/reports/<UTC timestamp>``."""
    return runs_root() / "reports" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def summarize(per_query: pl.DataFrame, timing: list[dict[str, Any]] | None = None) -> pl.DataFrame:
    """Mean metrics per (dataset, system), in first-seen order, with the query count and seconds.

    Encoder and expansion systems also get ``thought_share`` (share of queries that thought), ``thought_tokens``
    (mean per query, 0 for a query without a thought) and ``query_seconds`` (mean per query); null elsewhere.
    """
    order = per_query.select("dataset", "system").unique(maintain_order=True).with_row_index("_order")
    out = (
        per_query.group_by("dataset", "system")
        .agg(
            pl.len().alias("queries"),
            *[pl.col(m).mean() for m in METRICS],
            pl.col("thought").cast(pl.Float64).mean().alias("thought_share"),
            pl.col("thought_tokens").mean(),
            pl.col("query_seconds").mean(),
        )
        .join(order, on=["dataset", "system"])
        .sort("_order")
        .drop("_order")
    )
    if timing:
        out = out.join(pl.DataFrame(timing), on=["dataset", "system"], how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("seconds"))
    return out


def compute_deltas(per_query: pl.DataFrame, systems: list[SystemSpec]) -> pl.DataFrame:
    """Per dataset, each system with a baseline minus that baseline: mean differences and paired query counts.

    ``better`` / ``worse`` / ``tied`` count the queries whose nDCG@10 rose / fell / stayed against the baseline on
    the same query; ``p_value`` is the two-sided paired randomisation test of the mean nDCG@10 difference
    (:func:`paired_p_value`).
    """
    cols = [
        "dataset", "system", "baseline", *(f"delta_{m}" for m in METRICS), "better", "worse", "queries", "tied",
        "p_value",
    ]  # fmt: skip
    rows = []
    for spec in systems:
        if spec.baseline is None:
            continue
        a = per_query.filter(pl.col("system") == spec.name)
        b = per_query.filter(pl.col("system") == spec.baseline)
        joined = a.join(b, on=["dataset", "query_id"], suffix="_base")
        for ds in joined.get_column("dataset").unique(maintain_order=True).to_list():
            part = joined.filter(pl.col("dataset") == ds)
            diff = {f"delta_{m}": float((part[m] - part[f"{m}_base"]).mean()) for m in METRICS}
            d_ndcg = part["ndcg_at_10"] - part["ndcg_at_10_base"]
            rows.append(
                {
                    "dataset": ds,
                    "system": spec.name,
                    "baseline": spec.baseline,
                    **diff,
                    "better": int((d_ndcg > 1e-12).sum()),
                    "worse": int((d_ndcg < -1e-12).sum()),
                    "queries": part.height,
                    "tied": int((d_ndcg.abs() <= 1e-12).sum()),
                    "p_value": paired_p_value(part["ndcg_at_10"].to_numpy(), part["ndcg_at_10_base"].to_numpy()),
                }
            )
    if not rows:
        return pl.DataFrame(
            schema={
                c: (pl.String if c in cols[:3] else pl.Float64 if c.startswith("delta") or c == "p_value" else pl.Int64)
                for c in cols
            }
        )
    return pl.DataFrame(rows).select(cols)


def paired_p_value(a, b, n_resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided paired randomisation test of ``mean(a - b)`` (``scipy.stats.permutation_test``, samples).

    Each resample swaps ``a[i]`` and ``b[i]`` at random per query (``permutation_type="samples"``); with up to
    ``log2(n_resamples)`` queries every assignment is enumerated (exact test). All-zero differences give 1.0.

    Example:
        >>> paired_p_value([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        0.03125
    """
    import numpy as np
    from scipy.stats import permutation_test

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or np.allclose(a, b, atol=1e-12):
        return 1.0
    res = permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="two-sided",
        random_state=seed,
    )
    return float(res.pvalue)


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
    )
    report.markdown = render_markdown(report)
    return report


# ---- markdown -------------------------------------------------------------------------------------------------


def _fmt(v: Any, signed: bool = False) -> str:
    if isinstance(v, float):
        return f"{v:+.3f}" if signed else f"{v:.3f}"
    return "" if v is None else str(v)


def markdown_table(header: list[str], rows: list[list[Any]], signed: bool = False) -> str:
    """A GitHub markdown table; floats with 3 decimals (signed when ``signed``)."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(_fmt(v, signed) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def setup_lines(report: EvalReport) -> list[str]:
    """The run's settings in words (truncation, queries, corpus, identical ids)."""
    cfg = report.config
    trunc = (
        f"Documents are cut to {cfg.doc_max_tokens} tokens by dense and encoder systems; BM25 reads whole documents."
        if cfg.doc_max_tokens
        else "Documents are not cut (each model's own maximum length applies); BM25 reads whole documents."
    )
    queries = "all judged queries" if cfg.max_queries is None else f"the first {cfg.max_queries} judged queries"
    corpus = (
        "the full corpus"
        if cfg.corpus_sample is None
        else f"the positives of the evaluated queries plus {cfg.corpus_sample} other documents (seed {cfg.seed})"
    )
    ident = [d["dataset"] for d in report.datasets if d["ignore_identical_ids"]]
    dtype = cfg.dtype or "auto"
    dtype_note = " (auto: bf16 on GPU, fp32 on CPU)" if dtype == "auto" else ""
    search = f"exact inner product up to {cfg.faiss_threshold:,} documents, FAISS `{cfg.faiss_index}` above"
    return [
        f"- Split `{cfg.split}`; {queries} of each dataset; search over {corpus}; top {cfg.top_k} per query.",
        f"- {trunc}",
        f"- Encoder systems run on device `{cfg.device or 'auto'}` with weights in `{dtype}`{dtype_note}.",
        "- Metrics by pytrec_eval: nDCG@10 (graded), Recall@100, MRR@10 (trec_eval `recip_rank` over the top 10).",
        "- Retrieved documents whose id equals the query id are dropped (BEIR `ignore_identical_ids`) on: "
        + (", ".join(ident) if ident else "none")
        + ".",
        f"- Dense search: {search}.",
    ]


def render_markdown(report: EvalReport, chart_name: str = "metrics.png") -> str:
    """The report page: setup, datasets, systems, nDCG@10 pivot, all metrics, deltas, chart."""
    s, deltas = report.summary, report.deltas
    datasets = [d["dataset"] for d in report.datasets]
    parts = [
        "# o1embed evaluation report",
        "",
        f"Generated {report.created:%Y-%m-%d %H:%M} UTC.",
        "",
        "## Setup",
        "",
        *setup_lines(report),
        "",
        markdown_table(
            [
                "dataset",
                "queries",
                "judged queries",
                "documents searched",
                "documents",
                "ignore identical ids",
                "ingest errors",
            ],
            [
                [
                    d["dataset"],
                    d["queries"],
                    d["queries_judged"],
                    d["documents"],
                    d["documents_total"],
                    "yes" if d["ignore_identical_ids"] else "no",
                    d["ingest_errors"],
                ]
                for d in report.datasets
            ],
        ),  # fmt: skip
        "",
        "## Systems",
        "",
        markdown_table(
            ["system", "kind", "model", "thinking", "thoughts (m)", "compared with"],
            [
                [
                    sp.name,
                    sp.kind,
                    _model_label(sp, report.config),
                    sp.mode if sp.kind in ("encoder", "expansion") else "",
                    sp.num_thoughts if sp.mode != "never" else "",
                    sp.baseline or "",
                ]
                for sp in report.systems
            ],
        ),  # fmt: skip
        *system_detail_lines(report),
        "",
        "## nDCG@10",
        "",
        markdown_table(
            ["system", *datasets],
            [[sp.name, *(summary_value(s, ds, sp.name, "ndcg_at_10") for ds in datasets)] for sp in report.systems],
        ),
        "",
        "## All metrics",
        "",
        markdown_table(
            ["dataset", "system", "queries", *METRICS.values(), "seconds"],
            [
                [r["dataset"], r["system"], r["queries"], *(r[m] for m in METRICS), _seconds(r["seconds"])]
                for r in s.iter_rows(named=True)
            ],
        ),  # fmt: skip
        "",
        "## Thinking versus not (and other deltas against a baseline)",
        "",
    ]
    if deltas.height:
        parts.append(
            markdown_table(
                ["dataset", "system", "baseline", *(f"Δ {v}" for v in METRICS.values()),
                 "better / worse / tied queries", "p (nDCG@10)"],
                [[r["dataset"], r["system"], r["baseline"], *(r[f"delta_{m}"] for m in METRICS),
                  f"{r['better']} / {r['worse']} / {r['tied']} of {r['queries']}", _p(r["p_value"])]
                 for r in deltas.iter_rows(named=True)],
                signed=True,
            )
        )  # fmt: skip
        parts += [
            "",
            "Better / worse / tied: queries whose nDCG@10 rose / fell / stayed against the baseline. p: two-sided "
            "paired randomisation test of the mean nDCG@10 difference (scipy `permutation_test`, "
            '`permutation_type="samples"`).',
        ]
    else:
        parts.append("No system of this run names a baseline.")
    parts += thinking_cost_lines(report)
    parts += ["", f"![nDCG@10, Recall@100 and MRR@10 per dataset and system]({chart_name})", ""]
    return "\n".join(parts)


def thinking_cost_lines(report: EvalReport, chart_name: str = "cost_quality.png") -> list[str]:
    """The thinking-cost table (share of queries that thought, thought tokens, seconds per query) and the sweep."""
    s = report.summary
    rows = [r for r in s.iter_rows(named=True) if r.get("thought_share") is not None]
    if not rows:
        return []
    lines = [
        "",
        "## Thinking cost",
        "",
        markdown_table(
            ["dataset", "system", "queries that thought", "thought tokens / query", "seconds / query"],
            [
                [
                    r["dataset"],
                    r["system"],
                    f"{r['thought_share']:.0%}",
                    "" if r["thought_tokens"] is None else f"{r['thought_tokens']:.1f}",
                    "" if r["query_seconds"] is None else f"{r['query_seconds']:.3f}",
                ]
                for r in rows
            ],
        ),  # fmt: skip
    ]
    cq = report.cost_quality
    if cq.height:
        system = cq["system"][0]
        lines += [
            "",
            f"Cost and quality as the close threshold of `{system}` sweeps (a query skips its thought when the "
            "model's probability of closing it at once is at least the threshold):",
            "",
            f"![nDCG@10 against the share of queries that thought]({chart_name})",
        ]
    return lines


def _p(v: float | None) -> str:
    return "" if v is None else f"{v:.3f}" if v >= 0.001 else "<0.001"


def system_detail_lines(report: EvalReport) -> list[str]:
    """One line per system: its options and the settings its retriever or encoder reported (first dataset's)."""
    seen: dict[str, dict[str, Any]] = {}
    for d in report.datasets:
        for name, det in d.get("system_details", {}).items():
            seen.setdefault(name, det)
    lines = []
    for sp in report.systems:
        parts = []
        if sp.options:
            parts.append(f"options `{json.dumps(sp.options, sort_keys=True)}`")
        if det := seen.get(sp.name):
            label = {"bm25": "retriever", "dense": "retriever", "encoder": "encoder"}.get(sp.kind, "settings")
            parts.append(f"{label} `{json.dumps(det, sort_keys=True)}`")
        if parts:
            lines.append(f"- {sp.name}: " + "; ".join(parts))
    return ["", *lines] if lines else []


def _model_label(spec: SystemSpec, config: EvalConfig) -> str:
    if spec.model is None:
        return ""
    if spec.model == "trained":
        return f"trained: `{config.model_path}`"
    if spec.model == "backbone":
        return f"backbone: `{config.backbone_path}`"
    if spec.model == "minilm":
        return "all-MiniLM-L6-v2"
    return f"`{spec.model}`"


def _seconds(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}"


# ---- files --------------------------------------------------------------------------------------------


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
                "created": report.created.isoformat(),
            },
        ),  # fmt: skip
    }
    if report.cost_quality.height:
        paths["cost_quality"] = write_parquet_atomic(out_dir / "cost_quality.parquet", report.cost_quality.to_arrow())
        paths["cost_quality_chart"] = write_bytes_atomic(
            out_dir / "cost_quality.png", render_cost_quality(report.cost_quality)
        )
    paths["markdown"] = write_bytes_atomic(out_dir / "report.md", report.markdown.encode())
    report.paths = paths
    log.info("report written to %s", out_dir)
    return paths
