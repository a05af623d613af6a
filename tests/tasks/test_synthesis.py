"""Synthesis without Prefect: versions, plans, resume and refresh decisions, shard contents."""

from __future__ import annotations

import hashlib
import json

from pydantic import SecretStr

from o1embed.tasks.llm_client import SamplingConfig
from o1embed.tasks.prompts import SYSTEM_MESSAGE, PromptConfig, candidate_seed
from o1embed.tasks.synthesis import (
    SynthesisConfig,
    build_requests,
    finish_revision,
    judged_queries,
    plan_revision,
    prepare_version,
    synthesize_shard,
    version_id,
    write_snapshots,
)
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server, server_stats


def config(tmp_path, src, **kw):
    return SynthesisConfig(
        dataset_dir=str(src), output_dir=str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"), **kw
    )


def test_version_changes_with_prompt_model_and_sampling_only(tmp_path):
    src = make_beir(tmp_path / "src", 5)
    base = config(tmp_path, src)
    v = version_id(base, "m")
    assert v == version_id(config(tmp_path, src), "m")
    assert v != version_id(base, "other-model")
    assert v != version_id(config(tmp_path, src, sampling=SamplingConfig(temperature=0.1)), "m")
    assert v != version_id(config(tmp_path, src, prompt={"num_demos": 1}), "m")
    assert v == version_id(config(tmp_path, src, llm={"concurrency": 64}), "m")  # speed knobs do not
    assert v == version_id(config(tmp_path, src, llm={"embedded_servers": 4}), "m")


def test_requests_pair_demos_with_other_queries(tmp_path):
    src = make_beir(tmp_path / "src", 30)
    cfg = config(tmp_path, src)
    dv, ingest = prepare_version(cfg, "m")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    reqs = build_requests(["q00003", "q00004"], tables, cfg)
    assert [(r.query_id, r.candidate_idx) for r in reqs] == [
        ("q00003", 0),
        ("q00003", 1),
        ("q00003", 2),
        ("q00004", 0),
        ("q00004", 1),
        ("q00004", 2),
    ]
    for r in reqs:
        assert r.query_id not in r.demo_query_ids and len(r.demo_query_ids) == 3
        assert r.messages[1]["content"].endswith(f"Query: {r.query}\n\nResponse:")


def test_k6_requests_start_with_the_k3_requests(tmp_path):
    src = make_beir(tmp_path / "src", 30)
    for prompt in ({}, {"styles": ["paper", "passage", "keywords"]}):
        k3, k6 = (config(tmp_path, src, candidates_per_query=k, prompt=prompt) for k in (3, 6))
        dv, ingest = prepare_version(k3, "m")
        tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
        qids = ["q00003", "q00004", "q00011"]
        r3, r6 = build_requests(qids, tables, k3), build_requests(qids, tables, k6)
        assert len(r6) == 2 * len(r3)
        first3 = [r for r in r6 if r.candidate_idx < 3]
        assert first3 == r3  # same messages, demos, style and task text
        for a, b in zip(r3, first3, strict=True):
            assert candidate_seed(42, a.query_id, a.candidate_idx, 0) == candidate_seed(
                42, b.query_id, b.candidate_idx, 0
            )
        styles = [r.style for r in r6 if r.query_id == "q00003"]
        assert styles == (["paper"] * 6 if not prompt else ["paper", "passage", "keywords"] * 2)
        assert all(r.messages[1]["content"].startswith(f"Task: {r.task}\n") for r in r6)


def test_paper_style_requests_are_those_of_a_multi_style_candidate_0(tmp_path):
    src = make_beir(tmp_path / "src", 30)
    paper = config(tmp_path, src)
    multi = config(tmp_path, src, prompt={"styles": ["paper", "keywords"]})
    dv, ingest = prepare_version(paper, "m")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    rp, rm = build_requests(["q00005"], tables, paper), build_requests(["q00005"], tables, multi)
    assert rp[0] == rm[0] and rp[2] == rm[2]  # even candidates share the cache entry
    assert rp[1].messages != rm[1].messages and rp[1].demo_query_ids == rm[1].demo_query_ids


def test_candidates_record_their_style(tmp_path):
    src = make_beir(tmp_path / "src", 6)
    cfg = config(tmp_path, src, prompt={"styles": ["paper", "passage", "keywords"]})
    dv, ingest = prepare_version(cfg, "m")
    write_snapshots(dv, ingest)
    qids = [q for q, _ in judged_queries(ingest, None)]
    with fake_openai_server() as url:
        synthesize_shard(dv, "part-r0001-00000", qids, cfg, [url], "fake-expert", SecretStr("k"))
    cands = dv.read("candidates").to_pydict()
    assert all(
        s == ["paper", "passage", "keywords"][k] for s, k in zip(cands["style"], cands["candidate_idx"], strict=True)
    )
    assert len(cands["style"]) == 3 * len(qids)


