"""bench/pool_search.py: an approximate pool search that keeps every posting and reads every list is exact."""

from __future__ import annotations

import argparse

from o1embed.tasks.retrievers.spec import RetrieverSpec
from tests.bench.load import bench_module

pool_search = bench_module("pool_search")
scale = bench_module("scale")


def test_recall_is_one_when_nothing_is_pruned(tmp_path, tiny_dense_model):
    folder = scale.make_synthetic_beir(tmp_path / "beir", n_queries=40, n_docs=600)
    ids, texts, queries, pos = pool_search.load(folder, 40)
    assert len(ids) == 600 and len(queries) == len(pos) == 40
    args = argparse.Namespace(pool_top_n=50, batch=16)
    bm25 = RetrieverSpec(kind="bm25s")
    row = pool_search.compare(bm25, bm25.model_copy(update={"search_postings": 600}), ids, texts, queries, pos, args)
    assert row["pool_recall"] == 1.0 and row["exact_positive_in_pool"] == row["approximate_positive_in_pool"]
    dense = RetrieverSpec(kind="dense", model_path=tiny_dense_model, cache=False, max_seq_length=64)
    flat = dense.model_copy(update={"search_index": "IVF4,Flat", "search_index_params": "nprobe=4"})
    assert pool_search.compare(dense, flat, ids, texts, queries, pos, args)["pool_recall"] > 0.99
