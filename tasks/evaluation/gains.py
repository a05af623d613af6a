"""Per-query gains of thinking over skipping, read from a finished report's ``per_query.parquet``.

``think="auto"`` chooses, per query, between the thought vector (what ``trained-always`` retrieves with) and the skip
vector (``trained-auto`` at ``close_threshold=0``, where every query closes its thought at once). The gain of a query
is the difference of a metric between the two::

    gain = metric(trained-always) - metric(trained-auto at threshold 0)

The metric is nDCG@10 by default; ``rr`` (the reciprocal rank over every retrieved document) ties on fewer queries
(in decision-809's held-out report 103 of 158 queries tied on nDCG@10), so it gives a gate more to learn from.
These gains are what a think gate is fitted on (``trainer.think_gate``, through ``o1embed model fit-gate``) and
what bounds any gate (``bench/gate_ceiling.py``). Run the report on queries the model never trained on (a training
run's ``holdout.parquet`` with ``split=train``), so the gains are not the training set's.

Example:
    >>> import polars as pl
    >>> rows = [("q1", "trained-always", 0.8, True), ("q1", "trained-auto", 0.5, False),
    ...         ("q2", "trained-always", 0.1, True), ("q2", "trained-auto", 0.4, False)]
    >>> pq = pl.DataFrame(rows, schema=["query_id", "system", "ndcg_at_10", "thought"], orient="row")
    >>> thinking_gains(pq.with_columns(pl.lit("scifact").alias("dataset")), "scifact")["gain"].round(2).to_list()
    [0.3, -0.3]
"""

from __future__ import annotations

import polars as pl

from o1embed.tasks.errors import InputError


def thinking_gains(
    per_query: pl.DataFrame,
    dataset: str,
    think_system: str = "trained-always",
    skip_system: str = "trained-auto",
    metric: str = "ndcg_at_10",
    source: str = "per_query.parquet",
) -> pl.DataFrame:
    """One row per query of ``dataset``: ``query_id``, ``think``, ``skip`` (the metric of each) and ``gain``.

    Args:
        per_query: a report's per-query rows (``tasks.evaluation.harness.PER_QUERY``).
        dataset: the dataset name as the report writes it.
        think_system, skip_system: the report's systems for the thought vector and the skip vector.
        metric: a per-query metric column.
        source: the file the rows came from, for error messages.

    Raises:
        InputError: the dataset, a system or the metric is missing; the skip system thought on some query (the
            report was not run at ``close_threshold=0``); or the two systems scored different queries.
    """
    if metric not in per_query.columns:
        raise InputError(f"no metric column {metric!r} (columns: {per_query.columns})", file=source, field=metric)
    rows = per_query.filter(pl.col("dataset") == dataset)
    if rows.height == 0:
        sets = sorted(per_query["dataset"].unique().to_list())
        raise InputError(f"no rows for dataset {dataset!r} (sets: {sets})", file=source, field="dataset")
    found = set(rows["system"].unique().to_list())
    for system in (think_system, skip_system):
        if system not in found:
            raise InputError(
                f"{dataset}: no rows for system {system!r} (systems: {sorted(found)})", file=source, field="system"
            )
    think = rows.filter(pl.col("system") == think_system).select("query_id", pl.col(metric).alias("think"))
    skip = rows.filter(pl.col("system") == skip_system)
    thought = int(skip["thought"].fill_null(False).sum())
    if thought:
        raise InputError(
            f"{dataset}: {skip_system} thought on {thought} of {skip.height} queries, so its vectors are not all skip "
            "vectors: run the report with --set close_threshold=0",
            file=source,
            field="thought",
        )
    skip = skip.select("query_id", pl.col(metric).alias("skip"))
    both = think.join(skip, on="query_id", how="full", coalesce=True)
    missing = both.filter(pl.col("think").is_null() | pl.col("skip").is_null())
    if missing.height:
        raise InputError(
            f"{dataset}: {missing.height} queries are scored by only one of {think_system}, {skip_system} "
            f"(first: {missing['query_id'][0]})",
            file=source,
            field="query_id",
        )
    return both.with_columns((pl.col("think") - pl.col("skip")).alias("gain")).sort("query_id")
