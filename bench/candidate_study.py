"""The candidate study of issue 14: does a larger K, or several prompt styles, give more winners over the query?

Reads the four dataset versions that ``bench/candidate_study_run.sh`` writes under ``<study>/<name>/``
(``paper-k3``, ``paper-k6``, ``multi-k3``, ``multi-k6``) and their outside checks (``<study>/<name>.check.json``),
and prints, per version, over the queries with at least one candidate:

* ``<member> beats``: share of queries whose committee winner ranks the best positive better (smaller rank) than
  the bare query does, in that member's own view;
* ``committee beats``: share whose winner beats the query for the committee (mean reciprocal-rank gain > 0,
  ``examples.beats_query``); ``any cand. beats``: share where at least one candidate does (the best-of-K ceiling);
* ``outside beats``: share whose winner gains reciprocal rank under the outside retriever (BM25 k1 0.9, b 0.4);
  ``outside gain``: its mean RR gain; ``chosen - random``: the outside check's difference with its 95% CI.

Then paired comparisons on the queries both versions judged (McNemar's exact test: a two-sided binomial test on
the discordant pairs, scipy's ``binomtest``), and the per-style shares of the multi-style versions.
A version not yet written is listed as missing. Last line: the committee's share for multi-k6 over paper-k3.

Usage:
    python bench/candidate_study.py data/runs/study/q200 [--markdown-out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import polars as pl
from scipy.stats import binomtest

from o1embed.tasks.shards import list_versions

VERSIONS = ["paper-k3", "paper-k6", "multi-k3", "multi-k6"]
PAIRS = [
    ("paper-k3", "paper-k6"),
    ("paper-k3", "multi-k3"),
    ("paper-k6", "multi-k6"),
    ("multi-k3", "multi-k6"),
    ("paper-k3", "multi-k6"),
]


def read(root: Path, table: str) -> pl.DataFrame:
    (dv,) = list_versions(str(root))
    return pl.from_arrow(dv.read(table))


def per_query(study: Path, name: str) -> tuple[pl.DataFrame, dict, pl.DataFrame, list[str]] | None:
    """One row per judged query (committee and per-member verdicts, outside gain), the check report, the
    committee's mean gain per candidate with its style, and the member names."""
    root, check_file = study / name, study / f"{name}.check.json"
    if not check_file.exists():
        return None
    ex = read(root, "examples").filter(pl.col("winner_idx") >= 0)
    j = read(root, "judgements")
    base = j.filter(pl.col("candidate_idx") == -1).select("query_id", "member", base_rank="rank")
    win = ex.select("query_id", candidate_idx="winner_idx").join(j, on=["query_id", "candidate_idx"])
    members = (
        win.join(base, on=["query_id", "member"])
        .with_columns(beats=pl.col("rank") < pl.col("base_rank"))
        .pivot(on="member", index="query_id", values="beats")
    )
    check = json.loads(check_file.read_text())
    outside = pl.DataFrame(check["per_query"]).select("query_id", outside_gain="gain_chosen")
    rows = (
        ex.select(
            "query_id",
            "winner_idx",
            committee="beats_query",
            any_candidate=pl.col("candidate_gains").list.eval(pl.element() > 0).list.any(),
        )
        .join(members, on="query_id")
        .join(outside, on="query_id")
        .with_columns(outside=pl.col("outside_gain") > 0)
    )
    cands = read(root, "candidates").select("query_id", "candidate_idx", "style")
    cand_gain = (
        j.filter(pl.col("candidate_idx") >= 0)
        .group_by("query_id", "candidate_idx")
        .agg(gain=pl.col("gain").mean())
        .join(cands, on=["query_id", "candidate_idx"])
    )
    return rows, check, cand_gain, sorted(j["member"].unique().to_list())


