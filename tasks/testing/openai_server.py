"""A fast local OpenAI-compatible chat server for tests and benchmarks, with optional faults.

It answers ``POST /v1/chat/completions`` with a thought that quotes the request's last ``Query:`` line, so a test can
prove every candidate belongs to its query. With ``--fail-rate`` it fails that share of calls, spread over HTTP 500,
HTTP 429, timeouts (sleeps past the client's timeout), empty content, and malformed bodies.

Out-of-contract modes, each on its own share of the calls that did not fault (drawn from a second random stream,
so ``--fail-rate`` runs are unchanged): ``--trickle-rate`` sends a good body one byte every ``--trickle-delay``
seconds (never tripping a per-read timeout); ``--overrun-rate`` ignores ``max_tokens`` and answers
``--overrun-chars`` characters; ``--extra-choices-rate`` answers three choices where one was asked.

It honours ``n`` (n distinct choices, as vLLM does) unless started with ``--ignore-n`` (one choice, as llama.cpp
does). ``usage`` counts words as tokens (the prompt once per request, as vLLM does); a thought longer than
``max_tokens`` words is cut there with ``finish_reason="length"``; ``logprobs=true`` adds one log-prob per token.

With ``FAKE_REQUIRED_KEY`` set in its environment it answers 401 to any other key.

Run: ``python -m o1embed.tasks.testing.openai_server --port 8123 [--fail-rate 0.3] [--latency 0.05]``
``[--trickle-rate 0.1 --trickle-delay 0.2] [--overrun-rate 0.1] [--extra-choices-rate 0.1] [--ignore-n]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

FAULTS = ("http500", "http429", "timeout", "empty", "malformed", "no_choices")
MODES = ("trickle", "overrun", "extra_choices")  # out of contract, but a well-formed answer in the end


def make_app(
    fail_rate: float,
    latency: float,
    timeout_sleep: float,
    seed: int,
    required_key: str = "",
    modes: dict[str, float] | None = None,
    trickle_delay: float = 0.2,
    overrun_chars: int = 240_000,
    ignore_n: bool = False,
) -> Starlette:
    rng = random.Random(seed)
    mode_rng = random.Random(seed + 7919)
    modes = {m: r for m, r in (modes or {}).items() if r}
    counters = {
        "calls": 0,
        "unauthorized": 0,
        "choices": 0,
        **dict.fromkeys(FAULTS, 0),
        **dict.fromkeys(MODES, 0),
    }
    seen: dict[str, int] = {}  # query text -> calls

    async def chat(request: Request) -> Response:
        body = await request.json()
        counters["calls"] += 1
        if required_key and request.headers.get("authorization") != f"Bearer {required_key}":
            counters["unauthorized"] += 1
            return JSONResponse({"error": {"message": "invalid key"}}, status_code=401)
        if latency:
            await asyncio.sleep(latency)
        if fail_rate and rng.random() < fail_rate:
            fault = rng.choice(FAULTS)
            counters[fault] += 1
            if fault == "http500":
                return JSONResponse({"error": {"message": "boom"}}, status_code=500)
            if fault == "http429":
                return JSONResponse({"error": {"message": "slow down"}}, status_code=429)
            if fault == "timeout":
                await asyncio.sleep(timeout_sleep)
            if fault == "malformed":
                return Response(b'{"choices": [ {"mess', media_type="application/json")
            if fault == "no_choices":
                return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []})
            content = "" if fault in ("empty", "timeout") else None
            mode = None
        else:
            content, mode = None, None
            draw = mode_rng.random() if modes else 1.0
            for name, rate in modes.items():  # disjoint shares of the calls
                if draw < rate:
                    mode = name
                    counters[name] += 1
                    break
                draw -= rate
        user = body["messages"][-1]["content"]
        query = user.rsplit("Query: ", 1)[-1].removesuffix("Response:").strip()
        seen[query] = seen.get(query, 0) + 1
        n = 1 if ignore_n else max(1, int(body.get("n") or 1))
        if mode == "extra_choices":
            n = max(n, 3)
        max_tokens = int(body.get("max_tokens") or 1 << 30)
        choices, completion = [], 0
        for i in range(n):
            text, finish = content, "stop"
            if text is None:
                text = (
                    f"Thinking about [{query}] with seed {body.get('seed')} choice {i}: "
                    "the answer concerns its key terms."
                )
                if mode == "overrun":  # max_tokens ignored
                    text += " and so on" * (overrun_chars // 10)
                elif len(text.split(" ")) > max_tokens:
                    text, finish = " ".join(text.split(" ")[:max_tokens]), "length"
            ntok = len(text.split())
            completion += ntok
            choice = {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
            if body.get("logprobs"):
                choice["logprobs"] = {
                    "content": [
                        {"token": t, "logprob": -0.1 * (1 + j % 5), "bytes": None, "top_logprobs": []}
                        for j, t in enumerate(text.split())
                    ]
                }
            choices.append(choice)
        counters["choices"] += n
        prompt = sum(len(m["content"].split()) for m in body["messages"])
        payload = {
            "id": f"chatcmpl-{counters['calls']}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
        if mode == "trickle":
            data = json.dumps(payload).encode()

            async def drip():
                for i in range(len(data)):
                    yield data[i : i + 1]
                    await asyncio.sleep(trickle_delay)

            return StreamingResponse(drip(), media_type="application/json")
        return JSONResponse(payload)

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake-expert", "object": "model", "owned_by": "tests"}]})

    async def stats(request: Request) -> Response:
        return Response(json.dumps({**counters, "queries": seen}), media_type="application/json")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", models),
            Route("/stats", stats),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--fail-rate", type=float, default=0.0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--timeout-sleep", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ignore-n", action="store_true", help="answer one choice whatever n asks (llama.cpp)")
    ap.add_argument("--trickle-rate", type=float, default=0.0)
    ap.add_argument("--trickle-delay", type=float, default=0.2, help="Seconds between bytes.")
    ap.add_argument("--overrun-rate", type=float, default=0.0)
    ap.add_argument("--overrun-chars", type=int, default=240_000)
    ap.add_argument("--extra-choices-rate", type=float, default=0.0)
    a = ap.parse_args()
    app = make_app(
        a.fail_rate,
        a.latency,
        a.timeout_sleep,
        a.seed,
        os.environ.get("FAKE_REQUIRED_KEY", ""),
        modes={"trickle": a.trickle_rate, "overrun": a.overrun_rate, "extra_choices": a.extra_choices_rate},
        trickle_delay=a.trickle_delay,
        overrun_chars=a.overrun_chars,
        ignore_n=a.ignore_n,
    )
    # A trickling body the client gave up on must not hold the shutdown.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=a.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
