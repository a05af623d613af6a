"""The embedded llama.cpp server (real SmolLM2 GGUF): free port, readiness, a real answer, clean shutdown."""

from __future__ import annotations

import openai
import pytest

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig


@pytest.mark.real
def test_embedded_server_starts_answers_and_stops():
    server = LlamaServer()
    with server:
        assert server.ready() and server.base_url.startswith("http://127.0.0.1:")
        client = openai.OpenAI(base_url=server.base_url, api_key="none")
        r = client.chat.completions.create(
            model=server.model_name,
            messages=[{"role": "user", "content": "Name one hormone."}],
            max_tokens=16,
            temperature=0.0,
            seed=1,
        )
        assert r.choices[0].message.content.strip()
    assert server.proc.poll() is not None and not server.ready()


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="GGUF model file not found"):
        LlamaServer(LlamaServerConfig(model_path=str(tmp_path / "nope.gguf"))).start()


def test_server_that_dies_reports_its_log(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf")
    with pytest.raises(ConfigError, match="exited with"):
        LlamaServer(LlamaServerConfig(model_path=str(bad)), log_path=tmp_path / "log").start()