def fmt_share(x: float) -> str:
    return f"{100 * x:.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", type=Path, help="the study folder (e.g. data/runs/study/q200)")
    ap.add_argument("--markdown-out", type=Path, help="also write the tables here")
    args = ap.parse_args()
    data = {n: r for n in VERSIONS if (r := per_query(args.study, n)) is not None}
    out: list[str] = []
    members = sorted({m for *_, ms in data.values() for m in ms})
    head = ["version", "queries", *[f"{m} beats" for m in members], "committee beats", "any cand. beats"]
    head += ["outside beats", "outside gain", "chosen - random [95% CI]"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in VERSIONS:
        if name not in data:
            out.append(f"| {name} | missing |" + " |" * (len(head) - 2))
            continue
        rows, check, *_ = data[name]
        lo, hi = check["difference_ci95"]
        cells = [name, str(rows.height), *[fmt_share(rows[m].mean()) for m in members]]
        cells += [fmt_share(rows["committee"].mean()), fmt_share(rows["any_candidate"].mean())]
        cells += [fmt_share(rows["outside"].mean()), f"{rows['outside_gain'].mean():+.4f}"]
        cells += [f"{check['difference']:+.4f} [{lo:+.4f}, {hi:+.4f}]"]
        out.append("| " + " | ".join(cells) + " |")

    out += [
        "",
        "Paired (same queries), McNemar exact: B beats the query where A does not (b) / the reverse (c)",
        "",
    ]
    out += [
        "| A | B | queries | view | share A | share B | b | c | p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for a, b in PAIRS:
        if a not in data or b not in data:
            continue
        both = data[a][0].join(data[b][0], on="query_id", suffix="_b")
        for view in ["committee", "outside", *members]:
            x, y = both[view], both[f"{view}_b"]
            nb, nc = int((~x & y).sum()), int((x & ~y).sum())
            p = binomtest(nb, nb + nc, 0.5).pvalue if nb + nc else 1.0
            out.append(
                f"| {a} | {b} | {both.height} | {view} | {fmt_share(x.mean())} | {fmt_share(y.mean())} "
                f"| {nb} | {nc} | {p:.3f} |"
            )

    for name in ("multi-k3", "multi-k6"):
        if name not in data:
            continue
        rows, _, cand_gain, _ = data[name]
        winners = rows.join(
            cand_gain.select("query_id", winner_idx="candidate_idx", style="style"),
            on=["query_id", "winner_idx"],
        )
        styles = (
            cand_gain.group_by("style")
            .agg(
                candidates=pl.len(),
                cand_beats=(pl.col("gain") > 0).mean(),
                cand_gain=pl.col("gain").mean(),
            )
            .join(
                winners.group_by("style").agg(
                    wins=pl.len(),
                    wins_beating=pl.col("committee").sum(),
                    outside_beats=pl.col("outside").mean(),
                ),
                on="style",
                how="left",
            )
            .sort("style")
        )
        n_beat = max(int(rows["committee"].sum()), 1)
        out += ["", f"Per style, {name} ({rows.height} queries)", ""]
        out += [
            "| style | candidates | candidate beats query (committee) | mean candidate gain | share of winners "
            "| share of winners that beat the query | outside beats, when it wins |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in styles.iter_rows(named=True):
            wins = s["wins"] or 0
            out.append(
                f"| {s['style']} | {s['candidates']} | {fmt_share(s['cand_beats'])} | {s['cand_gain']:+.4f} "
                f"| {fmt_share(wins / rows.height)} | {fmt_share((s['wins_beating'] or 0) / n_beat)} "
                f"| {fmt_share(s['outside_beats']) if wins else '-'} |"
            )
    text = "\n".join(out)
    if args.markdown_out:
        args.markdown_out.write_text(text + "\n")
    print(text)
    ratio = (
        data["multi-k6"][0]["committee"].mean() / data["paper-k3"][0]["committee"].mean()
        if "multi-k6" in data and "paper-k3" in data
        else math.nan
    )
    print(f"winner_beats_query_share_multi_k6_vs_paper_k3={ratio:.4f}")


if __name__ == "__main__":
    main()
