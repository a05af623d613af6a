"""Judge issue 14's target on a finished report folder: does thinking, when the model decides, stop losing?

The target, per candidate system (``trained-auto``, ``trained-auto-fused`` at the alpha fixed before the run, and
``trained-auto-gate``, auto deciding with the gate fitted on held-out training queries), each against
``trained-never`` on nDCG@10:

1. at least as good on the in-domain set (mean delta >= 0);
2. at least as good on the mean over the out-of-domain sets (each set counted once; ``out_of_domain_deltas``);
3. better on at least one set with the paired randomisation test's p < 0.05.

The target is met when one candidate meets all three. Three candidates are three chances at p < 0.05: a run that
meets it through one candidate only should say so (a candidate missing from the report is named, not counted).
Reads ``deltas.parquet`` and ``out_of_domain_deltas.parquet`` (written by ``o1embed evaluate``); prints one line per
candidate and condition, then ``thinking_target_met=<0|1>``.

Usage:
    python bench/thinking_target.py runs/thinking-809/report [--in-domain scifact]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl

CANDIDATES = ("trained-auto", "trained-auto-fused", "trained-auto-gate")
BASELINE = "trained-never"
ALPHA = 0.05
TIE = 1e-12  # a mean delta this close to 0 is a tie (float sums of equal scores)


def judge(report_dir: Path, in_domain: str) -> bool:
    """Print each candidate's three conditions with the figures behind them; True when one candidate meets all."""
    deltas = pl.read_parquet(report_dir / "deltas.parquet").filter(pl.col("baseline") == BASELINE)
    ood_file = report_dir / "out_of_domain_deltas.parquet"
    ood = pl.read_parquet(ood_file).filter(pl.col("baseline") == BASELINE) if ood_file.exists() else None
    met = False
    for name in CANDIDATES:
        mine = deltas.filter(pl.col("system") == name)
        if mine.height == 0:
            print(f"{name}: not in the report")
            continue
        home = mine.filter(pl.col("dataset") == in_domain).to_dicts()
        if not home:
            print(f"{name}: no delta on the in-domain set {in_domain!r} (sets: {sorted(set(mine['dataset']))})")
        away = ood.filter(pl.col("system") == name).to_dicts() if ood is not None else []
        wins = mine.filter((pl.col("delta_ndcg_at_10") > TIE) & (pl.col("p_value") < ALPHA))["dataset"].to_list()
        checks = {
            f"in domain ({in_domain}) delta >= 0": bool(home) and home[0]["delta_ndcg_at_10"] >= -TIE,
            "out-of-domain mean delta >= 0": bool(away) and away[0]["delta_ndcg_at_10"] >= -TIE,
            f"better with p < {ALPHA} on a set": bool(wins),
        }
        for row in home + away:
            where = row.get("dataset") or f"out of domain ({row['datasets']} sets)"
            print(
                f"{name} on {where}: delta nDCG@10 {row['delta_ndcg_at_10']:+.4f}, "
                f"{row['better']}/{row['worse']}/{row['tied']} better/worse/tied, p {row['p_value']:.4g}"
            )
        for label, ok in checks.items():
            print(f"{name}: {label}: {'yes' if ok else 'no'}" + (f" {wins}" if label.startswith("better") else ""))
        met = met or all(checks.values())
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--in-domain", help="the training set (default: the report's config.json in_domain)")
    args = parser.parse_args()
    in_domain = args.in_domain
    if in_domain is None:
        recorded = json.loads((args.report_dir / "config.json").read_text()).get("in_domain")
        if not recorded:
            parser.error(f"{args.report_dir / 'config.json'} records no in_domain set; name it with --in-domain")
        in_domain = recorded[0]
    print(f"thinking_target_met={int(judge(args.report_dir, in_domain))}")


if __name__ == "__main__":
    main()