def test_plan_resume_and_refresh(tmp_path):
    src = make_beir(tmp_path / "src", 10)
    cfg = config(tmp_path, src, shard_size=4)
    dv, ingest = prepare_version(cfg, "m")
    queries = judged_queries(ingest, None)
    plan = plan_revision(dv, queries, 4)
    assert plan.revision == 1 and list(plan.shards) == [
        "part-r0001-00000",
        "part-r0001-00001",
        "part-r0001-00002",
    ]
    write_snapshots(dv, ingest)
    with fake_openai_server() as url:
        synthesize_shard(
            dv, "part-r0001-00000", plan.shards["part-r0001-00000"], cfg, [url], "fake-expert", SecretStr("k")
        )
        again = plan_revision(dv, queries, 4)  # interrupted: same plan, one shard done
        assert again.resumed and again.revision == 1 and again.pending == ["part-r0001-00001", "part-r0001-00002"]
        dv.write_manifest(1, {})
        assert plan_revision(dv, queries, 4) is None  # finished and nothing new
        extra = queries + [("q99999", "h")]
        refresh = plan_revision(dv, extra, 4)
        assert refresh.revision == 2 and refresh.shards == {"part-r0002-00000": ["q99999"]}
    plan_file = json.loads(dv.plan_path(2).read_text())
    assert plan_file["query_sha"] == {"q99999": "h"}


def test_per_query_demos_share_one_prompt_and_prefix_layout_ends_with_the_query(tmp_path):
    src = make_beir(tmp_path / "src", 30)
    per_query = config(tmp_path, src, prompt={"demo_policy": "per_query", "layout": "prefix"})
    dv, ingest = prepare_version(per_query, "m")
    tables = {"corpus": ingest.corpus, "queries": ingest.queries, "pairs": ingest.pairs}
    reqs = build_requests(["q00003", "q00004"], tables, per_query)
    assert reqs[0].messages == reqs[1].messages == reqs[2].messages != reqs[3].messages
    assert reqs[0].query_id not in reqs[0].demo_query_ids and len(reqs[0].demo_query_ids) == 3
    system, user = reqs[0].messages
    assert system["content"].startswith(SYSTEM_MESSAGE) and "Examples:" in system["content"]
    assert user["content"] == f"Query: {reqs[0].query}\n\nResponse:"
    paper = build_requests(["q00003"], tables, config(tmp_path, src))
    assert len({str(r.messages) for r in paper}) == 3  # the paper's policy: demos drawn per candidate
    assert paper[0].messages[1]["content"].startswith("Task:")


def test_default_prompt_keeps_the_versions_made_before_the_new_fields():
    before = PromptConfig().model_dump(exclude={"demo_policy", "layout", "styles"})
    old = json.dumps({"v": 1, **before}, sort_keys=True)
    assert PromptConfig().template_hash() == hashlib.sha256(old.encode()).hexdigest()[:16]
    assert PromptConfig(demo_policy="per_query").template_hash() != PromptConfig().template_hash()
    assert PromptConfig(layout="prefix").template_hash() != PromptConfig().template_hash()


def test_shard_rows_carry_usage_and_the_manifest_sums_it_per_revision(tmp_path):
    src = make_beir(tmp_path / "src", 12)
    cfg = config(tmp_path, src, shard_size=6, prompt={"demo_policy": "per_query"}, use_cache=False)
    dv, ingest = prepare_version(cfg, "fake-expert")
    plan = plan_revision(dv, judged_queries(ingest, None), 6)
    write_snapshots(dv, ingest)
    with fake_openai_server(ignore_n=True) as url:
        for s in plan.pending:
            summary = synthesize_shard(dv, s, plan.shards[s], cfg, [url], "fake-expert", SecretStr("k"))
        manifest = finish_revision(dv, plan, cfg, ingest, "fake-expert", url)
    assert summary.requests == 1 + 18  # the probe, then one request per candidate
    cands = dv.read("candidates")
    assert cands.num_rows == 36 and cands["prompt_tokens"].null_count == 0
    assert set(cands["finish_reason"].to_pylist()) == {"stop"}
    usage = manifest.usage["1"]
    assert usage["prompt_tokens"] == sum(cands["prompt_tokens"].to_pylist())
    assert usage["completion_tokens"] == sum(cands["completion_tokens"].to_pylist())
    assert usage["candidates"]["finish_reasons"] == {"stop": 36}
    assert manifest.llm.demo_policy == "per_query"
    modes = manifest.llm.request_modes  # the fallback, once for the revision, not per row
    assert len(modes) == 1 and modes[0]["n"] == 1 and modes[0]["n_fallback"]["choices_returned"] == 1
    typed = dv.manifest_model()  # what finish_revision writes has the typed manifest's shape
    assert typed.llm.request_modes == modes and typed.usage["1"] == usage and typed.committee is None


def test_a_shard_spread_over_two_servers_writes_what_one_server_writes(tmp_path):
    src = make_beir(tmp_path / "src", 9)
    written = []
    with fake_openai_server() as a, fake_openai_server() as b:
        for urls in ([a], [a, b]):
            cfg = config(tmp_path / str(len(urls)), src)
            dv, ingest = prepare_version(cfg, "m")
            write_snapshots(dv, ingest)
            qids = [q for q, _ in judged_queries(ingest, None)]
            summary = synthesize_shard(dv, "part-r0001-00000", qids, cfg, urls, "fake-expert", SecretStr("k"))
            assert summary.requests == 3 * len(qids) and summary.candidates == 3 * len(qids)
            cands = dv.read("candidates").sort_by([("query_id", "ascending"), ("candidate_idx", "ascending")])
            written.append(cands.select(["query_id", "candidate_idx", "thought", "seed"]).to_pylist())
        calls_b = server_stats(b)["calls"]
    assert written[0] == written[1]
    assert calls_b == 3 * (len(qids) // 2)  # every second query went to the second server
