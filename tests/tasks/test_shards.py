"""Shards: atomic writes, hive layout readable by Polars, manifests, and the single-writer lock."""

from __future__ import annotations

import multiprocessing as mp
import time

import polars as pl
import pyarrow as pa
import pytest

from o1embed.tasks.errors import ConcurrentWriterError
from o1embed.tasks.schemas import CORPUS
from o1embed.tasks.shards import DatasetVersion, list_versions, shard_name


def dv(tmp_path):
    return DatasetVersion(tmp_path, "toy", "train", "v1")


def test_shard_write_read_and_polars_scan(tmp_path):
    d = dv(tmp_path)
    t = pa.table({"doc_id": ["a", "b"], "title": ["", "t"], "text": ["x", "y"]}, schema=CORPUS)
    d.write_shard("corpus", shard_name(1, 0), t)
    assert d.has_shard("corpus", "part-r0001-00000")
    assert d.read("corpus").num_rows == 2
    df = pl.scan_parquet(str(tmp_path / "corpus" / "**" / "*.parquet"), hive_partitioning=True).collect()
    assert df["dataset"].to_list() == ["toy", "toy"] and df["version"].to_list() == ["v1", "v1"]
    assert not list(d.table_dir("corpus").glob(".*"))  # no temp files left behind


def test_manifest_counts_come_from_disk(tmp_path):
    d = dv(tmp_path)
    t = pa.table({"doc_id": ["a"], "title": [""], "text": ["x"]}, schema=CORPUS)
    d.write_shard("corpus", "part-r0001-00000", t)
    d.write_manifest(1, {"note": "x"})
    m = d.manifest()
    assert m["tables"]["corpus"]["rows"] == 1 and len(m["tables"]["corpus"]["shards"][0]["sha256"]) == 64
    assert d.manifest(1) == m and m["revision"] == 1
    assert [v.version for v in list_versions(tmp_path)] == ["v1"]


def _hold_lock(root, ready, release):
    d = DatasetVersion(root, "toy", "train", "v1")
    with d.writer_lock():
        ready.set()
        release.wait(30)


def test_second_writer_is_refused_with_a_clear_message(tmp_path):
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    p.start()
    try:
        assert ready.wait(30)
        with (
            pytest.raises(ConcurrentWriterError, match=r"being written by another run \(pid \d+\)"),
            dv(tmp_path).writer_lock(),
        ):
            pass
    finally:
        release.set()
        p.join(30)
    t0 = time.monotonic()
    with dv(tmp_path).writer_lock(wait=True):  # free again
        assert time.monotonic() - t0 < 30
