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


def test_generation_threads_are_passed_only_when_set(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"")
    assert "--n_threads" not in LlamaServer(LlamaServerConfig(model_path=str(gguf))).command()
    cmd = LlamaServer(LlamaServerConfig(model_path=str(gguf), n_threads=3)).command()
    assert cmd[cmd.index("--n_threads") + 1] == "3"
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        LlamaServerConfig(n_threads=0)


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="GGUF model file not found"):
        LlamaServer(LlamaServerConfig(model_path=str(tmp_path / "nope.gguf"))).start()


def test_server_that_dies_reports_its_log(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf")
    with pytest.raises(ConfigError, match="exited with"):
        LlamaServer(LlamaServerConfig(model_path=str(bad)), log_path=tmp_path / "log").start()


@pytest.mark.slow
@pytest.mark.real
def test_n_requests_fall_back_against_the_real_llama_cpp_server(llm_endpoint):
    """llama.cpp returns one choice for n=K: the generator falls back to one request per candidate."""
    import asyncio

    from pydantic import SecretStr

    from o1embed.tasks.llm_client import LLMConfig, SamplingConfig, Thought, ThoughtGenerator, ThoughtRequest
    from o1embed.tasks.prompts import PromptConfig, build_messages

    queries = ["what hormone regulates blood sugar?", "why is the sky blue?"]
    reqs = [
        ThoughtRequest(f"q{i}", c, q, build_messages(q, [], PromptConfig(layout="prefix")))
        for i, q in enumerate(queries)
        for c in range(2)
    ]
    gen = ThoughtGenerator(
        llm_endpoint,
        LlamaServerConfig().model_alias,
        SecretStr("none"),
        SamplingConfig(max_tokens=24),
        LLMConfig(concurrency=1, timeout_s=120),
        use_n=True,
    )
    res = asyncio.run(gen.generate(reqs))
    assert gen.n_honoured is False and gen.n_fallback["choices_returned"] == 1
    assert [(r.query_id, r.candidate_idx) for r in res] == [(q.query_id, q.candidate_idx) for q in reqs]
    oks = [r for r in res if isinstance(r, Thought)]
    assert oks, res
    assert all(r.prompt_tokens and r.completion_tokens and r.finish_reason in ("stop", "length") for r in oks)
