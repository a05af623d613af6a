"""The expert endpoint is resolved once: a URL and model, or the embedded server."""

from __future__ import annotations

from o1embed.tasks.endpoint import EMBEDDED_PUBLIC_NAME, resolve_endpoint
from o1embed.tasks.llm_client import LLMConfig
from o1embed.tasks.llm_server import LlamaServerConfig
from o1embed.tasks.testing.server_process import fake_openai_server


def test_no_url_means_the_embedded_server(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    ep = resolve_endpoint(LLMConfig())
    assert ep.embedded and ep.base_url is None and ep.model == LlamaServerConfig().model_alias
    assert ep.public == EMBEDDED_PUBLIC_NAME
    started = ep.started("http://127.0.0.1:1234/v1")
    assert started.base_url == "http://127.0.0.1:1234/v1" and started.public == EMBEDDED_PUBLIC_NAME
    assert started.base_urls == ["http://127.0.0.1:1234/v1"] and ep.base_urls == []
    two = ep.started("http://127.0.0.1:1234/v1", "http://127.0.0.1:1235/v1")
    assert two.base_urls == ["http://127.0.0.1:1234/v1", "http://127.0.0.1:1235/v1"]
    assert two.public == EMBEDDED_PUBLIC_NAME


def test_a_remote_endpoint_is_recorded_without_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://user:secret@llm.example:8443/v1?token=abc#frag")
    ep = resolve_endpoint(LLMConfig(model="m"))
    assert not ep.embedded and ep.model == "m" and ep.public == "https://llm.example:8443/v1"


def test_the_model_defaults_to_the_endpoints_first():
    with fake_openai_server() as url:
        ep = resolve_endpoint(LLMConfig(base_url=url))
    assert ep.base_url == url and ep.model and not ep.embedded
