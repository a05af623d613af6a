"""Expert-LLM client: candidate thoughts from any OpenAI-compatible endpoint, keyed by (query_id, candidate_idx).

Built on ``openai.AsyncOpenAI`` (its own retries switched off) with tenacity for bounded retries: exponential
backoff with jitter on 429, 5xx, timeouts, connection errors and malformed bodies, and on outputs that cannot be
candidates (empty, whitespace, an echo of the prompt or query: those are retried with the next seed). A request that
still fails becomes an :class:`LLMFailure` with the reason; it never becomes an empty candidate. Authentication,
permission and unknown-model errors stop the run: retrying cannot fix them.

Endpoints out of contract are bounded, not trusted:

- *Slow bodies.* ``timeout_s`` is httpx's per-read timeout: a server sending a byte a second never trips it.
  So every attempt also runs under a total deadline, ``request_deadline_s`` (``asyncio.timeout`` around the
  whole call); an attempt that hits it is a retryable failure, counted in ``stats["deadline_hits"]``. All
  attempts of one candidate, backoff waits included, share ``request_budget_s`` (time queued behind other
  requests for a slot is not counted); a candidate that runs out of it becomes an :class:`LLMFailure`.
- *Output past ``max_tokens``.* A thought far longer than its budget is **cut to the budget and marked**: its
  ``finish_reason`` becomes ``"length"`` (as if the server had stopped it); ``stats["truncated"]`` counts it.
  "Far longer" is measured in the expert's tokens when a ``count_tokens`` function is given, else as more
  than ``max_tokens * LLMConfig.chars_per_token`` characters, a generous bound (English runs at about 4
  characters per token), so an honest answer is never cut. It is never kept whole.
- *More choices than asked for.* The first is kept; ``stats["extra_choices"]`` counts such responses.

Request shapes: one request per candidate (``n=1``, each with its own seed), or, when the K candidates of a query
share one prompt (demo policy ``per_query``) and ``use_n`` is set, one request with ``n=K`` whose choices become
candidates 0..K-1 (vLLM samples them from one prompt and shares its KV cache). The first such request of a
generator probes the server: when it returns fewer choices than asked (llama.cpp returns one), the generator falls
back to one request per candidate for the rest of its work and says so once (:attr:`ThoughtGenerator.n_fallback`).

Token accounting: every result carries the tokens spent on its key over all attempts (``prompt_tokens``,
``completion_tokens``, from the response's ``usage``). With ``n=K`` the request's usage is divided among its
choices so that the sums stay exact (a choice's completion tokens are counted from its log-probs when the server
returns them). ``finish_reason`` is kept as the server gave it (``length``: the thought was cut at ``max_tokens``).

Example:
    >>> cfg = LLMConfig(base_url="http://127.0.0.1:8000/v1", model="smollm2", api_key="sk-secret")
    >>> "api_key" in cfg.model_dump()                # the key is never dumped
    False
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
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
from o1embed.tasks.prompts import TASK_TEXT, candidate_seed, clean_thought, thought_problem

log = logging.getLogger(__name__)


class LLMConfig(BaseModel):
    """Where the expert LLM is and how hard to push it. The key is resolved at run time, never stored.

    ``base_url`` None means: ``$OPENAI_BASE_URL`` if set, else the embedded llama.cpp server.
    """

    base_url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. http://host:8000/v1.")
    model: str | None = Field(None, description="Model name at the endpoint; None: the endpoint's first model.")
    api_key: SecretStr | None = Field(None, exclude=True, description="Key; prefer api_key_env or api_key_block.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the key.")
    api_key_block: str | None = Field(None, description="Name of a Prefect Secret block holding the key.")
    concurrency: int = Field(4, ge=1, description="Requests in flight per shard and endpoint URL.")
    timeout_s: float = Field(120.0, gt=0, description="Per-read timeout (httpx); see request_deadline_s.")
    request_deadline_s: float = Field(
        300.0,
        gt=0,
        description="Total deadline of one attempt: the whole response, however slowly it arrives; "
        "an attempt that hits it is retried.",
    )
    request_budget_s: float | None = Field(
        None,
        gt=0,
        description="Total time of one candidate over all its attempts, backoff waits included (not time "
        "queued for a slot); None: max_attempts x (request_deadline_s + backoff_max_s).",
    )
    chars_per_token: float = Field(
        8.0,
        gt=0,
        description="Generous characters-per-token bound: without a tokenizer, a thought longer than "
        "max_tokens x this many characters is cut there and marked finish_reason 'length'.",
    )
    embedded_servers: int = Field(
        2,
        ge=1,
        description="Embedded llama.cpp servers started when no endpoint is set, each on llama-cpp-python's "
        "default threads (half the cores); a shard spreads its requests over all of them by query. Two answer "
        "1.37x one's requests per second on 2 cores (bench/expert_servers.py).",
    )
    max_attempts: int = Field(5, ge=1, description="Attempts per candidate (transient errors and bad outputs).")
    backoff_initial_s: float = Field(0.5, ge=0, description="First backoff; doubles each retry, plus jitter.")
    backoff_max_s: float = Field(20.0, ge=0, description="Longest backoff.")
    logprobs: bool = Field(
        False,
        description="Ask for token log-probs and keep each candidate's mean (servers that return them).",
    )

    def budget_s(self) -> float:
        """Total time one candidate may take over all its attempts (see ``request_budget_s``)."""
        if self.request_budget_s is not None:
            return self.request_budget_s
        return self.max_attempts * (self.request_deadline_s + self.backoff_max_s)

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
    style: str = "paper"
    task: str = TASK_TEXT  # the Task text in ``messages`` (an output that echoes it is refused)


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
    prompt_tokens: int | None = None
    mean_logprob: float | None = None


@dataclass
class LLMFailure:
    """A candidate that could not be obtained, with the last reason."""

    query_id: str
    candidate_idx: int
    reason: str
    attempts: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class BadOutput(Exception):
    """The endpoint answered, but the text cannot be a candidate (retried with the next seed)."""


class DeadlineExceeded(Exception):
    """An attempt did not complete within ``request_deadline_s`` or the candidate's budget (retried)."""


