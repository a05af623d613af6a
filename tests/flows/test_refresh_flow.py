"""Incremental refresh: only new queries reach the LLM, a new manifest version appears, old rows stay."""

from __future__ import annotations

import json

import polars as pl
import pytest

from o1embed.flows.refresh import refresh
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.shards import list_versions
from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server, server_stats

pytestmark = pytest.mark.usefixtures("prefect_api", "ray_session")


def test_refresh_sends_exactly_the_new_queries(tmp_path):
    src = tmp_path / "src"
    make_beir(src, 40, n_docs=80)
    with fake_openai_server() as url:
        cfg = SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(tmp_path / "out"),
            cache_dir=str(tmp_path / "cache"),
            shard_size=16,
            llm={"base_url": url, "concurrency": 8},
        )
        committee = CommitteeConfig(use_ray=False)
        first = refresh(cfg, committee=committee)["synthesis"]
        calls_before = server_stats(url)
        (dv,) = list_versions(tmp_path / "out")
        old_files = {s["file"]: s["sha256"] for t in dv.manifest()["tables"].values() for s in t["shards"]}
        old_examples = pl.read_parquet(dv.files("examples")).sort("query_id")

        make_beir(src, 60, n_docs=80)  # the same 40 queries plus 20 new ones
        second = refresh(cfg, committee=committee)["synthesis"]
        stats = server_stats(url)
        third = refresh(cfg, committee=committee)["synthesis"]
        assert server_stats(url)["calls"] == stats["calls"]  # nothing new: nothing sent
    assert first["revision"] == 1 and second["revision"] == 2 and first["version"] == second["version"]
    assert calls_before["calls"] == 120 and stats["calls"] - calls_before["calls"] == 60
    new_texts = {q for q, n in stats["queries"].items() if n > calls_before["queries"].get(q, 0)}
    assert new_texts == {f"about qid-{i:05d} and topic {i % 37}?" for i in range(40, 60)}
    assert dv.manifest(2)["revision"] == 2 and dv.manifest(1)["revision"] == 1
    assert json.loads(dv.manifest_path().read_text())["revision"] == 2
    now = {s["file"]: s["sha256"] for t in dv.manifest()["tables"].values() for s in t["shards"]}
    for f, sha in old_files.items():
        if "snapshot" not in f:  # source snapshots are replaced per revision; shards never are
            assert now[f] == sha, f
    examples = pl.read_parquet(dv.files("examples"))
    assert examples.height == 60 and examples["query_id"].n_unique() == 60
    kept = examples.filter(pl.col("query_id").is_in(old_examples["query_id"].to_list())).sort("query_id")
    assert kept.equals(old_examples)
    assert third["revision"] is None and dv.manifest()["revision"] == 2
