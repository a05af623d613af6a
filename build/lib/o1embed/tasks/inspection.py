"""Summaries of an output folder, read with Polars: versions, revisions, rows per table, errors, vote statistics.

Example:
    >>> from o1embed.tasks.inspection import inspect_output
    >>> report = inspect_output("data/runs/scifact")          # doctest: +SKIP
    >>> report[0]["tables"]["candidates"]                     # doctest: +SKIP
    150
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from o1embed.tasks.shards import list_versions


def _scan(dv, table: str) -> pl.LazyFrame | None:
    files = dv.files(table)
    return pl.scan_parquet([str(f) for f in files]) if files else None


def inspect_version(dv) -> dict:
    """Return what one dataset version holds.

    Returns:
        ``{"dataset", "split", "version", "revisions", "tables": {name: rows}, "errors": [{stage, reason, rows}],
        "votes": {...} | None, "manifest_rows": {name: rows}}``.
    """
    manifest = dv.manifest() or {}
    out = {
        "dataset": dv.dataset,
        "split": dv.split,
        "version": dv.version,
        "revisions": sorted(dv.plans()),
        "complete_revision": manifest.get("revision"),
        "llm_model": manifest.get("llm", {}).get("model"),
        "tables": {},
        "manifest_rows": {t: v["rows"] for t, v in manifest.get("tables", {}).items()},
        "errors": [],
        "votes": None,
    }
    for table in ("corpus", "queries", "pairs", "candidates", "errors", "judgements", "examples"):
        lf = _scan(dv, table)
        if lf is not None:
            out["tables"][table] = lf.select(pl.len()).collect().item()
    errs = _scan(dv, "errors")
    if errs is not None and out["tables"].get("errors"):
        summary = (
            errs.with_columns(pl.col("reason").str.replace(r"'[^']*'", "'…'"))
            .group_by("stage", "reason")
            .len()
            .sort("len", descending=True)
            .collect()
        )
        out["errors"] = [{"stage": s, "reason": r, "rows": n} for s, r, n in summary.iter_rows()]
    ex = _scan(dv, "examples")
    if ex is not None:
        df = ex.collect()
        if df.height:
            out["votes"] = {
                "examples": df.height,
                "with_thought": int((df["thought"] != "").sum()),
                "beats_query": int(df["beats_query"].sum()),
                "policy": dict(df.group_by("policy").len().iter_rows()),
                "votes_for_winner": dict(df.group_by("votes").len().sort("votes").iter_rows()),
                "mean_gain": float(df["gain"].mean()),
                "mean_negatives": float(df["negative_ids"].list.len().mean()),
            }
    return out


def inspect_output(root: str | Path) -> list[dict]:
    """Return :func:`inspect_version` for every dataset version under ``root``."""
    return [inspect_version(dv) for dv in list_versions(root)]
