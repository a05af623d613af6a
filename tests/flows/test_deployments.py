"""Deployments for real: `prefect deploy --all` from prefect.yaml, then `prefect deployment run` on the worker.

Needs the services that scripts/services.sh starts (Prefect server, process worker on pool ``o1embed-process``,
llama.cpp server, Ray): CI starts them; locally run ``bash scripts/services.sh start --worker`` and source
``data/services/env.sh`` first.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from o1embed.tasks.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.real]


def prefect(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = {**os.environ, "O1EMBED_ROOT": str(REPO_ROOT), "PREFECT_CLI_PROMPT": "false"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "prefect"), "--no-prompt", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def deployed():
    assert os.environ.get("PREFECT_API_URL"), "start the services first (scripts/services.sh start --worker)"
    out = prefect("deploy", "--all")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


async def read_deployment(name: str):
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_deployment_by_name(name)


def test_every_deployment_is_there_with_one_writer_at_a_time(deployed):
    for name in (
        "synthesize/scifact",
        "train/scifact-cpu",
        "evaluate/bundled",
        "synth-and-train/scifact",
        "synth-and-train/scifact-quickstart",
        "refresh/scifact-nightly",
    ):
        d = asyncio.run(read_deployment(name))
        assert d.work_pool_name == "o1embed-process", name
        if name != "evaluate/bundled":
            assert d.global_concurrency_limit is not None and d.global_concurrency_limit.limit == 1, name
    nightly = asyncio.run(read_deployment("refresh/scifact-nightly"))
    assert nightly.schedules and nightly.schedules[0].schedule.cron == "0 3 * * *"


def test_the_nightly_example_schedule_ships_paused(deployed):
    """A fresh install must not start hours of synthesis and training at 03:00 on its own."""
    nightly = asyncio.run(read_deployment("refresh/scifact-nightly"))
    assert [s.active for s in nightly.schedules] == [False]
    out = prefect("deployment", "inspect", "refresh/scifact-nightly", "--output", "json", timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    shown = json.loads(out.stdout)
    assert [(s["schedule"]["cron"], s["active"]) for s in shown["schedules"]] == [("0 3 * * *", False)]


def test_synth_and_train_runs_on_the_worker(deployed, tmp_path):
    out = tmp_path / "runs"
    params = {
        "synthesis": {
            "dataset_dir": "data/beir/scifact",
            "split": "train",
            "max_queries": 6,
            "candidates_per_query": 2,
            "shard_size": 3,
            "output_dir": str(out),
            "cache_dir": str(tmp_path / "cache"),
            "sampling": {"max_tokens": 32},
            "llm": {"concurrency": 1},
        },
        "train_overrides": {"max_steps": 2, "queries_per_step": 2, "checkpoint_every": 2},
        "evaluation": {
            "datasets": ["data/beir/scifact"],
            "max_queries": 4,
            "corpus_sample": 20,
            "doc_max_tokens": 32,
            "systems": ["bm25", "trained", "trained-think-m1"],
        },
    }
    run = prefect("deployment", "run", "synth-and-train/scifact-quickstart", "--params", json.dumps(params), "--watch")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "Completed" in run.stdout + run.stderr
    cands = pl.read_parquet(f"{out}/candidates/**/*.parquet")
    examples = pl.read_parquet(f"{out}/examples/**/*.parquet")
    assert cands.height + pl.read_parquet(f"{out}/errors/**/*.parquet").filter(pl.col("stage") == "llm").height == 12
    assert examples.height == 6
    models = list((out / "models").glob("*/model/o1_config.json"))
    assert len(models) == 1
    report = list((out / "models").glob("*/report/report.md"))
    assert len(report) == 1 and "trained-think-m1" in Path(report[0]).read_text()
    card = (models[0].parent / "README.md").read_text()  # the model card gained the evaluation table
    assert "base_model:" in card and "| scifact | trained-think-m1 |" in card
