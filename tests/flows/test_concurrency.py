"""Never two writers to one dataset version: a second run is refused with a clear message, or waits."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from o1embed.flows.synthesize import synthesize
from o1embed.tasks.errors import ConcurrentWriterError
from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server

pytestmark = pytest.mark.usefixtures("prefect_api", "ray_session")


def test_second_writer_is_refused_then_waits(tmp_path):
    src = make_beir(tmp_path / "src", 40)
    with fake_openai_server(latency=0.2) as url:
        cfg = SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(tmp_path / "out"),
            cache_dir=str(tmp_path / "cache"),
            shard_size=10,
            parallel_shards=1,
            llm={"base_url": url, "concurrency": 2},
        )
        (tmp_path / "cfg.json").write_text(cfg.model_dump_json())
        first = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "o1embed.flows.cli",
                "synthesize",
                "--config",
                str(tmp_path / "cfg.json"),
                "--no-judge",
            ],
            env=os.environ.copy(),
        )
        try:
            lock_dir = tmp_path / "out" / "_manifests"
            deadline = time.monotonic() + 240
            while not list(lock_dir.rglob(".lock")) or not list((tmp_path / "out").rglob("plan-0001.json")):
                assert time.monotonic() < deadline and first.poll() is None, "first run did not start"
                time.sleep(0.1)
            with pytest.raises(ConcurrentWriterError, match="is being written by another run"):
                synthesize(cfg, judge=False)
            waited = synthesize(cfg, judge=False, wait_for_lock=True)  # queues behind the first run
        finally:
            first.wait(300)
    assert first.returncode == 0
    assert waited.revision is None and waited.tables["candidates"] == 120  # the first run did the work
