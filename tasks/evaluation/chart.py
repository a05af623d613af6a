"""The report's bar chart: nDCG@10, Recall@100 and MRR@10 per dataset, one bar per system (matplotlib, Agg).

Example:
    >>> png = render_chart(report.summary, ["bm25", "minilm"])    # doctest: +SKIP
    >>> png[:4]                                                   # doctest: +SKIP
    b'\\x89PNG'
"""

from __future__ import annotations

from typing import Any

import polars as pl

from o1embed.tasks.evaluation.metrics import METRICS
from o1embed.tasks.figures import png_bytes


def summary_value(summary: pl.DataFrame, dataset: str, system: str, metric: str) -> Any:
    """The ``metric`` of (``dataset``, ``system``) in a summary table, or "" when that pair is absent."""
    hit = summary.filter((pl.col("dataset") == dataset) & (pl.col("system") == system))
    return hit[metric][0] if hit.height else ""


def render_chart(summary: pl.DataFrame, systems: list[str]) -> bytes:
    """Grouped bar chart (PNG bytes): one panel per metric, datasets on x, one bar per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    datasets = summary.get_column("dataset").unique(maintain_order=True).to_list()
    fig, axes = plt.subplots(
        len(METRICS), 1, figsize=(max(6.0, 1.6 * len(datasets) * max(1, len(systems)) / 3), 9), sharex=True
    )
    width = 0.8 / max(1, len(systems))
    x = np.arange(len(datasets))
    for ax, (metric, label) in zip(axes, METRICS.items(), strict=True):
        for j, system in enumerate(systems):
            vals = [summary_value(summary, ds, system, metric) for ds in datasets]
            vals = [v if isinstance(v, float) else 0.0 for v in vals]
            ax.bar(x + (j - (len(systems) - 1) / 2) * width, vals, width, label=system)
        ax.set_ylabel(label)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xticks(x, datasets, rotation=20, ha="right")
    axes[0].set_title("Retrieval quality per dataset and system")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=min(4, max(1, len(systems))), fontsize=8, frameon=False)
    rows = -(-max(1, len(systems)) // 4)
    fig.tight_layout(rect=(0, 0.035 * rows, 1, 1))
    return png_bytes(fig, dpi=110)


def render_cost_quality(sweep: pl.DataFrame) -> bytes:
    """Cost-quality plot (PNG bytes): nDCG@10 against the share of queries that thought, one line per dataset.

    Each line joins the auto points of the threshold sweep (by share); ``never`` (share 0) is marked with a square
    and ``always`` (share 1) with a triangle, in the dataset's colour.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for j, ds in enumerate(sweep.get_column("dataset").unique(maintain_order=True).to_list()):
        part = sweep.filter(pl.col("dataset") == ds)
        colour = f"C{j % 10}"
        auto = part.filter(pl.col("point") == "auto").sort("thought_share", "threshold")
        ax.plot(auto["thought_share"], auto["ndcg_at_10"], "o-", color=colour, ms=3, label=f"{ds} (auto)")
        for point, marker in (("never", "s"), ("always", "^")):
            hit = part.filter(pl.col("point") == point)
            if hit.height:
                ax.plot(hit["thought_share"], hit["ndcg_at_10"], marker, color=colour, ms=9, mfc="none", mew=2)
    ax.plot([], [], "s", color="gray", mfc="none", mew=2, label="never")
    ax.plot([], [], "^", color="gray", mfc="none", mew=2, label="always")
    ax.set_xlabel("share of queries that thought")
    ax.set_ylabel("nDCG@10")
    ax.set_xlim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.set_title("Cost and quality as the auto threshold sweeps")
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return png_bytes(fig, dpi=110)
