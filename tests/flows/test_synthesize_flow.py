"""The synthesize flow end to end: real Prefect, real Ray, local OpenAI-compatible servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from o1embed.flows.synthesize import synthesize
from o1embed.tasks.llm_client import SamplingConfig
from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server, server_stats

pytestmark = pytest.mark.usefixtures("prefect_api", "ray_session")


def scan(out: Path, table: str) -> pl.DataFrame:
    return pl.scan_parquet(str(out / table / "**" / "*.parquet"), hive_partitioning=True).collect()


def cfg(tmp_path, src, url, name="out", **kw):
    kw.setdefault("llm", {})
    kw["llm"] = {
        "base_url": url,
        "concurrency": 16,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
        **kw["llm"],
    }
    return SynthesisConfig(
        dataset_dir=str(src), output_dir=str(tmp_path / name), cache_dir=str(tmp_path / f"cache-{name}"), **kw
    )


def assert_pairing_at_scale(tmp_path, **kw) -> tuple[dict, dict]:
    """Synthesize 5,000 queries x 3 candidates and check every candidate belongs to its query.

    Returns:
        The flow's summary and the fake server's counters.
    """
    src = make_beir(tmp_path / "src", 5000, n_docs=500)
    with fake_openai_server() as url:
        res = synthesize(cfg(tmp_path, src, url, shard_size=1000, parallel_shards=2, **kw), judge=False)
        stats = server_stats(url)
    out = Path(res.output_dir)
    cands = scan(out, "candidates")
    assert cands.height == 15000 and res.tables["candidates"] == 15000
    assert cands.select("query_id", "candidate_idx").unique().height == 15000
    queries = scan(out, "queries").select("query_id", "text")
    joined = cands.join(queries, on="query_id")
    assert joined.height == 15000
    wrong = [(q, t) for q, t, x in joined.select("query_id", "thought", "text").iter_rows() if f"[{x}]" not in t]
    assert not wrong, wrong[:3]
    return res, stats


def test_pairing_at_scale(tmp_path):
    """5,000 queries x 3 candidates: every candidate belongs to its query."""
    assert_pairing_at_scale(tmp_path)


def test_pairing_at_scale_with_n_requests(tmp_path):
    """The same in n mode: one request per query, K distinct candidates with their own candidate_idx."""
    res, stats = assert_pairing_at_scale(tmp_path, prompt={"demo_policy": "per_query"})
    assert stats["calls"] == 5000 and stats["choices"] == 15000
    cands = scan(Path(res.output_dir), "candidates")
    assert cands.select("query_id", "thought").unique().height == 15000
    manifest = json.loads(next((Path(res.output_dir) / "_manifests").glob("**/manifest.json")).read_text())
    assert manifest["llm"]["request_modes"] == [{"demo_policy": "per_query", "n": 3}]
    usage = manifest["usage"]["1"]
    assert usage["completion_tokens"] == cands["completion_tokens"].sum() > 0
    assert usage["prompt_tokens"] == cands["prompt_tokens"].sum() > 0


def test_faults_every_query_has_k_candidates_or_reasons(tmp_path):
    src = make_beir(tmp_path / "src", 300, n_docs=100)
    with fake_openai_server(fail_rate=0.3, timeout_sleep=2.0, seed=3) as url:
        res = synthesize(
            cfg(tmp_path, src, url, shard_size=100, llm={"timeout_s": 1.0, "max_attempts": 3}), judge=False
        )
        stats = server_stats(url)
    out = Path(res.output_dir)
    cands = scan(out, "candidates").select("query_id", "candidate_idx")
    errs = scan(out, "errors").filter(pl.col("stage") == "llm").select("query_id", "candidate_idx", "reason")
    keys = pl.concat([cands, errs.select("query_id", "candidate_idx")])
    assert keys.height == 900 and keys.unique().height == 900  # nothing lost, nothing twice
    assert errs["reason"].str.len_chars().min() > 0 if errs.height else True
    assert stats["calls"] > 900  # faults happened and were retried
    manifest = res.tables
    assert manifest["candidates"] == cands.height


def test_slow_and_out_of_contract_endpoints_every_query_has_k_candidates_or_reasons(tmp_path):
    """Trickled bodies, ignored max_tokens and extra choices: bounded, cut, counted; nothing lost or twice."""
    src = make_beir(tmp_path / "src", 60, n_docs=60)
    trickle_delay = 1.0  # a whole trickled body would take minutes
    with fake_openai_server(
        seed=5, trickle_rate=0.05, trickle_delay=trickle_delay, overrun_rate=0.1, extra_choices_rate=0.1
    ) as url:
        c = cfg(
            tmp_path,
            src,
            url,
            shard_size=30,
            sampling=SamplingConfig(max_tokens=64),
            llm={"timeout_s": 10.0, "request_deadline_s": 2.0, "max_attempts": 3},  # reads never time out
        )
        t0 = time.monotonic()
        res = synthesize(c, judge=False)
        elapsed = time.monotonic() - t0
        stats = server_stats(url)
    assert elapsed < 200 * trickle_delay  # no shard waited for a trickled body
    out = Path(res.output_dir)
    cands = scan(out, "candidates")
    errs = scan(out, "errors").filter(pl.col("stage") == "llm")
    keys = pl.concat([cands.select("query_id", "candidate_idx"), errs.select("query_id", "candidate_idx")])
    assert keys.height == 180 and keys.unique().height == 180  # nothing lost, nothing twice
    assert errs.height == 0 or errs["reason"].str.len_chars().min() > 0
    assert cands["thought"].str.len_chars().max() <= 64 * c.llm.chars_per_token
    summed = {k: sum(getattr(s, k) for s in res.shards) for k in ("deadline_hits", "truncated", "extra_choices")}
    assert stats["trickle"] > 0 and summed["deadline_hits"] >= stats["trickle"]
    # On a loaded machine an overrun or extra-choice answer may itself miss the deadline (and is retried).
    assert 0 < summed["truncated"] <= stats["overrun"]
    assert cands.filter(pl.col("finish_reason") == "length").height == summed["truncated"]
    assert 0 < summed["extra_choices"] <= stats["extra_choices"]
    joined = cands.join(scan(out, "queries").select("query_id", "text"), on="query_id")
    assert joined.height == cands.height
    assert all(f"[{x}]" in t and not t.startswith("choice") for t, x in joined.select("thought", "text").iter_rows())


def _wait_for(pred, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_kill_and_resume_gives_the_rows_of_an_uninterrupted_run(tmp_path):
    src = make_beir(tmp_path / "src", 60, n_docs=60)
    with fake_openai_server(latency=0.15) as url:
        killed = cfg(tmp_path, src, url, name="killed", shard_size=5, parallel_shards=1, llm={"concurrency": 2})
        (tmp_path / "killed.json").write_text(killed.model_dump_json())
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "o1embed.flows.cli",
                "synthesize",
                "--config",
                str(tmp_path / "killed.json"),
                "--no-judge",
            ],
            start_new_session=True,
            env=os.environ.copy(),
        )
        shard_dir = tmp_path / "killed" / "candidates"
        started = _wait_for(lambda: len(list(shard_dir.rglob("*.parquet"))) >= 2, 240)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert started, "the run never wrote two shards"
        written = len(list(shard_dir.rglob("*.parquet")))
        assert 2 <= written < 12
        # Polars never sees a partial shard: every visible file reads, temp files are hidden.
        assert scan(tmp_path / "killed", "candidates").height == 15 * written
        resumed = synthesize(killed, judge=False)
        clean = synthesize(cfg(tmp_path, src, url, name="clean", shard_size=5, parallel_shards=2), judge=False)
    cols = ["query_id", "candidate_idx", "thought", "seed", "demo_query_ids", "shard"]
    a = scan(tmp_path / "killed", "candidates").select(cols).sort("query_id", "candidate_idx")
    b = scan(tmp_path / "clean", "candidates").select(cols).sort("query_id", "candidate_idx")
    assert a.height == 180 and a.equals(b)
    assert resumed.revision == 1 and resumed.tables["candidates"] == 180 == clean.tables["candidates"]


@pytest.mark.real
def test_real_embedded_llm_50_scifact_queries(tmp_path, llm_endpoint):
    """Real end to end: 50 SciFact train queries, K = 3, against the embedded llama.cpp server."""
    from o1embed.tasks.paths import bundled_dataset

    c = SynthesisConfig(
        dataset_dir=str(bundled_dataset("scifact")),
        split="train",
        max_queries=50,
        shard_size=25,
        output_dir=str(tmp_path / "real"),
        cache_dir=str(tmp_path / "cache"),
        sampling=SamplingConfig(max_tokens=48),
        llm={"base_url": llm_endpoint, "concurrency": 2},
    )
    res = synthesize(c, judge=False)
    out = Path(res.output_dir)
    cands = scan(out, "candidates")
    errs = scan(out, "errors").filter(pl.col("stage") == "llm")
    assert cands.height + errs.height == 150
    assert cands.height >= 140  # the real server rarely fails
    assert cands.select("query_id", "candidate_idx").unique().height == cands.height
    assert cands["query_id"].n_unique() >= 47 and cands["thought"].str.strip_chars().str.len_chars().min() > 0
    manifest = res.tables
    assert manifest["candidates"] == cands.height and manifest["queries"] == scan(out, "queries").height
    assert res.version in cands["version"].unique().to_list()


def _llama_servers() -> set[int]:
    import psutil

    return {p.pid for p in psutil.process_iter(["cmdline"]) if "llama_cpp.server" in " ".join(p.info["cmdline"] or [])}


@pytest.mark.real
def test_flow_starts_and_stops_the_embedded_server_when_no_endpoint_is_set(tmp_path, monkeypatch):
    from o1embed.tasks.paths import bundled_dataset

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    before = _llama_servers()
    c = SynthesisConfig(
        dataset_dir=str(bundled_dataset("scifact")),
        max_queries=2,
        candidates_per_query=1,
        output_dir=str(tmp_path / "embedded"),
        cache_dir=str(tmp_path / "cache"),
        sampling=SamplingConfig(max_tokens=16),
    )
    res = synthesize(c, judge=False)
    assert res.tables["candidates"] == 2
    assert _wait_for(lambda: _llama_servers() <= before, 30)  # the flow's own server is gone
    manifest = json.loads(next((tmp_path / "embedded" / "_manifests").rglob("manifest.json")).read_text())
    assert manifest["llm"]["endpoint"] == "embedded llama.cpp server"
    assert manifest["llm"]["model"] == "smollm2-135m-instruct"


def test_an_object_store_output_is_refused_at_the_start(tmp_path, prefect_api):
    from o1embed.tasks.errors import ConfigError

    src = make_beir(tmp_path / "src", 3)
    cfg = SynthesisConfig(dataset_dir=str(src), output_dir="s3://bucket/runs", cache_dir=str(tmp_path / "c"))
    with pytest.raises(ConfigError, match="output_dir='s3://bucket/runs': URIs are not supported"):
        synthesize(cfg, judge=False)
