"""Start and stop the fake OpenAI server as a subprocess (used by tests and bench/)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx

from o1embed.tasks.llm_server import free_port


@contextmanager
def fake_openai_server(
    fail_rate: float = 0.0,
    latency: float = 0.0,
    timeout_sleep: float = 3.0,
    seed: int = 0,
    required_key: str = "",
    ignore_n: bool = False,
    trickle_rate: float = 0.0,
    trickle_delay: float = 0.2,
    overrun_rate: float = 0.0,
    extra_choices_rate: float = 0.0,
):
    """Yield the base URL of a running fake server; stop it afterwards (see ``openai_server`` for the modes)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "o1embed.tasks.testing.openai_server",
        "--port",
        str(port),
        "--fail-rate",
        str(fail_rate),
    ]
    cmd += ["--latency", str(latency), "--timeout-sleep", str(timeout_sleep), "--seed", str(seed)]
    cmd += ["--ignore-n"] if ignore_n else []
    cmd += ["--trickle-rate", str(trickle_rate), "--trickle-delay", str(trickle_delay)]
    cmd += ["--overrun-rate", str(overrun_rate), "--extra-choices-rate", str(extra_choices_rate)]
    env = {**os.environ, "FAKE_REQUIRED_KEY": required_key}
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("fake OpenAI server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def server_stats(base_url: str) -> dict:
    """Return the fake server's call and fault counters."""
    return httpx.get(base_url.removesuffix("/v1") + "/stats", timeout=5).json()
