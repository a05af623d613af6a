"""The Starlette application of ``o1embed serve``: OpenAI-compatible embeddings over one O1 model.

Routes:

- ``POST /v1/embeddings``: OpenAI's body (``model``, ``input``, ``encoding_format``, ``dimensions``) plus
  ``input_type`` and ``think`` (the openai client sends them through ``extra_body``); model names as in
  :class:`~trainer.serving.config.ServeConfig`.
- ``GET /v1/models``: the served names.
- ``GET /health``: ``{"status": "ok", "model", "dim", "counters"}``; ``GET /metrics``: the counters alone.

Every error is OpenAI's shape (:mod:`.protocol`): 400 for bad input naming the field, 401 for a missing or wrong
key, 404 for an unknown model or path, 413 past a limit (inputs per request, tokens per input), 503 when more
inputs are in flight than ``max_pending_items``. Thoughts are cached by the encoder (``trainer.thought_cache``),
so a repeated query costs one forward pass. The key (from ``ServeConfig.api_key_env``) is compared in constant
time and never logged.

Example:
    >>> app = build_app(O1Encoder("runs/o1/model"), ServeConfig(name="o1-small"))     # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8080)                                  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import time
from collections.abc import Hashable

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from o1embed.trainer.serving.batcher import Batcher, Overloaded
from o1embed.trainer.serving.config import ServeConfig
from o1embed.trainer.serving.protocol import APIError, bad_request, embedding_response, parse_request

log = logging.getLogger(__name__)


def error_response(err: APIError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


def build_app(encoder, config: ServeConfig | None = None) -> Starlette:
    """The application serving ``encoder`` (an :class:`~trainer.encoder.O1Encoder`) under ``config``."""
    config = config or ServeConfig()
    models = config.model_names()
    dim = int(encoder.model.dim)
    tokenizer = encoder.model.tokenizer
    created = int(time.time())

    def encode(key: Hashable, texts: list[str]) -> np.ndarray:
        role, think = key
        if role == "document":
            return encoder.encode_document(texts)
        return encoder.encode_query(texts) if think is None else encoder.encode_query(texts, think=think)

    batcher = Batcher(encode, config.batch_window_ms / 1000.0, config.max_batch_items, config.max_pending_items)

    def count_error(status: int) -> None:
        batcher.counters.errors[str(status)] = batcher.counters.errors.get(str(status), 0) + 1

    def check_key(request: Request) -> None:
        key = os.environ.get(config.api_key_env, "")
        if not key:
            return
        given = request.headers.get("authorization", "")
        token = given[7:] if given.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(token.encode(), key.encode()):
            raise APIError(401, "Incorrect or missing API key", "invalid_request_error", None, "invalid_api_key")

    async def embeddings(request: Request) -> JSONResponse:
        try:
            check_key(request)
            try:
                body = json.loads(await request.body())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise bad_request(f"the request body is not valid JSON: {exc}", None, "invalid_json") from None
            req = parse_request(body, models, config.max_items_per_request)
            if body.get("dimensions") not in (None, dim):
                raise bad_request(f"'dimensions' must be {dim} (this model's size) or left out", "dimensions")
            lengths = [len(ids) for ids in tokenizer(req.texts, add_special_tokens=False)["input_ids"]]
            for i, n in enumerate(lengths):
                if n > config.max_input_tokens:
                    raise APIError(
                        413,
                        f"input[{i}] has {n} tokens; at most {config.max_input_tokens} per input",
                        "invalid_request_error",
                        f"input[{i}]",
                        "input_too_long",
                    )
            try:
                vectors = await batcher.submit((req.role, req.think), req.texts)
            except Overloaded as exc:
                raise APIError(
                    503, f"The server is overloaded ({exc}); retry later", "server_error", None, "overloaded"
                ) from None
            except Exception as exc:  # the encoder failed on this batch: a 500 in OpenAI's shape
                log.exception("embedding failed")
                raise APIError(500, f"embedding failed: {type(exc).__name__}", "server_error") from None
        except APIError as err:
            count_error(err.status)
            return error_response(err)
        batcher.counters.requests += 1
        batcher.counters.inputs += len(req.texts)
        return JSONResponse(embedding_response(req, vectors, sum(lengths)))

    async def list_models(request: Request) -> JSONResponse:
        try:
            check_key(request)
        except APIError as err:
            count_error(err.status)
            return error_response(err)
        data = [{"id": m, "object": "model", "created": created, "owned_by": "o1embed"} for m in models]
        return JSONResponse({"object": "list", "data": data})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "model": str(encoder.model_path),
                "names": list(models),
                "dim": dim,
                "counters": batcher.counters.as_dict(batcher.pending),
            }
        )

    async def metrics(request: Request) -> JSONResponse:
        return JSONResponse(batcher.counters.as_dict(batcher.pending))

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        count_error(exc.status_code)
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return error_response(APIError(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}", kind))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        log.info("serving %s as %s (dim %d)", encoder.model_path, ", ".join(models), dim)
        try:
            yield
        finally:
            await batcher.stop()

    app = Starlette(
        routes=[
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    return app
