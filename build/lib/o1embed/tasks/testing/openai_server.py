"""A fast local OpenAI-compatible chat server for tests and benchmarks, with optional faults.

It answers ``POST /v1/chat/completions`` with a thought that quotes the request's last ``Query:`` line, so a test can
prove every candidate belongs to its query. With ``--fail-rate`` it fails that share of calls, spread over HTTP 500,
HTTP 429, timeouts (sleeps past the client's timeout), empty content, and malformed bodies.

With ``FAKE_REQUIRED_KEY`` set in its environment it answers 401 to any other key.

Run: ``python -m o1embed.tasks.testing.openai_server --port 8123 [--fail-rate 0.3] [--latency 0.05]``.
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
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FAULTS = ("http500", "http429", "timeout", "empty", "malformed", "no_choices")


def make_app(
    fail_rate: float, latency: float, timeout_sleep: float, seed: int, required_key: str = ""
) -> Starlette:
    rng = random.Random(seed)
    counters = {"calls": 0, "unauthorized": 0, **dict.fromkeys(FAULTS, 0)}
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
                return JSONResponse(
                    {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []}
                )
            content = "" if fault in ("empty", "timeout") else None
        else:
            content = None
        user = body["messages"][-1]["content"]
        query = user.rsplit("Query: ", 1)[-1].removesuffix("Response:").strip()
        seen[query] = seen.get(query, 0) + 1
        if content is None:
            content = (
                f"Thinking about [{query}] with seed {body.get('seed')}: the answer concerns its key terms."
            )
        return JSONResponse(
            {
                "id": f"chatcmpl-{counters['calls']}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22},
            }
        )

    async def models(request: Request) -> Response:
        return JSONResponse(
            {"object": "list", "data": [{"id": "fake-expert", "object": "model", "owned_by": "tests"}]}
        )

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
    a = ap.parse_args()
    app = make_app(a.fail_rate, a.latency, a.timeout_sleep, a.seed, os.environ.get("FAKE_REQUIRED_KEY", ""))
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
