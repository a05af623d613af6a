"""The expert LLM endpoint, resolved once per run: a base URL and model name, or the embedded llama.cpp server.

:func:`resolve_endpoint` reads an :class:`~o1embed.tasks.llm_client.LLMConfig` (``base_url`` None means
``$OPENAI_BASE_URL`` if set, else the embedded server) and fixes the model name (asking the endpoint for its first
model when none is configured). An embedded endpoint has no URL until its server starts
(:meth:`Endpoint.started`); :attr:`Endpoint.public` is the form that may be recorded in manifests.

Example:
    >>> from o1embed.tasks.llm_client import LLMConfig
    >>> ep = resolve_endpoint(LLMConfig(base_url="http://user:pw@host:8000/v1?key=s", model="m"))
    >>> ep.embedded, ep.public
    (False, 'http://host:8000/v1')
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

from o1embed.tasks.llm_client import LLMConfig, first_model
from o1embed.tasks.llm_server import LlamaServerConfig

EMBEDDED_PUBLIC_NAME = "embedded llama.cpp server"


@dataclass(frozen=True)
class Endpoint:
    """Where the requests go.

    Attributes:
        base_url: the OpenAI-compatible base URL; None for an embedded server not started yet.
        model: the model name at the endpoint.
        embedded: the endpoint is the llama.cpp server this run starts.
        replicas: further base URLs serving the same model (the embedded servers after the first); the requests
            are spread over :attr:`base_urls`.
    """

    base_url: str | None
    model: str
    embedded: bool = False
    replicas: tuple[str, ...] = ()

    def started(self, *base_urls: str) -> Endpoint:
        """The same endpoint once its embedded servers listen at ``base_urls`` (one or more)."""
        first, *rest = base_urls
        return replace(self, base_url=first, replicas=tuple(rest))

    @property
    def base_urls(self) -> list[str]:
        """Every URL that serves the model: ``base_url``, then the replicas (empty before an embedded start)."""
        return [self.base_url, *self.replicas] if self.base_url else []

    @property
    def public(self) -> str:
        """The endpoint as it may be recorded: no user info, query or fragment (they can carry secrets)."""
        if self.embedded or not self.base_url:
            return EMBEDDED_PUBLIC_NAME
        u = urlsplit(self.base_url)
        return urlunsplit((u.scheme, u.hostname + (f":{u.port}" if u.port else ""), u.path, "", ""))


def resolve_endpoint(llm: LLMConfig) -> Endpoint:
    """Fix the run's endpoint from ``llm`` (and ``$OPENAI_BASE_URL``).

    Raises:
        ConfigError: a remote endpoint refuses the key or lists no model (from :func:`first_model`).
    """
    base_url = llm.base_url or os.environ.get("OPENAI_BASE_URL")
    if not base_url:
        return Endpoint(None, llm.model or LlamaServerConfig().model_alias, embedded=True)
    return Endpoint(base_url, llm.model or asyncio.run(first_model(base_url, llm.resolve_api_key())))
