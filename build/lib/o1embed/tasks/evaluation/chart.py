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
    fig.legend(
        handles, labels, loc="lower center", ncols=min(4, max(1, len(systems))), fontsize=8, frameon=False
    )
    rows = -(-max(1, len(systems)) // 4)
    fig.tight_layout(rect=(0, 0.035 * rows, 1, 1))
    return png_bytes(fig, dpi=110)
