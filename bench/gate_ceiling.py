"""The most any think-or-skip gate could gain on a finished report: per query, the better of thinking and skipping.

``think="auto"`` chooses, per query, between the thought vector (``trained-always``) and the skip vector
(``trained-auto`` at threshold 0: every query closes at once). A perfect gate takes, per query, whichever of the two
scores the higher nDCG@10; no real gate does better. This bench reads a report's ``per_query.parquet`` and prints,
per dataset, the mean nDCG@10 of ``trained-never``, the skip vector, ``trained-always`` and that ceiling, the
queries where thinking wins and loses, so a gate's possible gain can be sized before one is built. The ceiling
picks each query's better score after the fact, so it is an upper bound, not a result: no significance test is
run on it.

The report must be run with ``close_threshold=0`` for ``trained-auto`` (or at a threshold where no query thinks);
rows where ``trained-auto`` thought are named, since they are then not the skip vector.

Usage:
    python bench/gate_ceiling.py runs/thinking-809/report [--in-domain scifact]

Last line: ``gate_ceiling_delta=<ceiling minus never on the in-domain set>``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

SYSTEMS = {"trained-never": "never", "trained-auto": "skip", "trained-always": "think"}


def ceiling(per_query: pl.DataFrame) -> pl.DataFrame:
    """One row per dataset: ``never, skip, think, ceiling`` (mean nDCG@10), ``think_wins``, ``think_loses``,
    ``auto_thought`` (queries where trained-auto thought)."""
    rows = per_query.filter(pl.col("system").is_in(list(SYSTEMS)))
    wide = rows.pivot(on="system", index=["dataset", "query_id"], values="ndcg_at_10").rename(SYSTEMS)
    thought = rows.filter(pl.col("system") == "trained-auto").select("dataset", "query_id", "thought")
    wide = wide.join(thought, on=["dataset", "query_id"]).with_columns(
        pl.max_horizontal("skip", "think").alias("ceiling")
    )
    out = []
    for ds in wide["dataset"].unique(maintain_order=True).to_list():
        w = wide.filter(pl.col("dataset") == ds)
        out.append(
            {
                "dataset": ds,
                "queries": w.height,
                **{c: float(w[c].mean()) for c in ("never", "skip", "think", "ceiling")},
                "think_wins": int((w["think"] > w["skip"]).sum()),
                "think_loses": int((w["think"] < w["skip"]).sum()),
                "auto_thought": int(w["thought"].sum()),
            }
        )
    return pl.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--in-domain", default="scifact")
    args = parser.parse_args()
    table = ceiling(pl.read_parquet(args.report_dir / "per_query.parquet"))
    print_delta(table, args.report_dir, args.in_domain, "gate_ceiling_delta", "ceiling")


def print_delta(table: pl.DataFrame, report_dir: Path, in_domain: str, name: str, column: str) -> None:
    """Print a per-dataset ``table`` whole, then the last line ``name=<column minus never on in_domain>``.

    Raises:
        SystemExit: the table has no ``in_domain`` row.
    """
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, float_precision=4):
        print(table)
    home = table.filter(pl.col("dataset") == in_domain)
    if home.height == 0:
        raise SystemExit(f"{report_dir}: no {in_domain!r} rows (sets: {table['dataset'].to_list()})")
    print(f"{name}={home[column][0] - home['never'][0]:.4f}")


if __name__ == "__main__":
    main()