@dataclass
class _Spent:
    """Tokens spent on one key so far (None until a response reports usage)."""

    prompt: int | None = None
    completion: int | None = None

    def add(self, prompt: int | None, completion: int | None) -> None:
        if prompt is not None:
            self.prompt = (self.prompt or 0) + prompt
        if completion is not None:
            self.completion = (self.completion or 0) + completion


def _split(total: int | None, parts: int) -> list[int | None]:
    """Split ``total`` into ``parts`` integers that sum to it (the remainder goes to the first)."""
    if total is None:
        return [None] * parts
    base, rest = divmod(total, parts)
    return [base + (i < rest) for i in range(parts)]


def _choice_fields(choice: Any) -> dict[str, Any]:
    """Content, finish reason, and (when log-probs came back) token count and mean log-prob of one choice."""
    text = choice.message.content if getattr(choice, "message", None) else None
    if not isinstance(text, str):
        raise BadOutput("response has no message content")
    out: dict[str, Any] = {"content": text, "finish_reason": choice.finish_reason}
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if content:
        values = [t.logprob for t in content]
        out["completion_tokens"] = len(values)
        out["mean_logprob"] = sum(values) / len(values)
    return out


_FATAL = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
_REJECTED = (
    openai.BadRequestError,
    openai.UnprocessableEntityError,
)  # this request is wrong; others may be fine


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _FATAL + _REJECTED):
        return False
    # Transport, status and body errors, and outputs that cannot be candidates; a bug in our code is not retried.
    return isinstance(exc, openai.APIError | BadOutput | DeadlineExceeded | ValueError)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {type(exc).__name__}"
    if isinstance(exc, BadOutput):
        return f"bad output: {exc}"
    if isinstance(exc, DeadlineExceeded):
        return f"deadline: {exc}"
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
        count_tokens: the expert's tokenizer as ``text -> number of tokens``, or None (the usual case: the
            endpoint's tokenizer is not at hand); used to cut a thought past ``max_tokens``.
        use_n: serve runs of requests of one query with the same prompt by one request with ``n=K``.
    """

    base_url: str
    model: str
    api_key: SecretStr
    sampling: SamplingConfig
    config: LLMConfig
    cache: ResponseCache | None = None
    count_tokens: Callable[[str], int] | None = None
    stats: dict[str, int] = field(
        default_factory=lambda: {
            "requests": 0,
            "cache_hits": 0,
            "retries": 0,
            "deadline_hits": 0,  # attempts cut off by request_deadline_s or the candidate's budget
            "truncated": 0,  # thoughts cut to max_tokens (the server ignored it)
            "extra_choices": 0,  # responses with more choices than asked for (the first was kept)
            "n_requests": 0,  # requests with n=K
        }
    )
    on_result: Callable[[Thought | LLMFailure], None] | None = None  # called as each request ends (progress)
    use_n: bool = False
    n_honoured: bool | None = None  # None until the first n=K request says
    n_fallback: dict[str, Any] | None = None  # what the server did when it ignored n (recorded once)

    def _client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.api_key.get_secret_value(),
            timeout=self.config.timeout_s,
            max_retries=0,  # tenacity owns retries, so every attempt is counted and bounded in one place
        )

    def _sampling_for(self, seed: int) -> dict[str, Any]:
        params = {
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "max_tokens": self.sampling.max_tokens,
            "seed": seed,
        }
        if self.config.logprobs:
            params["logprobs"] = True
        return params

    def _within_budget(self, text: str, finish: str | None) -> tuple[str, str | None]:
        """Cut a text far past ``max_tokens`` to the budget, marked ``finish_reason="length"``."""
        budget = self.sampling.max_tokens
        if self.count_tokens is not None:
            if self.count_tokens(text) <= budget:
                return text, finish
            lo, hi = 0, len(text)  # the longest prefix within the budget
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if self.count_tokens(text[:mid]) <= budget else (lo, mid - 1)
            cut = lo
        else:
            cut = int(budget * self.config.chars_per_token)
            if len(text) <= cut:
                return text, finish
        self.stats["truncated"] += 1
        log.warning("a thought of %d characters ran past max_tokens=%d: cut to %d", len(text), budget, cut)
        return text[:cut], "length"

    async def _create(
        self,
        client: openai.AsyncOpenAI,
        messages: list[dict[str, str]],
        n: int,
        seed: int,
        spent: list[_Spent],
        limit_s: float,
    ) -> tuple[list[dict[str, Any]], bool]:
        """One chat request (or a cache hit): its choices as dicts, and whether they came from the cache.

        The request's usage is added to ``spent`` (one entry per choice asked for) before the choices are
        checked, so the tokens of a bad output are counted too.
        """
        params = self._sampling_for(seed)
        key = ResponseCache.key(self.model, messages, {**params, "n": n} if n > 1 else params) if self.cache else None
        hit = self.cache.get(key) if self.cache else None
        if hit is not None:
            self.stats["cache_hits"] += 1
            return hit.get("choices") or [hit], True
        self.stats["requests"] += 1
        self.stats["n_requests"] += n > 1
        try:
            async with asyncio.timeout(limit_s):  # the whole response: httpx's timeout is per read
                resp = await client.chat.completions.create(model=self.model, messages=messages, n=n, **params)
        except TimeoutError:
            self.stats["deadline_hits"] += 1
            raise DeadlineExceeded(f"no complete response within {limit_s:.1f} s") from None
        usage = getattr(resp, "usage", None)
        raw = sorted(getattr(resp, "choices", None) or [], key=lambda c: c.index)
        if len(raw) > n:  # asked for n: keep the first n, and say so
            self.stats["extra_choices"] += 1
            log.warning("the endpoint sent %d choices where %d were asked; the first are kept", len(raw), n)
            raw = raw[:n]
        choices = [_choice_fields(c) for c in raw]
        prompt = _split(getattr(usage, "prompt_tokens", None), len(spent))
        counted = [c.get("completion_tokens") for c in choices]
        if len(choices) == len(spent) and all(t is not None for t in counted):
            completion = counted
        else:
            completion = _split(getattr(usage, "completion_tokens", None), len(spent))
        for s, p, c in zip(spent, prompt, completion, strict=True):
            s.add(p, c)
        for c, p, t in zip(choices, prompt, completion, strict=False):
            c["content"], c["finish_reason"] = self._within_budget(c["content"], c["finish_reason"])
            c.update(prompt_tokens=p, completion_tokens=t)
        if not choices:
            raise BadOutput("response has no choices")
        return choices, False

    def _thought(
        self, req: ThoughtRequest, choice: dict, seed: int, attempts: int, cached: bool, spent: _Spent
    ) -> Thought:
        """The candidate from one choice, or BadOutput when its text cannot be one."""
        thought = clean_thought(choice["content"])
        problem = thought_problem(thought, req.query, req.messages, req.task)
        if problem:
            raise BadOutput(problem)
        return Thought(
            req.query_id,
            req.candidate_idx,
            thought,
            seed,
            choice.get("finish_reason"),
            choice.get("completion_tokens") if cached else spent.completion,
            attempts,
            cached,
            prompt_tokens=choice.get("prompt_tokens") if cached else spent.prompt,
            mean_logprob=choice.get("mean_logprob"),
        )

    async def _attempt(
        self, client: openai.AsyncOpenAI, req: ThoughtRequest, attempt: int, limit_s: float, spent: _Spent
    ) -> Thought:
        seed = candidate_seed(self.sampling.seed, req.query_id, req.candidate_idx, attempt)
        choices, cached = await self._create(client, req.messages, 1, seed, [spent], limit_s)
        thought = self._thought(req, choices[0], seed, attempt + 1, cached, spent)
        if self.cache and not cached:
            self.cache.put(ResponseCache.key(self.model, req.messages, self._sampling_for(seed)), choices[0])
        return thought

    def _retrying(self, attempts: int, remaining: Callable[[], float]) -> AsyncRetrying:
        def out_of_budget(state) -> bool:
            return remaining() - (state.upcoming_sleep or 0.0) <= 0

        return AsyncRetrying(
            stop=stop_after_attempt(max(1, attempts)) | out_of_budget,
            wait=wait_exponential_jitter(initial=self.config.backoff_initial_s, max=self.config.backoff_max_s),
            retry=retry_if_exception(_retryable),
            reraise=False,
        )

    async def _one(
        self,
        client,
        sem: asyncio.Semaphore,
        req: ThoughtRequest,
        first_attempt: int = 0,
        spent: _Spent | None = None,
    ) -> Thought | LLMFailure:
        """One candidate by requests with n=1; ``first_attempt`` > 0 continues after an n=K request's choice."""
        spent = spent or _Spent()
        attempt = first_attempt
        if first_attempt >= self.config.max_attempts:
            return LLMFailure(
                req.query_id, req.candidate_idx, "no attempts left", attempt, spent.prompt, spent.completion
            )
        budget = self.config.budget_s()
        start, queued = time.monotonic(), 0.0  # the budget counts own time: not the wait for a slot

        def remaining() -> float:
            return budget - (time.monotonic() - start - queued)

        def failure(reason: str) -> LLMFailure:
            return LLMFailure(req.query_id, req.candidate_idx, reason, attempt + 1, spent.prompt, spent.completion)

        try:
            async for att in self._retrying(self.config.max_attempts - first_attempt, remaining):
                with att:
                    waited = time.monotonic()
                    async with sem:
                        queued += time.monotonic() - waited
                        attempt = first_attempt + att.retry_state.attempt_number - 1
                        if attempt:
                            self.stats["retries"] += 1
                        limit = min(self.config.request_deadline_s, remaining())
                        return await self._attempt(client, req, attempt, limit, spent)
        except RetryError as err:
            reason = _describe(err.last_attempt.exception())
            if attempt + 1 < self.config.max_attempts:
                reason = f"request budget of {budget:.1f} s spent; last: {reason}"
            return failure(reason)
        except _FATAL as exc:
            raise ConfigError(f"the LLM endpoint {self.base_url} refused the request: {_describe(exc)}") from None
        except _REJECTED as exc:
            return failure(_describe(exc))
        raise AssertionError("unreachable")

    async def _group(self, client, sem: asyncio.Semaphore, reqs: list[ThoughtRequest]) -> list[Thought | LLMFailure]:
        """The K candidates of one query that share a prompt: one request with n=K, or one per candidate."""
        if len(reqs) == 1 or self.n_honoured is False:
            return list(await asyncio.gather(*(self._one(client, sem, r) for r in reqs)))
        if self.n_honoured is None:
            async with self._probe:  # the first n request learns whether the server honours n
                if self.n_honoured is None:
                    return await self._n_request(client, sem, reqs)
            if self.n_honoured is False:
                return list(await asyncio.gather(*(self._one(client, sem, r) for r in reqs)))
        return await self._n_request(client, sem, reqs)

    async def _n_request(
        self, client, sem: asyncio.Semaphore, reqs: list[ThoughtRequest]
    ) -> list[Thought | LLMFailure]:
        k, head = len(reqs), reqs[0]
        spent = [_Spent() for _ in reqs]
        attempt = 0
        budget = self.config.budget_s()
        start, queued = time.monotonic(), 0.0

        def remaining() -> float:
            return budget - (time.monotonic() - start - queued)

        def failures(reason: str) -> list[Thought | LLMFailure]:
            return [
                LLMFailure(r.query_id, r.candidate_idx, reason, attempt + 1, s.prompt, s.completion)
                for r, s in zip(reqs, spent, strict=True)
            ]

        try:
            async for att in self._retrying(self.config.max_attempts, remaining):
                with att:
                    waited = time.monotonic()
                    async with sem:
                        queued += time.monotonic() - waited
                        attempt = att.retry_state.attempt_number - 1
                        if attempt:
                            self.stats["retries"] += 1
                        seed = candidate_seed(self.sampling.seed, head.query_id, -2, attempt)
                        limit = min(self.config.request_deadline_s, remaining())
                        choices, cached = await self._create(client, head.messages, k, seed, spent, limit)
        except RetryError as err:
            return failures(_describe(err.last_attempt.exception()))
        except _FATAL as exc:
            raise ConfigError(f"the LLM endpoint {self.base_url} refused the request: {_describe(exc)}") from None
        except _REJECTED as exc:
            return failures(_describe(exc))
        if len(choices) < k:
            self.n_honoured = False
            self.n_fallback = {"n_requested": k, "choices_returned": len(choices)}
            log.info(
                "the server returned %d of n=%d choices: one request per candidate from now on",
                len(choices),
                k,
            )
            return list(
                await asyncio.gather(*(self._one(client, sem, r, 0, s) for r, s in zip(reqs, spent, strict=True)))
            )
        self.n_honoured = True
        if self.cache and not cached:
            params = {**self._sampling_for(seed), "n": k}
            self.cache.put(ResponseCache.key(self.model, head.messages, params), {"choices": choices})
        out: list[Thought | LLMFailure | None] = [None] * k
        redo = []
        for i, (req, choice, s) in enumerate(zip(reqs, choices, spent, strict=True)):
            try:
                out[i] = self._thought(req, choice, seed, attempt + 1, cached, s)
            except BadOutput:  # this choice cannot be a candidate: ask for it alone with the next seeds
                redo.append(i)
        again = await asyncio.gather(*(self._one(client, sem, reqs[i], attempt + 1, spent[i]) for i in redo))
        for i, r in zip(redo, again, strict=True):
            out[i] = r
        return out

    async def generate(self, requests: list[ThoughtRequest]) -> list[Thought | LLMFailure]:
        """Generate every request; results come back in request order, one per request.

        Raises:
            ConfigError: the endpoint refused the key, the permission or the model.
        """
        sem = asyncio.Semaphore(self.config.concurrency)
        self._probe = asyncio.Lock()
        groups = _groups(requests) if self.use_n else [[r] for r in requests]

        async def group(client, reqs: list[ThoughtRequest]) -> list[Thought | LLMFailure]:
            res = await self._group(client, sem, reqs)
            if self.on_result is not None:
                for r in res:
                    self.on_result(r)
            return res

        async with self._client() as client:
            done = await asyncio.gather(*(group(client, g) for g in groups))
        return [r for g in done for r in g]


