"""How well a trained model's think-or-close decision follows the committee, on queries it never trained on.

``think="auto"`` skips the thought when ``p_close``, the model's probability of closing the thought at its first
step, reaches the threshold. This bench reads a run folder trained with ``holdout_share > 0`` (its
``holdout.parquet`` holds the held-out examples and the committee's decision on each: ``skip`` = no thought beat the
bare query), computes ``p_close`` for every held-out query in one pass over the generation prompts
(:meth:`trainer.encoder.O1Encoder.first_step`), and prints:

- per decision: queries, mean and median ``p_close``, share at or above each threshold;
- the AUC of ``p_close`` for telling skip from think (Mann-Whitney U / (n_skip * n_think), scipy), with the
  one-sided p-value that it beats chance (0.5, the baseline: a decision that ignores the query).

Usage:
    python bench/decision_auc.py runs/o1-decision [--examples other.parquet] [--dtype bfloat16]

``--examples`` reads any Parquet with ``query`` and ``skip`` columns (and optionally ``thought``) instead (for
example a run trained without a hold-out, on its own training queries: then the AUC measures fit, not
generalisation). Only judged rows are scored (:func:`judged`). Last line: ``decision_auc=<AUC>``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl
from scipy.stats import mannwhitneyu

from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.run_files import RunFiles

THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


def judged(table: pl.DataFrame) -> pl.DataFrame:
    """``query, skip`` of the rows the committee judged: a skip, or a winning thought. A row with neither (an empty
    thought without the skip decision: the expert gave no candidate) trained as the bare query and has no
    decision to score; without a ``thought`` column every row counts."""
    if "thought" in table.columns:
        table = table.filter(pl.col("skip") | (pl.col("thought") != ""))
    return table.select("query", "skip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a training run folder (its model/ and holdout.parquet)")
    parser.add_argument("--examples", type=Path, help="Parquet with query and skip columns (default: the hold-out)")
    parser.add_argument("--dtype", default="auto", help="encoder dtype (auto, float32, bfloat16)")
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    files = RunFiles(args.run_dir)
    source = args.examples or files.holdout
    table = judged(pl.read_parquet(source))
    if table.height == 0 or table["skip"].n_unique() < 2:
        raise SystemExit(f"{source}: needs queries of both decisions (skip and think); has {table.height} rows")

    enc = O1Encoder(files.model, EncoderConfig(use_cache=False, dtype=args.dtype, query_batch_size=args.batch))
    queries = table["query"].to_list()
    p_close: list[float] = []
    for start in range(0, len(queries), args.batch):
        probs = enc.first_step(queries[start : start + args.batch], skip=False, query=False).p_close  # (b,)
        p_close += [float(p) for p in probs]
    table = table.with_columns(pl.Series("p_close", p_close))

    summary = (
        table.group_by("skip")
        .agg(
            pl.len().alias("queries"),
            pl.col("p_close").mean().alias("mean"),
            pl.col("p_close").median().alias("median"),
            *[(pl.col("p_close") >= t).mean().alias(f"share_ge_{t}") for t in THRESHOLDS],
        )
        .sort("skip")
    )
    with pl.Config(tbl_rows=-1, tbl_cols=-1):
        print(f"{source}: {table.height} queries")
        print(summary)
    skip = table.filter(pl.col("skip"))["p_close"].to_numpy()
    think = table.filter(~pl.col("skip"))["p_close"].to_numpy()
    test = mannwhitneyu(skip, think, alternative="greater")
    auc = float(test.statistic) / (len(skip) * len(think))
    print(f"AUC {auc:.4f} ({len(skip)} skip, {len(think)} think; one-sided Mann-Whitney p {test.pvalue:.4g})")
    print(f"decision_auc={auc:.4f}")


if __name__ == "__main__":
    main()
