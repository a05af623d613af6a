"""bench/bm25_gate.py: each query takes the vector its gate chose; the gate's inputs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.bench.load import bench_module

gate = bench_module("bm25_gate")


def test_each_query_takes_the_vector_its_gate_chose():
    rows = []
    for qid, never, auto, always in (("q1", 0.5, 0.6, 0.2), ("q2", 0.5, 0.1, 0.9), ("q3", 0.4, 0.4, 0.4)):
        for system, score in (("trained-never", never), ("trained-auto", auto), ("trained-always", always)):
            rows.append({"dataset": "d", "system": system, "query_id": qid, "ndcg_at_10": score})
    rows.append({"dataset": "d", "system": "bm25", "query_id": "q1", "ndcg_at_10": 1.0})
    think = {("d", "q1"): False, ("d", "q2"): True, ("d", "q3"): True}
    out = gate.gated(pl.DataFrame(rows), think).row(0, named=True)
    assert out["gated"] == pytest.approx((0.6 + 0.9 + 0.4) / 3)
    assert out["thinks"] == pytest.approx(2 / 3) and (out["better"], out["worse"]) == (2, 0)
    with pytest.raises(KeyError):  # a query the gate did not decide is an error, not a default
        gate.gated(pl.DataFrame(rows), {("d", "q1"): True})


def test_gate_inputs_add_the_relative_gap():
    x = gate.gate_inputs(np.array([[10.0, 2.0, 5.0], [0.0, 0.0, 3.0]]))
    assert x.shape == (2, 4) and x[0, 3] == pytest.approx(0.2) and x[1, 3] == 0.0


def test_gain_labels_mark_where_thinking_did_not_beat_the_skip_vector(tmp_path):
    import json

    from o1embed.tasks.testing.beir import make_beir

    folder = make_beir(tmp_path / "toy", 4, 12, split="test")
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "config.json").write_text(
        json.dumps({"datasets": [{"dataset": "toy", "folder": str(folder), "split": "test"}]})
    )
    rows = []
    for i, (always, auto) in enumerate(((0.9, 0.1), (0.1, 0.9), (0.5, 0.5), (0.7, 0.2))):
        for system, score in (("trained-always", always), ("trained-auto", auto), ("trained-never", 0.3)):
            rows.append({"dataset": "toy", "system": system, "query_id": f"q{i:05d}", "ndcg_at_10": score})
    pl.DataFrame(rows).write_parquet(tmp_path / "report" / "per_query.parquet")
    x, skip = gate.gain_labels(tmp_path / "report")
    assert x.shape == (4, 3) and skip.tolist() == [False, True, True, False]  # a tie is no gain: skip
