"""Expert-LLM client against local OpenAI-compatible servers: pairing, retries, faults, cache, fatal errors."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from pydantic import SecretStr

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_client import (
    LLMConfig,
    LLMFailure,
    SamplingConfig,
    Thought,
    ThoughtGenerator,
    ThoughtRequest,
    generate_across,
)
from o1embed.tasks.prompts import PromptConfig, build_messages
from o1embed.tasks.testing.server_process import fake_openai_server, server_stats


def requests(n, k=3):
    return [
        ThoughtRequest(f"q{i}", c, f"about qid-{i:05d}?", build_messages(f"about qid-{i:05d}?", [], PromptConfig()))
        for i in range(n)
        for c in range(k)
    ]


def generator(base_url, cache=None, sampling=None, **llm):
    defaults = {"concurrency": 16, "timeout_s": 1.0, "backoff_initial_s": 0.01, "backoff_max_s": 0.05}
    cfg = LLMConfig(**{**defaults, **llm})
    return ThoughtGenerator(base_url, "fake-expert", SecretStr("sk-test"), sampling or SamplingConfig(), cfg, cache)


def test_every_result_is_keyed_to_its_request():
    with fake_openai_server() as url:
        reqs = requests(200)
        res = asyncio.run(generator(url).generate(reqs))
    assert all(isinstance(r, Thought) for r in res)
    for q, r in zip(reqs, res, strict=True):
        assert (r.query_id, r.candidate_idx) == (q.query_id, q.candidate_idx)
        assert f"[{q.query}]" in r.thought


def test_requests_spread_across_endpoints_come_back_in_order():
    """Two servers share one request list by query; each query's candidates went to one of them."""
    with fake_openai_server() as a, fake_openai_server(seed=1) as b:
        reqs = requests(21)
        res = asyncio.run(generate_across([generator(a), generator(b)], reqs))
        calls = [server_stats(u)["calls"] for u in (a, b)]
    assert [(r.query_id, r.candidate_idx) for r in res] == [(q.query_id, q.candidate_idx) for q in reqs]
    assert all(f"[{q.query}]" in r.thought for q, r in zip(reqs, res, strict=True))
    assert calls == [11 * 3, 10 * 3]  # queries 0, 2, ..., 20 to the first; 1, 3, ..., 19 to the second
    with pytest.raises(ValueError, match="at least one"):
        asyncio.run(generate_across([], reqs))


def test_faults_are_retried_and_failures_recorded_with_reasons():
    with fake_openai_server(fail_rate=0.3, timeout_sleep=2.0, seed=1) as url:
        reqs = requests(100)
        res = asyncio.run(generator(url, max_attempts=3).generate(reqs))
        stats = server_stats(url)
    assert len(res) == len(reqs)
    fails = [r for r in res if isinstance(r, LLMFailure)]
    oks = [r for r in res if isinstance(r, Thought)]
    assert len(oks) + len(fails) == 300
    assert all(r.thought.strip() for r in oks)  # empty or malformed answers never become candidates
    assert any(r.attempts > 1 for r in oks)
    for f in fails:
        assert f.attempts == 3 and f.reason
    assert sum(stats[k] for k in ("http500", "http429", "timeout", "empty", "malformed", "no_choices")) > 50


def test_slow_and_out_of_contract_endpoints_are_bounded():
    """Trickled bodies hit the total deadline, overruns are cut and marked, extra choices are counted."""
    trickle_delay = 1.0  # a byte a second: a whole body would take minutes
    with fake_openai_server(
        seed=2, trickle_rate=0.1, trickle_delay=trickle_delay, overrun_rate=0.1, extra_choices_rate=0.1
    ) as url:
        reqs = requests(60)
        # The per-read timeout is longer than the gap between bytes, so it never trips (as with a real trickling
        # proxy): only the total deadline can end such a call. (At 1 s against a 1 s gap the two raced.)
        gen = generator(
            url,
            sampling=SamplingConfig(max_tokens=64),
            max_attempts=3,
            request_deadline_s=2.0,
            timeout_s=10.0,
        )
        t0 = time.monotonic()
        res = asyncio.run(gen.generate(reqs))
        elapsed = time.monotonic() - t0
        stats = server_stats(url)
    cfg = gen.config
    # Each slot holds one candidate for at most its budget, so the run is bounded by the configuration,
    # far below the time of one trickled body (about 200 bytes at a byte a second).
    assert elapsed < math.ceil(len(reqs) / cfg.concurrency) * cfg.budget_s() < 200 * trickle_delay
    assert stats["trickle"] > 0 and stats["overrun"] > 0 and stats["extra_choices"] > 0
    assert gen.stats["deadline_hits"] >= stats["trickle"]
    # On a loaded machine an overrun or extra-choice answer may itself miss the deadline (and is retried).
    assert 0 < gen.stats["truncated"] <= stats["overrun"]
    assert 0 < gen.stats["extra_choices"] <= stats["extra_choices"]
    assert len(res) == len(reqs)
    limit = 64 * cfg.chars_per_token
    for q, r in zip(reqs, res, strict=True):
        assert (r.query_id, r.candidate_idx) == (q.query_id, q.candidate_idx)
        if isinstance(r, LLMFailure):
            assert "deadline" in r.reason
            continue
        assert f"[{q.query}]" in r.thought and not r.thought.startswith("choice")  # the first choice
        assert len(r.thought) <= limit
    cut = [r for r in res if isinstance(r, Thought) and r.finish_reason == "length"]
    assert len(cut) == gen.stats["truncated"]


