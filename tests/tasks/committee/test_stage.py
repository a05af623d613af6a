"""The committee stage on a toy dataset version: shards, errors, resume, statistics, manifest, export, check."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from o1embed.tasks.committee.check import outside_check
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.export import export_flagembedding
from o1embed.tasks.committee.shard import run_shard
from o1embed.tasks.committee.stage import pending_shards, run_committee
from o1embed.tasks.errors import ConfigError, InputError
from tests.tasks.committee.toy import SHARD0, SHARD1


def test_every_planned_query_has_an_example_or_an_error(toy_dv, bm25_config):
    out = run_committee(toy_dv, bm25_config)
    assert [s.shard for s in out.shards] == [SHARD0, SHARD1]
    ex = pl.from_arrow(toy_dv.read("examples"))
    err = pl.from_arrow(toy_dv.read("errors")).filter(pl.col("stage") == "committee")
    planned = {q for qs in toy_dv.plans()[1]["shards"].values() for q in qs}
    assert set(ex["query_id"]) | set(err["query_id"]) == planned
    assert set(ex["query_id"]).isdisjoint(set(err["query_id"]))
    assert set(err["query_id"]) == {"qx", "qn"}
    # same shard names as the candidates, errors named committee-<shard>
    assert [f.stem for f in toy_dv.files("examples")] == [SHARD0, SHARD1]
    assert [f.stem for f in toy_dv.files("judgements")] == [SHARD0, SHARD1]
    assert {f.stem for f in toy_dv.files("errors")} == {f"committee-{SHARD0}", f"committee-{SHARD1}"}
    by = {r["query_id"]: r for r in ex.to_dicts()}
    jd = pl.from_arrow(toy_dv.read("judgements"))
    base_best = jd.filter(pl.col("candidate_idx") == -1).group_by("query_id").agg(pl.col("rank").max())
    at_top = set(base_best.filter(pl.col("rank") == 1)["query_id"])  # no thought can beat these
    # good thoughts win (they name the positive's unique keyword), q0 has none, q1 has no candidates
    for q, r in by.items():
        if q not in ("q0", "q1") and q not in at_top:
            assert r["policy"] == "kept" and "kw" + q[1:] in r["thought"], r
        elif q in at_top:
            assert r["policy"] == "query_only"
    assert sum(r["policy"] == "kept" for r in by.values()) >= 12
    assert by["q0"]["policy"] == "query_only" and by["q0"]["thought"] == ""
    assert by["q1"]["policy"] == "no_candidates"
    assert by["q2"]["positive_ids"] == ["d2", "d59"]
    for r in ex.to_dicts():
        assert len(r["negative_ids"]) == 5 and not set(r["negative_ids"]) & set(r["positive_ids"])
    # judgements: baseline + every candidate, per member
    cands = pl.from_arrow(toy_dv.read("candidates"))
    n_cands = cands.filter(pl.col("query_id").is_in(list(by))).height  # qn's candidates are not judged
    assert jd.height == 2 * (n_cands + ex.height)


def test_manifest_statistics_and_histogram(toy_dv, bm25_config):
    out = run_committee(toy_dv, bm25_config)
    section = toy_dv.manifest()["committee"]
    assert section["fingerprint"] == bm25_config.fingerprint()
    assert [m["name"] for m in section["members"]] == ["bm25", "bm25-plain"]
    assert toy_dv.manifest()["tables"]["examples"]["rows"] == out.stats["examples"] == 16
    stats = json.loads(Path(out.stats_path).read_text())
    assert stats["planned_queries"] == 18 and stats["errors"] == 2
    assert stats["vote_distribution"] and stats["member_agreement"] is not None
    assert stats["mean_gain_winner"] > stats["mean_gain_any_candidate"]
    assert Path(out.histogram_path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_skips_done_shards_and_ends_with_the_same_rows(toy_dv, bm25_config):
    run_committee(toy_dv, bm25_config)
    full = toy_dv.read("examples").sort_by("query_id")
    toy_dv.shard_path("examples", SHARD1).unlink()  # as if killed after SHARD1's judgements
    todo, done, waiting = pending_shards(toy_dv)
    assert list(todo) == [SHARD1] and done == [SHARD0] and waiting == []
    out = run_committee(toy_dv, bm25_config)
    assert [s.shard for s in out.shards] == [SHARD1] and out.skipped == [SHARD0]
    assert toy_dv.read("examples").sort_by("query_id").equals(full)


def test_shard_without_candidates_waits(toy_dv, bm25_config):
    toy_dv.shard_path("candidates", SHARD1).unlink()
    out = run_committee(toy_dv, bm25_config)
    assert out.waiting == [SHARD1] and [s.shard for s in out.shards] == [SHARD0]


def test_another_committee_config_is_refused(toy_dv, bm25_config):
    run_committee(toy_dv, bm25_config)
    with pytest.raises(ConfigError, match="judged with committee config"):
        run_committee(toy_dv, bm25_config.model_copy(update={"negatives_count": 7}))


def test_execution_settings_do_not_change_the_committee(toy_dv, bm25_config):
    run_committee(toy_dv, bm25_config)
    toy_dv.shard_path("examples", SHARD1).unlink()
    moved = bm25_config.model_copy(
        update={
            "members": [
                m.model_copy(update={"batch_size": 8, "num_threads": 1, "device": "cpu", "cache": False})
                for m in bm25_config.members
            ],
            "batch_queries": 3,
            "actor_num_cpus": 2.0,
        }
    )
    assert moved.fingerprint() == bm25_config.fingerprint()
    out = run_committee(toy_dv, moved)  # resumes the same version on other hardware settings
    assert [s.shard for s in out.shards] == [SHARD1]


def test_versions_written_with_the_legacy_fingerprint_still_resume(toy_dv, bm25_config):
    run_committee(toy_dv, bm25_config)
    manifest = toy_dv.manifest()
    manifest["committee"]["fingerprint"] = bm25_config.legacy_fingerprint()
    toy_dv.write_manifest(manifest["revision"], manifest)
    toy_dv.shard_path("examples", SHARD1).unlink()
    out = run_committee(toy_dv, bm25_config)
    assert [s.shard for s in out.shards] == [SHARD1]


def test_missing_corpus_is_a_clear_error(tmp_path, bm25_config):
    from o1embed.tasks.shards import DatasetVersion

    dv = DatasetVersion(tmp_path, "none", "train", "v")
    dv.write_plan(1, {"shards": {}})
    with pytest.raises(InputError, match="no corpus snapshot"):
        run_committee(dv, bm25_config)


def test_export_flagembedding(toy_dv, bm25_config, tmp_path):
    run_committee(toy_dv, bm25_config)
    path = tmp_path / "train.jsonl"
    n = export_flagembedding(toy_dv, path)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert n == len(lines) == 16
    rec = next(r for r in lines if r["query_id"] == "q3")
    assert set(rec) == {"query_id", "query", "pos", "neg", "thought"}
    assert rec["pos"][0].startswith("title 3 kw3 ") and len(rec["neg"]) == 5 and "kw3" in rec["thought"]
    export_flagembedding(toy_dv, path, fold_thought=True)
    rec2 = next(json.loads(x) for x in path.read_text().splitlines() if '"q3"' in x)
    assert rec2["query"] == f"{rec['query']} {rec['thought']}"


def test_export_keeps_only_the_newest_example_of_an_edited_query(toy_dv, bm25_config, tmp_path):
    run_committee(toy_dv, bm25_config)
    examples = toy_dv.read("examples")
    q3 = next(r for r in examples.to_pylist() if r["query_id"] == "q3")
    edited = {**q3, "query": "the edited text", "shard": "part-r0099-00000"}
    toy_dv.write_shard("examples", "part-r0099-00000", pa.Table.from_pylist([edited], schema=examples.schema))
    path = tmp_path / "train.jsonl"
    assert export_flagembedding(toy_dv, path) == 16
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["query"] for r in lines if r["query_id"] == "q3"] == ["the edited text"]


def test_outside_check_chosen_beats_random(toy_dv, bm25_config):
    run_committee(toy_dv, bm25_config)
    report = outside_check(toy_dv)
    assert report["queries"] == 15  # every query with at least one candidate
    assert report["chosen_beats_random"] and report["mean_gain_chosen"] > report["mean_gain_random"]
    assert report["difference_ci95"][0] > 0
    assert report["wins"] + report["ties"] + report["losses"] == 15
    per_query = report["per_query"]  # for paired comparisons between versions
    assert len(per_query["query_id"]) == len(per_query["gain_chosen"]) == 15
    assert report["chosen_beats_query"] == sum(g > 0 for g in per_query["gain_chosen"])
    assert abs(sum(per_query["gain_chosen"]) / 15 - report["mean_gain_chosen"]) < 1e-9


def test_outside_check_refuses_a_committee_member(toy_dv, bm25_config):
    run_committee(toy_dv, bm25_config)
    with pytest.raises(ConfigError, match="is a committee member"):
        outside_check(toy_dv, bm25_config.members[0])


def test_config_validation():
    with pytest.raises(ValueError, match="thought"):
        CommitteeConfig(template="{query}")
    with pytest.raises(ValueError, match="unique"):
        CommitteeConfig(members=[{"kind": "bm25s"}, {"kind": "bm25s"}])
    with pytest.raises(ValueError, match="negatives_depth"):
        CommitteeConfig(negatives_depth=5)
    assert CommitteeConfig(template="{thought}").search_query("q", "t") == "t"


def test_the_driver_keeps_no_corpus_texts_while_judging(toy_dv, bm25_config, monkeypatch):
    """The members index the texts; the shards are judged with ids and positions only (the driver's memory)."""
    import o1embed.tasks.committee.stage as stage

    seen = []

    def recording(dv, shard, qids, inputs, members, config):
        seen.append((len(inputs.corpus.doc_ids), len(inputs.corpus.texts)))
        return run_shard(dv, shard, qids, inputs, members, config)

    monkeypatch.setattr(stage, "run_shard", recording)
    out = run_committee(toy_dv, bm25_config)
    assert seen and all(n_ids > 0 and n_texts == 0 for n_ids, n_texts in seen)
    assert out.stats["examples"] > 0
