"""Choose ``fusion_alpha`` of ``trained-auto-fused`` on a cost-quality sweep of queries the model never trained on.

Reads ``cost_quality.parquet`` (written by ``o1embed evaluate``: with ``cost_quality_alphas``, one ``fused`` row per
(threshold, alpha), the nDCG@10 of ``normalize(alpha * never + (1 - alpha) * auto)``) and, at the close threshold
already chosen (``bench/pick_threshold.py``), picks the alpha of the best nDCG@10; on a tie, the larger alpha (the
vector nearer the bare query's). Run it on a held-out report (``--set query_ids_file=holdout.parquet``), never on a
test set. Prints the candidates, the choice, and as its last line ``fusion_alpha=<value>``.

Usage:
    python bench/pick_fusion.py runs/gate-809/holdout_report/cost_quality.parquet --threshold 0.6
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import polars as pl


def choose(sweep: pl.DataFrame, threshold: float) -> dict[str, Any]:
    """The ``point == "fused"`` row at ``threshold`` with the best ``ndcg_at_10``, the larger alpha on a tie.

    Raises:
        ValueError: the sweep has no fused row at that threshold (no ``cost_quality_alphas``, or another grid).
    """
    fused = sweep.filter((pl.col("point") == "fused") & ((pl.col("threshold") - threshold).abs() < 1e-9))
    if fused.height == 0:
        have = sorted(sweep.filter(pl.col("point") == "fused")["threshold"].unique().to_list())
        raise ValueError(f"no `fused` rows at threshold {threshold} (fused thresholds: {have})")
    return fused.sort(["ndcg_at_10", "fusion_alpha"], descending=[True, True]).row(0, named=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="cost_quality.parquet of the held-out report")
    parser.add_argument("--threshold", type=float, required=True, help="the close threshold already chosen")
    args = parser.parse_args()
    sweep = pl.read_parquet(args.sweep)
    if "fusion_alpha" not in sweep.columns:
        parser.error(f"{args.sweep}: no fusion_alpha column (a report from before the fused sweep)")
    try:
        best = choose(sweep, args.threshold)
    except ValueError as err:
        parser.error(f"{args.sweep}: {err}")
    unfused = sweep.filter((pl.col("point") == "auto") & ((pl.col("threshold") - args.threshold).abs() < 1e-9))
    at = pl.col("threshold") == best["threshold"]
    print(sweep.filter((pl.col("point") == "fused") & at).select("fusion_alpha", "thought_share", "ndcg_at_10"))
    if unfused.height:
        print(f"unfused auto at threshold {args.threshold}: nDCG@10 {unfused['ndcg_at_10'][0]:.4f}")
    print(f"chosen alpha {best['fusion_alpha']} (nDCG@10 {best['ndcg_at_10']:.4f})")
    print(f"fusion_alpha={best['fusion_alpha']}")


if __name__ == "__main__":
    main()