def test_overrun_is_cut_in_the_expert_tokens_when_a_tokenizer_is_given():
    gen = generator("http://127.0.0.1:9/v1", sampling=SamplingConfig(max_tokens=64))
    gen.count_tokens = lambda text: len(text.split())
    text, finish = gen._within_budget("word " * 1000, "stop")
    assert len(text.split()) == 64 and finish == "length" and gen.stats["truncated"] == 1
    assert gen._within_budget("a short honest answer", "stop") == ("a short honest answer", "stop")


def test_cache_serves_successes_only(tmp_path):
    cache = ResponseCache(tmp_path)
    with fake_openai_server() as url:
        g1 = generator(url, cache)
        first = asyncio.run(g1.generate(requests(5)))
        g2 = generator(url, cache)
        second = asyncio.run(g2.generate(requests(5)))
    assert g1.stats["requests"] == 15 and g2.stats["requests"] == 0 and g2.stats["cache_hits"] == 15
    assert [r.thought for r in first] == [r.thought for r in second] and all(r.cached for r in second)


def test_unreachable_endpoint_becomes_error_rows():
    res = asyncio.run(generator("http://127.0.0.1:9/v1", max_attempts=2).generate(requests(1, k=2)))
    assert [type(r) for r in res] == [LLMFailure, LLMFailure]
    assert "APIConnectionError" in res[0].reason


def test_wrong_key_stops_the_run():
    import threading

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from o1embed.tasks.llm_server import free_port

    async def deny(request):
        return JSONResponse({"error": {"message": "bad key"}}, status_code=401)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/v1/chat/completions", deny, methods=["POST"])]),
            port=port,
            log_level="error",
        )
    )
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    while not server.started:
        pass
    try:
        with pytest.raises(ConfigError, match="refused the request: HTTP 401"):
            asyncio.run(generator(f"http://127.0.0.1:{port}/v1").generate(requests(1)))
    finally:
        server.should_exit = True
        t.join(5)


def shared_requests(n, k=3):
    """K requests per query sharing one prompt (the per_query demo policy)."""
    out = []
    for i in range(n):
        q = f"about qid-{i:05d}?"
        msgs = build_messages(q, [], PromptConfig())
        out += [ThoughtRequest(f"q{i}", c, q, msgs) for c in range(k)]
    return out


def test_one_request_with_n_k_when_the_server_honours_n():
    with fake_openai_server() as url:
        gen = generator(url)
        gen.use_n = True
        reqs = shared_requests(40)
        res = asyncio.run(gen.generate(reqs))
        stats = server_stats(url)
    assert stats["calls"] == 40 and stats["choices"] == 120  # one request per query
    assert gen.n_honoured is True and gen.n_fallback is None and gen.stats["n_requests"] == 40
    assert all(isinstance(r, Thought) for r in res)
    assert [(r.query_id, r.candidate_idx) for r in res] == [(q.query_id, q.candidate_idx) for q in reqs]
    for i in range(40):
        mine = [r for r in res if r.query_id == f"q{i}"]
        assert sorted(r.candidate_idx for r in mine) == [0, 1, 2]
        assert len({r.thought for r in mine}) == 3  # K distinct candidates
        assert all(f"[about qid-{i:05d}?]" in r.thought for r in mine)
    prompt = sum(len(m["content"].split()) for m in reqs[0].messages)  # the fake server counts words
    assert sum(r.prompt_tokens for r in res) == 40 * prompt  # the prompt once per request, split exactly
    assert all(r.completion_tokens and r.finish_reason == "stop" for r in res)


def test_falls_back_to_one_request_per_candidate_when_n_is_ignored():
    with fake_openai_server(ignore_n=True) as url:
        gen = generator(url)
        gen.use_n = True
        res = asyncio.run(gen.generate(shared_requests(20)))
        stats = server_stats(url)
    assert gen.n_honoured is False
    assert gen.n_fallback == {"n_requested": 3, "choices_returned": 1}
    assert stats["calls"] == 1 + 60  # one probe, then one request per candidate
    assert all(isinstance(r, Thought) for r in res) and len({(r.query_id, r.thought) for r in res}) == 60
    assert all(r.prompt_tokens and r.completion_tokens for r in res)


def test_usage_finish_reason_and_logprobs_are_kept():
    with fake_openai_server() as url:
        cfg = LLMConfig(concurrency=4, timeout_s=1.0, logprobs=True)
        sampling = SamplingConfig(max_tokens=5)
        gen = ThoughtGenerator(url, "fake-expert", SecretStr("k"), sampling, cfg)
        res = asyncio.run(gen.generate(requests(3)))
    assert all(isinstance(r, Thought) for r in res)
    assert {r.finish_reason for r in res} == {"length"}  # cut at max_tokens, and marked so
    assert {r.completion_tokens for r in res} == {5}
    assert all(r.mean_logprob is not None and r.mean_logprob < 0 for r in res)


def test_failures_carry_the_tokens_they_spent():
    with fake_openai_server(fail_rate=1.0, seed=2, timeout_sleep=2.0) as url:
        res = asyncio.run(generator(url, max_attempts=3).generate(requests(10, k=1)))
    assert all(isinstance(r, LLMFailure) for r in res)
    # empty outputs came back with usage: those failures say what they cost
    assert any(r.prompt_tokens for r in res)
