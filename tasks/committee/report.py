"""Vote statistics and the thought-gain histogram of a judged dataset version.

Example:
    >>> stats = vote_statistics(examples, judgements)          # doctest: +SKIP
    >>> stats["member_agreement"], stats["mean_gain"]          # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from o1embed.tasks.atomic import write_bytes_atomic
from o1embed.tasks.figures import png_bytes


def vote_statistics(
    examples: pa.Table, judgements: pa.Table | Iterable[pa.Table], errors: pa.Table | None = None
) -> dict:
    """Summarise a committee run.

    Args:
        examples: the ``examples`` table.
        judgements: the ``judgements`` table, or its parts one after another (each query's rows in one part,
            e.g. one shard's current rows each: :func:`tasks.current_rows.current_parts`), so the
            driver holds one shard's judgements at a time; the figures are the same.
        errors: the ``errors`` table (only ``stage == "committee"`` rows are counted).

    Returns:
        A JSON-able dict: counts, policy counts, the vote distribution (winner's votes / members), member agreement
        (all members chose the same candidate; and per pair), mean gains (committee and per member, of the winner
        and of a candidate on average), and the fraction of winners that beat the bare query.
    """
    ex = pl.from_arrow(examples)
    judged = ex.filter(pl.col("winner_idx") >= 0)
    winners = judged.select("query_id", pl.col("winner_idx").alias("candidate_idx"))
    parts = [judgements] if isinstance(judgements, pa.Table) else judgements
    sums = _JudgementSums()
    for part in parts:
        sums.add(pl.from_arrow(part), winners)
    members = sorted(sums.members)
    out: dict = {"examples": ex.height, "members": members}
    out["policy"] = dict(sorted(ex.group_by("policy").len().iter_rows())) if ex.height else {}
    if errors is not None and errors.num_rows:
        er = pl.from_arrow(errors).filter(pl.col("stage") == "committee")
        out["errors"] = er.height
        out["error_reasons"] = dict(
            er.with_columns(pl.col("reason").str.split(";").list.first().str.slice(0, 60))
            .group_by("reason")
            .len()
            .sort("len", descending=True)
            .head(10)
            .iter_rows()
        )
    else:
        out["errors"] = 0
    out["judged_queries"] = judged.height
    n_m = max(len(members), 1)
    out["vote_distribution"] = (
        {f"{v}/{n_m}": c for v, c in sorted(judged.group_by("votes").len().iter_rows())} if judged.height else {}
    )
    out["beats_query_fraction"] = float(judged["beats_query"].mean()) if judged.height else 0.0
    winner_gain, all_gains = _gains(judged)
    out["mean_gain_winner"] = float(winner_gain.mean()) if len(winner_gain) else 0.0
    out["mean_gain_any_candidate"] = float(all_gains.mean()) if len(all_gains) else 0.0
    out["mean_gain"] = float(ex["gain"].mean()) if ex.height else 0.0  # of what was kept (0 for query-only)
    # member agreement over queries with >= 2 candidates
    if sums.agree_n and len(members) > 1:
        out["member_agreement"] = sums.agree_same / sums.agree_n
        out["pairwise_agreement"] = {k: same / n for k, (same, n) in sums.pairs.items() if n}
    else:
        out["member_agreement"] = None
        out["pairwise_agreement"] = {}
    # per member: mean reciprocal rank of the positive for the bare query and for the winner, and its gain
    per_member = {}
    if sums.rows and judged.height:
        for m in members:
            t = sums.per_member[m]
            per_member[m] = {
                "mrr_query_only": t["base_rr"] / t["base_n"] if t["base_n"] else 0.0,
                "mrr_winner": t["win_rr"] / t["win_n"] if t["win_n"] else 0.0,
                "mean_gain_winner": t["win_gain"] / t["win_n"] if t["win_n"] else 0.0,
                "votes_for_winner": t["win_vote"] / t["win_n"] if t["win_n"] else 0.0,
            }
    out["per_member"] = per_member
    return out


class _JudgementSums:
    """Sums and counts behind the judgement figures, added one part (a set of whole queries) at a time."""

    def __init__(self):
        self.rows, self.members = 0, set()
        self.agree_same, self.agree_n = 0, 0
        self.pairs: dict[str, list[int]] = {}
        self.per_member: dict[str, dict[str, float]] = {}

    def add(self, jd: pl.DataFrame, winners: pl.DataFrame) -> None:
        if not jd.height:
            return
        self.rows += jd.height
        names = sorted(jd["member"].unique().to_list())
        self.members.update(names)
        cand = jd.filter(pl.col("candidate_idx") >= 0)
        choice = cand.filter(pl.col("vote")).select("query_id", "member", "candidate_idx")
        multi = cand.group_by("query_id", "member").len().filter(pl.col("len") >= 2)["query_id"].unique()
        choice = choice.filter(pl.col("query_id").is_in(multi.implode()))
        if choice.height:
            wide = choice.pivot(on="member", index="query_id", values="candidate_idx")
            cols = [m for m in names if m in wide.columns]
            if len(cols) > 1:
                same = wide.select(pl.all_horizontal([pl.col(c) == pl.col(cols[0]) for c in cols[1:]])).to_series()
                self.agree_same += int(same.sum())
                self.agree_n += same.len() - same.null_count()
                for a, b in itertools.combinations(cols, 2):
                    eq = wide[a] == wide[b]
                    pair = self.pairs.setdefault(f"{a}|{b}", [0, 0])
                    pair[0] += int(eq.sum())
                    pair[1] += eq.len() - eq.null_count()
        for m in names:
            t = self.per_member.setdefault(
                m, dict.fromkeys(("base_rr", "base_n", "win_rr", "win_gain", "win_vote", "win_n"), 0.0)
            )
            jm = jd.filter(pl.col("member") == m)
            base = jm.filter(pl.col("candidate_idx") == -1)["reciprocal_rank"]
            t["base_rr"] += float(base.sum())
            t["base_n"] += base.len()
            w = jm.join(winners, on=["query_id", "candidate_idx"])
            t["win_rr"] += float(w["reciprocal_rank"].sum())
            t["win_gain"] += float(w["gain"].sum())
            t["win_vote"] += float(w["vote"].sum())
            t["win_n"] += w.height


def _gains(judged: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The winners' mean gains ``(n_judged,)`` and every candidate's ``(n_candidates,)``, in columnar form (no
    Python object per row: the report's memory must not grow with the queries faster than the tables do)."""
    flat = judged.select("winner_idx", "candidate_idxs", "candidate_gains").explode("candidate_idxs", "candidate_gains")
    winner = flat.filter(pl.col("candidate_idxs") == pl.col("winner_idx"))["candidate_gains"]
    return winner.to_numpy(), flat["candidate_gains"].drop_nulls().to_numpy()


def statistics_rows(stats: dict) -> list[dict]:
    """Flatten :func:`vote_statistics` into ``{"statistic", "value"}`` rows for a Prefect table artifact."""
    rows = []
    for k, v in stats.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(v2, dict):
                    for k3, v3 in v2.items():
                        rows.append({"statistic": f"{k}.{k2}.{k3}", "value": _fmt(v3)})
                else:
                    rows.append({"statistic": f"{k}.{k2}", "value": _fmt(v2)})
        else:
            rows.append({"statistic": k, "value": _fmt(v)})
    return rows


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def gain_histogram_png(examples: pa.Table, path: str | Path, bins: int = 30) -> Path:
    """Draw the thought-gain histogram: the winner's mean gain per judged query, and every candidate's.

    Args:
        examples: the ``examples`` table.
        path: PNG to write (atomically).
        bins: histogram bins over [-1, 1].

    Returns:
        The PNG path.
    """

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    winner, all_gains = _gains(pl.from_arrow(examples).filter(pl.col("winner_idx") >= 0))
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    edges = np.linspace(-1, 1, bins + 1)
    ax.hist(all_gains, bins=edges, alpha=0.5, label=f"every candidate (n={len(all_gains)})", color="tab:gray")
    ax.hist(winner, bins=edges, alpha=0.7, label=f"committee winner (n={len(winner)})", color="tab:blue")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("thought gain = RR(query + thought) - RR(query) of the positive, mean over members")
    ax.set_ylabel("count (log scale)")
    ax.set_yscale("log")
    ax.set_title("Thought gain")
    ax.legend()
    fig.tight_layout()
    return write_bytes_atomic(path, png_bytes(fig))
