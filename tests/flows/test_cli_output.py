"""What a new user sees: a CLI stage run with no Prefect server configured prints no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server

# Settings a new user does not have: the CLI must choose quiet ones for its temporary server by itself.
_USER_UNSET = (
    "PREFECT_API_URL",
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "DO_NOT_TRACK",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
    "PREFECT_HOME",
)


@pytest.mark.slow
def test_synthesize_without_a_server_prints_no_traceback(tmp_path):
    src = make_beir(tmp_path / "src", 6, n_docs=6)
    env = {k: v for k, v in os.environ.items() if k not in _USER_UNSET}
    env["PREFECT_HOME"] = str(tmp_path / "fresh-prefect-home")  # a first run: a new database
    with fake_openai_server() as url:
        cfg = SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(tmp_path / "out"),
            cache_dir=str(tmp_path / "cache"),
            shard_size=3,
            llm={"base_url": url},
        )
        (tmp_path / "cfg.json").write_text(cfg.model_dump_json())
        run = subprocess.run(
            [sys.executable, "-m", "o1embed.flows.cli", "synthesize", "--config", str(tmp_path / "cfg.json")]
            + ["--no-judge"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert '"candidates": 18' in output, output[-3000:]
    assert "Traceback" not in output, output[:6000]
