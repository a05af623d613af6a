"""Choose auto mode's close threshold on a cost-quality sweep of queries the model never trained on.

Reads ``cost_quality.parquet`` (written by ``o1embed evaluate`` for an auto system: one row per threshold, with the
share of queries that thought and nDCG@10) and picks the threshold of the best nDCG@10; on a tie, the one that
thinks least (cheaper at the same quality). Run it on a held-out report (``--set query_ids_file=holdout.parquet``),
never on a test set. Prints the sweep, the choice, and as its last line ``close_threshold=<value>``.

Usage:
    python bench/pick_threshold.py runs/decision-809/holdout_report/cost_quality.parquet
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import polars as pl


def choose(sweep: pl.DataFrame) -> dict[str, Any]:
    """The ``point == "auto"`` row with the best ``ndcg_at_10``, the lowest ``thought_share`` on a tie.

    Raises:
        ValueError: the sweep has no auto row (the encoder reported no close probabilities).
    """
    auto = sweep.filter(pl.col("point") == "auto")
    if auto.height == 0:
        raise ValueError("the sweep has no `auto` rows: the encoder reported no close probabilities")
    return auto.sort(["ndcg_at_10", "thought_share"], descending=[True, False]).row(0, named=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="cost_quality.parquet of the held-out report")
    args = parser.parse_args()
    sweep = pl.read_parquet(args.sweep)
    try:
        best = choose(sweep)
    except ValueError as err:
        parser.error(f"{args.sweep}: {err}")
    print(sweep.filter(pl.col("point") == "auto").select("threshold", "thought_share", "ndcg_at_10"))
    print(
        f"chosen threshold {best['threshold']} (nDCG@10 {best['ndcg_at_10']:.4f}, "
        f"thought share {best['thought_share']:.3f})"
    )
    print(f"close_threshold={best['threshold']}")


if __name__ == "__main__":
    main()
