"""The Prefect flow ``train`` launches Ray Train from the flow body and publishes progress and a summary."""

from __future__ import annotations

import asyncio

from o1embed.trainer.run_files import RunFiles
from tests.trainer.tiny import build_tiny_model, write_toy_tables


def test_train_flow_runs_ray_train_and_writes_artifacts(tmp_path, prefect_api, ray_session):
    from prefect.client.orchestration import get_client

    from o1embed.flows.train import train

    model = build_tiny_model(tmp_path / "tiny")
    examples, corpus = write_toy_tables(tmp_path / "data")
    overrides = {
        "model_path": str(model),
        "data": {"examples_path": str(examples), "corpus_path": str(corpus)},
        "output_dir": str(tmp_path / "run"),
        "queries_per_step": 4,
        "negatives_per_query": 2,
        "max_steps": 3,
        "finetune": "full",
        "gradient_checkpointing": False,
        "num_workers": 1,
        "use_ray": True,
        "model": {"dtype": "float32"},
    }
    state = train(preset="paper", overrides=overrides, return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result.total_steps == 3 and (tmp_path / "run" / "model" / "config.json").exists()
    assert [r["step"] for r in RunFiles(tmp_path / "run").read_log()] == [1, 2, 3]

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    found = asyncio.run(artifacts())
    kinds = {a.type for a in found if a.flow_run_id == state.state_details.flow_run_id}
    assert {"progress", "markdown"} <= kinds
