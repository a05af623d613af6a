"""``o1embed inspect``: tokens per table and an estimated cost from the rows."""

from __future__ import annotations

from pydantic import SecretStr
from typer.testing import CliRunner

from o1embed.tasks.inspection import inspect_output
from o1embed.tasks.synthesis import (
    SynthesisConfig,
    finish_revision,
    judged_queries,
    plan_revision,
    prepare_version,
    synthesize_shard,
    write_snapshots,
)
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server


def synthesized(tmp_path, fail_rate=0.0):
    src = make_beir(tmp_path / "src", 8)
    cfg = SynthesisConfig(dataset_dir=str(src), output_dir=str(tmp_path / "out"), use_cache=False)
    cfg.llm.max_attempts, cfg.llm.backoff_initial_s, cfg.llm.timeout_s = 2, 0.01, 1.0
    dv, ingest = prepare_version(cfg, "fake-expert")
    plan = plan_revision(dv, judged_queries(ingest, None), cfg.shard_size)
    write_snapshots(dv, ingest)
    with fake_openai_server(fail_rate=fail_rate, seed=5, timeout_sleep=2.0) as url:
        for s in plan.pending:
            synthesize_shard(dv, s, plan.shards[s], cfg, [url], "fake-expert", SecretStr("k"))
    return dv, finish_revision(dv, plan, cfg, ingest, "fake-expert", url)


def test_tokens_per_table_match_the_manifest_and_cost_follows_the_prices(tmp_path):
    dv, manifest = synthesized(tmp_path, fail_rate=0.4)
    [report] = inspect_output(tmp_path / "out", prices=(1.0, 2.0))
    tokens = report["tokens"]
    usage = manifest.usage["1"]
    for table in ("candidates", "errors"):
        assert tokens[table]["prompt_tokens"] == usage[table]["prompt_tokens"]
        assert tokens[table]["completion_tokens"] == usage[table]["completion_tokens"]
    assert tokens["total"]["prompt_tokens"] == usage["prompt_tokens"] > 0
    total = tokens["total"]
    assert total["cost"] == (total["prompt_tokens"] * 1.0 + total["completion_tokens"] * 2.0) / 1e6


def test_cli_prints_tokens_and_cost(tmp_path):
    from o1embed.flows.cli import app

    synthesized(tmp_path)
    out = CliRunner().invoke(app, ["inspect", str(tmp_path / "out"), "--price-per-million", "0.5", "1.5"])
    assert out.exit_code == 0, out.output
    assert "tokens candidates" in out.output and "est. cost" in out.output
