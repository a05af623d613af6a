"""The OpenAI embeddings protocol: request validation, response bodies and the error shape.

Errors follow OpenAI's ``{"error": {"message", "type", "param", "code"}}`` with the HTTP status carried by
:class:`APIError`. Validation names the field at fault (``input[3]``, ``model``, ``encoding_format`` ...).

Example:
    >>> req = parse_request({"model": "o1embed-query", "input": "rain?"}, {"o1embed-query": "query"})
    >>> req.role, req.texts
    ('query', ['rain?'])
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np


class APIError(Exception):
    """An error response: HTTP ``status`` and the OpenAI error body."""

    def __init__(self, status: int, message: str, type: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None, code: str = "invalid_value") -> APIError:
    return APIError(400, message, "invalid_request_error", param, code)


@dataclass
class EmbeddingRequest:
    """A validated request: what to embed and how."""

    model: str
    role: str  # "query" | "document"
    texts: list[str]
    think: Any = None  # None: the encoder's default
    encoding_format: str = "float"


def parse_request(body: Any, models: dict[str, str | None], max_items: int | None = None) -> EmbeddingRequest:
    """Validate an ``/v1/embeddings`` body against the served ``models`` (``{name: role or None}``).

    Raises:
        APIError: 400 naming the field, 404 for an unknown model, 413 for more than ``max_items`` inputs.
    """
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None, "invalid_body")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required and must be a string", "model", "missing_required_parameter")
    if model not in models:
        raise APIError(
            404,
            f"The model '{model}' does not exist; served: {', '.join(sorted(models))}",
            "invalid_request_error",
            "model",
            "model_not_found",
        )
    if "input" not in body:
        raise bad_request("'input' is required", "input", "missing_required_parameter")
    raw = body["input"]
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise bad_request("'input' must be a string or a list of strings", "input")
    if not items:
        raise bad_request("'input' must not be empty", "input")
    if max_items is not None and len(items) > max_items:
        raise APIError(
            413,
            f"'input' has {len(items)} items; at most {max_items} per request",
            "invalid_request_error",
            "input",
            "too_many_inputs",
        )
    for i, item in enumerate(items):
        if not isinstance(item, str):
            kind = "token ids" if isinstance(item, (int, list)) else type(item).__name__
            raise bad_request(
                f"input[{i}] must be a string, got {kind} (token-id inputs are not supported: send text)",
                f"input[{i}]",
            )
        if not item.strip():
            raise bad_request(f"input[{i}] is empty", f"input[{i}]")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise bad_request("'encoding_format' must be 'float' or 'base64'", "encoding_format")
    role = models[model]
    input_type = body.get("input_type")
    if input_type is not None and input_type not in ("query", "document"):
        raise bad_request("'input_type' must be 'query' or 'document'", "input_type")
    if role is None:
        role = input_type or "document"
    elif input_type is not None and input_type != role:
        raise bad_request(f"'input_type' {input_type!r} contradicts the model '{model}' ({role})", "input_type")
    think = body.get("think")
    if think is not None and not isinstance(think, (bool, str)):
        raise bad_request("'think' must be a boolean or a string", "think")
    if think is not None and role != "query":
        raise bad_request("'think' applies to queries only", "think")
    dims = body.get("dimensions")
    if dims is not None and not isinstance(dims, int):
        raise bad_request("'dimensions' must be an integer", "dimensions")
    return EmbeddingRequest(model, role, list(items), think, fmt)


def embedding_response(req: EmbeddingRequest, vectors: np.ndarray, tokens: int) -> dict:
    """The ``/v1/embeddings`` response body for ``vectors`` ``(n, dim)``."""
    data = []
    for i, v in enumerate(np.asarray(vectors, dtype=np.float32)):
        emb: Any = (
            base64.b64encode(v.astype("<f4").tobytes()).decode() if req.encoding_format == "base64" else v.tolist()
        )
        data.append({"object": "embedding", "index": i, "embedding": emb})
    return {
        "object": "list",
        "data": data,
        "model": req.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
