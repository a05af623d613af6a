"""The report's tables: mean metrics per (dataset, system), deltas against a baseline, the paired test, and the
same over the out-of-domain sets together (:func:`out_of_domain`).

Example:
    >>> import polars as pl
    >>> per_query = pl.DataFrame({"dataset": ["d"] * 2, "system": ["bm25"] * 2, "query_id": ["1", "2"],
    ...     "ndcg_at_10": [1.0, 0.5], "recall_at_100": [1.0, 1.0], "mrr_at_10": [1.0, 0.5],
    ...     "thought": [None, None], "thought_tokens": [None, None], "query_seconds": [None, None]},
    ...     schema_overrides={"thought": pl.Boolean, "thought_tokens": pl.Float64, "query_seconds": pl.Float64})
    >>> summarize(per_query)["ndcg_at_10"].to_list()
    [0.75]
"""

from __future__ import annotations

from typing import Any

import polars as pl

from o1embed.tasks.evaluation.config import SystemSpec
from o1embed.tasks.evaluation.metrics import METRICS


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
    for spec, joined in _paired(per_query, systems):
        for ds in joined.get_column("dataset").unique(maintain_order=True).to_list():
            rows.append(
                {
                    "dataset": ds,
                    "system": spec.name,
                    "baseline": spec.baseline,
                    **_delta(joined.filter(pl.col("dataset") == ds)),
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


def _paired(per_query: pl.DataFrame, systems: list[SystemSpec]):
    """Each system with a baseline, and its per-query rows joined to the baseline's (columns ``<metric>_base``)."""
    for spec in systems:
        if spec.baseline is None:
            continue
        a = per_query.filter(pl.col("system") == spec.name)
        b = per_query.filter(pl.col("system") == spec.baseline)
        yield spec, a.join(b, on=["dataset", "query_id"], suffix="_base")


def _delta(part: pl.DataFrame, weights=None) -> dict[str, Any]:
    """Of joined rows: mean (or ``weights``-weighted) metric differences, query counts, the paired test p-value."""
    import numpy as np

    w = np.full(part.height, 1.0 / part.height) if weights is None else np.asarray(weights, dtype=float)
    d_ndcg = part["ndcg_at_10"] - part["ndcg_at_10_base"]
    return {
        **{f"delta_{m}": float(((part[m] - part[f"{m}_base"]).to_numpy() * w).sum()) for m in METRICS},
        "better": int((d_ndcg > 1e-12).sum()),
        "worse": int((d_ndcg < -1e-12).sum()),
        "queries": part.height,
        "tied": int((d_ndcg.abs() <= 1e-12).sum()),
        "p_value": paired_p_value(part["ndcg_at_10"].to_numpy(), part["ndcg_at_10_base"].to_numpy(), weights=weights),
    }


def paired_p_value(a, b, n_resamples: int = 10_000, seed: int = 0, weights=None) -> float:
    """Two-sided paired randomisation test of ``mean(a - b)`` (``scipy.stats.permutation_test``, samples).

    Each resample swaps ``a[i]`` and ``b[i]`` at random per query (``permutation_type="samples"``); with up to
    ``log2(n_resamples)`` queries every assignment is enumerated (exact test). All-zero differences give 1.0.
    ``weights`` (one per query, summing to 1) test ``sum(w * (a - b))`` instead: with ``1 / (sets * queries of
    the query's set)`` that is the mean over sets of each set's mean difference (:func:`out_of_domain`).

    Example:
        >>> paired_p_value([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        0.03125
    """
    import numpy as np
    from scipy.stats import permutation_test

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or np.allclose(a, b, atol=1e-12):
        return 1.0
    w = np.full(len(a), 1.0 / len(a)) if weights is None else np.asarray(weights, dtype=float)
    res = permutation_test(
        (a, b),
        lambda x, y, axis: np.sum(w * (x - y), axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="two-sided",
        random_state=seed,
    )
    return float(res.pvalue)


def out_of_domain(
    per_query: pl.DataFrame, systems: list[SystemSpec], in_domain: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sets outside ``in_domain`` taken together: each system's mean metrics, and each delta against its baseline.

    Every set counts once, whatever its number of queries (the mean over sets of each set's mean). The deltas'
    ``better`` / ``worse`` / ``tied`` add the sets' query counts; ``p_value`` is the paired randomisation test of
    the mean over sets of the nDCG@10 differences (each query's difference weighted by ``1 / (sets x queries of
    its set)``; signs flip per query, so each query stays in its set).

    Returns:
        ``(means, deltas)``: ``means`` one row per system (``datasets``, ``queries``, the metrics); ``deltas`` one
        row per system with a baseline (``datasets``, ``delta_<metric>``, ``better``, ``worse``, ``tied``,
        ``queries``, ``p_value``). Both empty when no set lies outside ``in_domain``.
    """
    ood = per_query.filter(~pl.col("dataset").is_in(in_domain))
    per_set = ood.group_by("dataset", "system").agg(pl.len().alias("queries"), *[pl.col(m).mean() for m in METRICS])
    names = [s.name for s in systems]
    means = (
        per_set.group_by("system")
        .agg(pl.len().alias("datasets"), pl.col("queries").sum(), *[pl.col(m).mean() for m in METRICS])
        .with_columns(pl.col("system").replace_strict(names, list(range(len(names))), default=len(names)).alias("_o"))
        .sort("_o")
        .drop("_o")
    )
    rows = []
    for spec, joined in _paired(ood, systems):
        if joined.height == 0:
            continue
        sizes = joined.group_by("dataset").agg(pl.len().alias("_n"))
        joined = joined.join(sizes, on="dataset").with_columns((1.0 / (pl.col("_n") * sizes.height)).alias("_w"))
        delta = _delta(joined, weights=joined["_w"].to_numpy())
        rows.append({"system": spec.name, "baseline": spec.baseline, "datasets": sizes.height, **delta})
    schema = {"system": pl.String, "baseline": pl.String, "datasets": pl.Int64}
    schema |= {f"delta_{m}": pl.Float64 for m in METRICS}
    schema |= {"better": pl.Int64, "worse": pl.Int64, "tied": pl.Int64, "queries": pl.Int64, "p_value": pl.Float64}
    deltas = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return means, deltas
