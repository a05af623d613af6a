"""The report's markdown page: setup in words, the systems, metric and delta tables, the thinking cost.

:func:`render_markdown` is the whole page; :func:`markdown_table` is the table helper the CLI also uses.

Example:
    >>> print(markdown_table(["system", "nDCG@10"], [["bm25", 0.6712]]))
    | system | nDCG@10 |
    | --- | --- |
    | bm25 | 0.671 |
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from o1embed.tasks.evaluation.chart import summary_value
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec
from o1embed.tasks.evaluation.metrics import METRICS

if TYPE_CHECKING:
    from o1embed.tasks.evaluation.report import EvalReport


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
    if cfg.query_ids_file:
        queries += f" listed in `{cfg.query_ids_file}`"
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
    parts += out_of_domain_lines(report)
    parts += thinking_cost_lines(report)
    parts += ["", f"![nDCG@10, Recall@100 and MRR@10 per dataset and system]({chart_name})", ""]
    return "\n".join(parts)


def out_of_domain_lines(report: EvalReport) -> list[str]:
    """The sets outside the trained model's own, together: mean metrics per system and the deltas."""
    means, deltas = report.ood_summary, report.ood_deltas
    if not means.height:
        return []
    sets = report.per_query.column("dataset").unique().to_pylist()
    ood = [d["dataset"] for d in report.datasets if d["dataset"] in sets and d["dataset"] not in report.in_domain]
    lines = [
        "",
        "## Out of domain",
        "",
        f"The {len(ood)} sets the trained model was not trained on ({', '.join(ood)}; in domain: "
        f"{', '.join(report.in_domain)}), each counted once: the mean over sets of each set's mean.",
        "",
        markdown_table(
            ["system", "sets", "queries", *METRICS.values()],
            [[r["system"], r["datasets"], r["queries"], *(r[m] for m in METRICS)] for r in means.iter_rows(named=True)],
        ),
    ]
    if deltas.height:
        lines += [
            "",
            markdown_table(
                [
                    "system",
                    "baseline",
                    "sets",
                    *(f"Δ {v}" for v in METRICS.values()),
                    "better / worse / tied queries",
                    "p (nDCG@10)",
                ],
                [
                    [
                        r["system"],
                        r["baseline"],
                        r["datasets"],
                        *(r[f"delta_{m}"] for m in METRICS),
                        f"{r['better']} / {r['worse']} / {r['tied']} of {r['queries']}",
                        _p(r["p_value"]),
                    ]
                    for r in deltas.iter_rows(named=True)
                ],
                signed=True,
            ),  # fmt: skip
            "",
            "p: paired randomisation test of the mean over sets of the nDCG@10 differences (each query weighted by "
            "1 / (sets x its set's queries); signs flip per query).",
        ]
    return lines


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
        if "fusion_alpha" in cq.columns and cq["fusion_alpha"].is_not_null().any():
            lines += [
                "",
                "`cost_quality.parquet` also holds a `fused` row per (threshold, alpha): the nDCG@10 of "
                "`normalize(alpha * never + (1 - alpha) * auto)`. On held-out queries, `bench/pick_fusion.py` "
                "chooses `fusion_alpha` from it.",
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
