"""Expert-LLM client: candidate thoughts from any OpenAI-compatible endpoint, keyed by (query_id, candidate_idx).

Built on ``openai.AsyncOpenAI`` (its own retries switched off) with tenacity for bounded retries: exponential
backoff with jitter on 429, 5xx, timeouts, connection errors and malformed bodies, and on outputs that cannot be
candidates (empty, whitespace, an echo of the prompt or query: those are retried with the next seed). A request that
still fails becomes an :class:`LLMFailure` with the reason; it never becomes an empty candidate. Authentication,
permission and unknown-model errors stop the run: retrying cannot fix them.

Example:
    >>> cfg = LLMConfig(base_url="http://127.0.0.1:8000/v1", model="smollm2")
    >>> cfg.model_dump()["api_key"] is None          # the key is never dumped
    True
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import openai
from pydantic import BaseModel, Field, SecretStr
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.prompts import candidate_seed, clean_thought, thought_problem

log = logging.getLogger(__name__)


class LLMConfig(BaseModel):
    """Where the expert LLM is and how hard to push it. The key is resolved at run time, never stored.

    ``base_url`` None means: ``$OPENAI_BASE_URL`` if set, else the embedded llama.cpp server.
    """

    base_url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. http://host:8000/v1.")
    model: str | None = Field(
        None, description="Model name at the endpoint; None: the endpoint's first model."
    )
    api_key: SecretStr | None = Field(
        None, exclude=True, description="Key; prefer api_key_env or api_key_block."
    )
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the key.")
    api_key_block: str | None = Field(None, description="Name of a Prefect Secret block holding the key.")
    concurrency: int = Field(4, ge=1, description="Requests in flight per shard.")
    timeout_s: float = Field(120.0, gt=0, description="Per-request timeout.")
    max_attempts: int = Field(
        5, ge=1, description="Attempts per candidate (transient errors and bad outputs)."
    )
    backoff_initial_s: float = Field(0.5, ge=0, description="First backoff; doubles each retry, plus jitter.")
    backoff_max_s: float = Field(20.0, ge=0, description="Longest backoff.")

    def resolve_api_key(self) -> SecretStr:
        """Return the key from the config, a Prefect Secret block, or the environment (a dummy when none)."""
        if self.api_key is not None:
            return self.api_key
        if self.api_key_block:
            from prefect.blocks.system import Secret

            return SecretStr(Secret.load(self.api_key_block).get())
        return SecretStr(os.environ.get(self.api_key_env) or "sk-no-key")


class SamplingConfig(BaseModel):
    """Sampling parameters, explicit and recorded with the data (the server's defaults are never relied on)."""

    temperature: float = Field(0.7, ge=0, description="Sampling temperature; > 0 so candidates differ.")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling.")
    max_tokens: int = Field(256, ge=1, description="New tokens per thought (the paper: 512).")
    seed: int = Field(42, description="Run seed; each request's seed derives from it and its key.")


@dataclass(frozen=True)
class ThoughtRequest:
    """One candidate to generate."""

    query_id: str
    candidate_idx: int
    query: str
    messages: list[dict[str, str]]
    demo_query_ids: tuple[str, ...] = ()


@dataclass
class Thought:
    """A kept candidate thought."""

    query_id: str
    candidate_idx: int
    thought: str
    seed: int
    finish_reason: str | None
    completion_tokens: int | None
    attempts: int
    cached: bool


@dataclass
class LLMFailure:
    """A candidate that could not be obtained, with the last reason."""

    query_id: str
    candidate_idx: int
    reason: str
    attempts: int


class BadOutput(Exception):
    """The endpoint answered, but the text cannot be a candidate (retried with the next seed)."""


_FATAL = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
_REJECTED = (
    openai.BadRequestError,
    openai.UnprocessableEntityError,
)  # this request is wrong; others may be fine


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _FATAL + _REJECTED):
        return False
    # Transport, status and body errors, and outputs that cannot be candidates; a bug in our code is not retried.
    return isinstance(exc, openai.APIError | BadOutput | ValueError)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {type(exc).__name__}"
    if isinstance(exc, BadOutput):
        return f"bad output: {exc}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


