"""bench/thinking_target.py: issue 14's verdict from a report folder's delta tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.bench.load import BENCH, bench_module

target = bench_module("thinking_target")


def write_report(folder: Path, home: float, away: float, p_home: float) -> Path:
    """A report folder with ``trained-auto``'s deltas against ``trained-never`` (and a row of another baseline)."""
    folder.mkdir()
    counts = {"better": 3, "worse": 1, "tied": 6, "queries": 10}
    pl.DataFrame(
        [
            {
                "dataset": "scifact",
                "system": "trained-auto",
                "baseline": "trained-never",
                "delta_ndcg_at_10": home,
                "p_value": p_home,
                **counts,
            },
            {
                "dataset": "cisi",
                "system": "trained-auto",
                "baseline": "trained-never",
                "delta_ndcg_at_10": away,
                "p_value": 0.5,
                **counts,
            },
            {
                "dataset": "cisi",
                "system": "bm25-thought",
                "baseline": "bm25",
                "delta_ndcg_at_10": 0.5,
                "p_value": 0.001,
                **counts,
            },
        ]
    ).write_parquet(folder / "deltas.parquet")
    pl.DataFrame(
        [
            {
                "system": "trained-auto",
                "baseline": "trained-never",
                "datasets": 1,
                "delta_ndcg_at_10": away,
                "p_value": 0.5,
                **counts,
            }
        ]
    ).write_parquet(folder / "out_of_domain_deltas.parquet")
    return folder


def test_the_target_needs_all_three_conditions(tmp_path, capsys):
    assert target.judge(write_report(tmp_path / "met", 0.02, 0.0, 0.01), "scifact")
    assert not target.judge(write_report(tmp_path / "not-significant", 0.02, 0.01, 0.2), "scifact")
    assert not target.judge(write_report(tmp_path / "worse-away", 0.02, -0.01, 0.01), "scifact")
    # another baseline's significant win does not count; a missing candidate is named
    out = capsys.readouterr().out
    assert "trained-auto-fused: not in the report" in out and "better with p < 0.05 on a set: yes ['scifact']" in out


def test_the_first_real_run_misses_the_target_on_significance_alone(capsys):
    """docs/results/thinking-809: auto >= never on SciFact and out of domain, no set with p < 0.05."""
    report = BENCH.parent / "docs/results/thinking-809"
    assert not target.judge(report, "scifact")
    out = capsys.readouterr().out
    assert "trained-auto: in domain (scifact) delta >= 0: yes" in out
    assert "trained-auto: out-of-domain mean delta >= 0: yes" in out
    assert "trained-auto: better with p < 0.05 on a set: no" in out