async def generate_across(
    generators: list[ThoughtGenerator], requests: list[ThoughtRequest]
) -> list[Thought | LLMFailure]:
    """Spread requests over several endpoints at once; results come back in request order, one per request.

    A query's requests stay on one generator (the i-th query in order of first appearance goes to generator
    ``i % len(generators)``), so ``use_n`` groups and a server's prompt cache still see them together. Each
    generator keeps its own concurrency, retries, stats and cache. This is how several single-slot servers (e.g.
    one embedded llama.cpp process per core pair) share one request list.

    Raises:
        ValueError: no generator was given.
        ConfigError: an endpoint refused the key, the permission or the model.
    """
    if not generators:
        raise ValueError("generate_across needs at least one generator")
    order: dict[str, int] = {}
    parts: list[list[int]] = [[] for _ in generators]
    for i, r in enumerate(requests):
        parts[order.setdefault(r.query_id, len(order)) % len(generators)].append(i)
    done = await asyncio.gather(
        *(g.generate([requests[i] for i in idx]) for g, idx in zip(generators, parts, strict=True))
    )
    out: list[Thought | LLMFailure | None] = [None] * len(requests)
    for idx, res in zip(parts, done, strict=True):
        for i, r in zip(idx, res, strict=True):
            out[i] = r
    return out  # type: ignore[return-value]  # every slot is filled: each index is in exactly one part


def _groups(requests: list[ThoughtRequest]) -> list[list[ThoughtRequest]]:
    """Runs of consecutive requests of one query with the same prompt (candidate_idx 0, 1, ... in order)."""
    out: list[list[ThoughtRequest]] = []
    for r in requests:
        last = out[-1][-1] if out else None
        if (
            last is not None
            and last.query_id == r.query_id
            and last.messages == r.messages
            and r.candidate_idx == last.candidate_idx + 1
        ):
            out[-1].append(r)
        else:
            out.append([r])
    return out


async def first_model(base_url: str, api_key: SecretStr) -> str:
    """Return the first model the endpoint lists (for endpoints that serve one model).

    Raises:
        ConfigError: the endpoint cannot be reached or lists no model.
    """
    try:
        async with openai.AsyncOpenAI(base_url=base_url, api_key=api_key.get_secret_value(), max_retries=2) as c:
            models = await c.models.list()
    except openai.APIError as exc:
        raise ConfigError(f"cannot list models at {base_url}: {_describe(exc)}") from None
    names = [m.id for m in models.data]
    if not names:
        raise ConfigError(f"the endpoint {base_url} lists no model; set llm.model")
    return names[0]