@dataclass
class ThoughtGenerator:
    """Generates candidate thoughts concurrently against one endpoint.

    Args:
        base_url: the endpoint.
        model: the model name at the endpoint.
        api_key: the key (a SecretStr, never logged).
        sampling: sampling parameters.
        config: retries, timeouts, concurrency.
        cache: response cache, or None.
    """

    base_url: str
    model: str
    api_key: SecretStr
    sampling: SamplingConfig
    config: LLMConfig
    cache: ResponseCache | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"requests": 0, "cache_hits": 0, "retries": 0})

    def _client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.api_key.get_secret_value(),
            timeout=self.config.timeout_s,
            max_retries=0,  # tenacity owns retries, so every attempt is counted and bounded in one place
        )

    def _sampling_for(self, seed: int) -> dict[str, Any]:
        return {
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "max_tokens": self.sampling.max_tokens,
            "seed": seed,
        }

    async def _attempt(self, client: openai.AsyncOpenAI, req: ThoughtRequest, attempt: int) -> Thought:
        seed = candidate_seed(self.sampling.seed, req.query_id, req.candidate_idx, attempt)
        params = self._sampling_for(seed)
        key = ResponseCache.key(self.model, req.messages, params) if self.cache else None
        hit = self.cache.get(key) if self.cache else None
        if hit is not None:
            self.stats["cache_hits"] += 1
            text, finish, ntok, cached = (
                hit["content"],
                hit.get("finish_reason"),
                hit.get("completion_tokens"),
                True,
            )
        else:
            self.stats["requests"] += 1
            resp = await client.chat.completions.create(
                model=self.model, messages=req.messages, n=1, **params
            )
            if not getattr(resp, "choices", None):
                raise BadOutput("response has no choices")
            choice = resp.choices[0]
            text = choice.message.content if choice.message else None
            if not isinstance(text, str):
                raise BadOutput("response has no message content")
            finish = choice.finish_reason
            ntok = resp.usage.completion_tokens if getattr(resp, "usage", None) else None
            cached = False
        thought = clean_thought(text)
        problem = thought_problem(thought, req.query, req.messages)
        if problem:
            raise BadOutput(problem)
        if self.cache and not cached:
            self.cache.put(key, {"content": text, "finish_reason": finish, "completion_tokens": ntok})
        return Thought(req.query_id, req.candidate_idx, thought, seed, finish, ntok, attempt + 1, cached)

    async def _one(self, client, sem: asyncio.Semaphore, req: ThoughtRequest) -> Thought | LLMFailure:
        attempt = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts),
            wait=wait_exponential_jitter(
                initial=self.config.backoff_initial_s, max=self.config.backoff_max_s
            ),
            retry=retry_if_exception(_retryable),
            reraise=False,
        )
        try:
            async for att in retrying:
                with att:
                    async with sem:
                        attempt = att.retry_state.attempt_number - 1
                        if attempt:
                            self.stats["retries"] += 1
                        return await self._attempt(client, req, attempt)
        except RetryError as err:
            exc = err.last_attempt.exception()
            return LLMFailure(req.query_id, req.candidate_idx, _describe(exc), attempt + 1)
        except _FATAL as exc:
            raise ConfigError(
                f"the LLM endpoint {self.base_url} refused the request: {_describe(exc)}"
            ) from None
        except _REJECTED as exc:
            return LLMFailure(req.query_id, req.candidate_idx, _describe(exc), attempt + 1)
        raise AssertionError("unreachable")

    async def generate(self, requests: list[ThoughtRequest]) -> list[Thought | LLMFailure]:
        """Generate every request; results come back in request order, one per request.

        Raises:
            ConfigError: the endpoint refused the key, the permission or the model.
        """
        sem = asyncio.Semaphore(self.config.concurrency)
        async with self._client() as client:
            return list(await asyncio.gather(*(self._one(client, sem, r) for r in requests)))


async def first_model(base_url: str, api_key: SecretStr) -> str:
    """Return the first model the endpoint lists (for endpoints that serve one model).

    Raises:
        ConfigError: the endpoint cannot be reached or lists no model.
    """
    try:
        async with openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key.get_secret_value(), max_retries=2
        ) as c:
            models = await c.models.list()
    except openai.APIError as exc:
        raise ConfigError(f"cannot list models at {base_url}: {_describe(exc)}") from None
    names = [m.id for m in models.data]
    if not names:
        raise ConfigError(f"the endpoint {base_url} lists no model; set llm.model")
    return names[0]
