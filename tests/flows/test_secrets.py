"""The API key reaches the endpoint and nothing else: no output file, log line or flow parameter holds it."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from pathlib import Path

import pytest

from o1embed.flows.synthesize import synthesize
from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server, server_stats

pytestmark = pytest.mark.usefixtures("prefect_api", "ray_session")


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def flow_run_texts(flow_run_id) -> tuple[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async with get_client() as client:
        run = await client.read_flow_run(flow_run_id)
        logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return str(run.parameters), "\n".join(log.message for log in logs)


@pytest.mark.parametrize("source", ["env", "block"])
def test_key_never_leaks(tmp_path, caplog, monkeypatch, source):
    key = f"sk-secret-{uuid.uuid4().hex}"
    src = make_beir(tmp_path / "src", 30)
    llm: dict = {"concurrency": 4}
    if source == "env":
        monkeypatch.setenv("O1EMBED_TEST_SECRET_KEY", key)
        llm["api_key_env"] = "O1EMBED_TEST_SECRET_KEY"
    else:
        from prefect.blocks.system import Secret

        name = f"o1embed-test-{uuid.uuid4().hex[:8]}"
        Secret(value=key).save(name)
        llm["api_key_block"] = name
    caplog.set_level(logging.DEBUG)
    with fake_openai_server(required_key=key) as url:
        cfg = SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(tmp_path / "out"),
            cache_dir=str(tmp_path / "cache"),
            llm={"base_url": url, **llm},
        )
        state = synthesize(cfg, judge=False, return_state=True)
        stats = server_stats(url)
    res = state.result()
    assert res.tables["candidates"] == 90 and stats["unauthorized"] == 0  # the key was used
    assert files_containing(tmp_path, key.encode()) == []
    assert files_containing(Path(os.environ["O1EMBED_DATA"]), key.encode()) == []
    assert key not in caplog.text
    params, logs = asyncio.run(flow_run_texts(state.state_details.flow_run_id))
    assert (
        key not in params
        and key not in logs
        and "api_key" not in params.replace("api_key_env", "").replace("api_key_block", "")
    )
