"""Incremental refresh: only new queries reach the LLM, a new manifest version appears, old rows stay."""

from __future__ import annotations

import json

import polars as pl
import pytest

from o1embed.flows.refresh import refresh
from o1embed.tasks.committee import check as check_module
from o1embed.tasks.committee.check import outside_check
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.current_rows import read_current_examples
from o1embed.tasks.inspection import inspect_output
from o1embed.tasks.shards import list_versions
from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server, server_stats

pytestmark = pytest.mark.usefixtures("prefect_api", "ray_session")


def configs(tmp_path, src, url) -> tuple[SynthesisConfig, CommitteeConfig]:
    """Synthesis of ``src`` into ``tmp_path/out`` through the fake expert at ``url``; the committee without Ray."""
    cfg = SynthesisConfig(
        dataset_dir=str(src),
        output_dir=str(tmp_path / "out"),
        cache_dir=str(tmp_path / "cache"),
        shard_size=16,
        llm={"base_url": url, "concurrency": 8},
    )
    return cfg, CommitteeConfig(use_ray=False)


def test_refresh_sends_exactly_the_new_queries(tmp_path):
    src = tmp_path / "src"
    make_beir(src, 40, n_docs=80)
    with fake_openai_server() as url:
        cfg, committee = configs(tmp_path, src, url)
        first = refresh(cfg, committee=committee).synthesis
        calls_before = server_stats(url)
        (dv,) = list_versions(tmp_path / "out")
        old_files = {s["file"]: s["sha256"] for t in dv.manifest()["tables"].values() for s in t["shards"]}
        old_examples = pl.read_parquet(dv.files("examples")).sort("query_id")

        make_beir(src, 60, n_docs=80)  # the same 40 queries plus 20 new ones
        second = refresh(cfg, committee=committee).synthesis
        stats = server_stats(url)
        third = refresh(cfg, committee=committee).synthesis
        assert server_stats(url)["calls"] == stats["calls"]  # nothing new: nothing sent
    assert first.revision == 1 and second.revision == 2 and first.version == second.version
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
    assert third.revision is None and dv.manifest()["revision"] == 2


def test_an_edited_query_counts_once_with_its_new_thought(tmp_path, monkeypatch):
    """Superseded rows (the example of a query before its text was edited) reach no reader."""
    src = tmp_path / "src"
    make_beir(src, 20, n_docs=40)
    with fake_openai_server() as url:
        cfg, committee = configs(tmp_path, src, url)
        refresh(cfg, committee=committee)
        queries = src / "queries.jsonl"
        lines = queries.read_text().splitlines()
        edited = json.loads(lines[3])
        old_text, edited["text"] = edited["text"], "an edited question on topic 3?"
        lines[3] = json.dumps(edited)
        queries.write_text("\n".join(lines) + "\n")
        second = refresh(cfg, committee=committee).synthesis
    assert second.revision == 2
    (dv,) = list_versions(tmp_path / "out")
    on_disk = pl.read_parquet(dv.files("examples"))
    assert on_disk.height == 21  # the superseded example stays on disk ...
    # ... but the vote statistics count the query once
    stats = json.loads((tmp_path / "out" / dv.manifest()["committee"]["stats_path"]).read_text())
    assert stats["examples"] == 20 and dv.manifest()["committee"]["stats"]["examples"] == 20
    # inspect: once, with the new thought
    (report,) = inspect_output(tmp_path / "out")
    assert report["votes"]["examples"] == 20
    current = pl.from_arrow(read_current_examples(dv)).filter(pl.col("query_id") == edited["_id"])
    assert current.height == 1 and current["query"][0] == edited["text"]
    if current["thought"][0]:
        assert edited["text"] in current["thought"][0] and old_text not in current["thought"][0]
    # the outside check: once, and with the thoughts of the new revision
    seen: list[str] = []
    real_judge = check_module.judge_batch

    def spy(retriever, req):
        seen.extend(req.strings)
        return real_judge(retriever, req)

    monkeypatch.setattr(check_module, "judge_batch", spy)
    judged = pl.from_arrow(read_current_examples(dv)).filter(pl.col("winner_idx") >= 0)
    assert outside_check(dv)["queries"] == judged.height
    assert not [s for s in seen if old_text in s]
    assert len([s for s in seen if edited["text"] in s]) == 3  # bare query, chosen and random candidate
