"""Summaries of an output folder, read with Polars: versions, revisions, rows per table, errors, vote statistics,
and the expert's tokens per table (with an estimated cost when prices are given).

Example:
    >>> from o1embed.tasks.inspection import inspect_output
    >>> report = inspect_output("data/runs/scifact")          # doctest: +SKIP
    >>> report[0]["tables"]["candidates"]                     # doctest: +SKIP
    150
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from o1embed.tasks.current_rows import read_current_examples
from o1embed.tasks.shards import list_versions

TOKEN_TABLES = ("candidates", "errors")  # the tables whose rows carry the expert's usage


def token_usage(dv, prices: tuple[float, float] | None = None) -> dict:
    """Prompt and completion tokens per table, read from the rows (cached candidates were paid for earlier).

    Args:
        dv: the dataset version.
        prices: (prompt, completion) price per million tokens, or None.

    Returns:
        ``{table: {"prompt_tokens", "completion_tokens"[, "cost"]}}``, plus ``"total"``.
    """
    out: dict[str, dict] = {}
    for table in TOKEN_TABLES:
        cols = ["prompt_tokens", "completion_tokens"] + (["cached"] if table == "candidates" else [])
        t = pl.from_arrow(dv.read(table, columns=cols))
        if "cached" in t.columns:
            t = t.filter(~pl.col("cached").fill_null(False))
        out[table] = {c: int(t[c].sum() or 0) for c in ("prompt_tokens", "completion_tokens")}
    out["total"] = {c: sum(out[t][c] for t in TOKEN_TABLES) for c in ("prompt_tokens", "completion_tokens")}
    if prices is not None:
        for v in out.values():
            v["cost"] = (v["prompt_tokens"] * prices[0] + v["completion_tokens"] * prices[1]) / 1e6
    return out


def _scan(dv, table: str) -> pl.LazyFrame | None:
    files = dv.files(table)
    return pl.scan_parquet([str(f) for f in files]) if files else None


def inspect_version(dv, prices: tuple[float, float] | None = None) -> dict:
    """Return what one dataset version holds.

    Args:
        dv: the dataset version.
        prices: (prompt, completion) price per million tokens, for an estimated cost; None: no cost.

    Returns:
        ``{"dataset", "split", "version", "revisions", "tables": {name: rows}, "errors": [{stage, reason, rows}],
        "votes": {...} | None (over the newest example per query), "manifest_rows": {name: rows},
        "tokens": {table: {...}}, "demo_policy", "request_modes"}``.
    """
    manifest = dv.manifest_model()
    llm = manifest.llm if manifest else None
    out = {
        "dataset": dv.dataset,
        "split": dv.split,
        "version": dv.version,
        "revisions": sorted(dv.plans()),
        "complete_revision": manifest.revision if manifest else None,
        "llm_model": llm.model if llm else None,
        "tables": {},
        "manifest_rows": {t: v.rows for t, v in manifest.tables.items()} if manifest else {},
        "errors": [],
        "votes": None,
        "tokens": token_usage(dv, prices),
        "demo_policy": llm.demo_policy if llm else None,
        "request_modes": llm.request_modes if llm else None,
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
    if out["tables"].get("examples"):
        df = pl.from_arrow(read_current_examples(dv))  # an edited query counts once, with its new thought
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


def inspect_output(root: str | Path, prices: tuple[float, float] | None = None) -> list[dict]:
    """Return :func:`inspect_version` for every dataset version under ``root``."""
    return [inspect_version(dv, prices) for dv in list_versions(root)]
