"""On-disk cache of successful expert-LLM responses, keyed by (model, messages, sampling parameters).

One JSON file per response under ``<cache_dir>/<key[:2]>/<key>.json``, written atomically, so concurrent Ray
workers share it safely. Failures are never cached.

Example:
    >>> import tempfile
    >>> c = ResponseCache(tempfile.mkdtemp())
    >>> k = c.key("m", [{"role": "user", "content": "hi"}], {"temperature": 0.7})
    >>> c.get(k) is None
    True
    >>> c.put(k, {"content": "hello"}); c.get(k)["content"]
    'hello'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from o1embed.tasks.atomic import write_json_atomic
from o1embed.tasks.hashing import stable_hash


class ResponseCache:
    """A directory of cached responses.

    Args:
        directory: where the cache lives (created on first write).
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    @staticmethod
    def key(model: str, messages: list[dict[str, str]], sampling: dict[str, Any]) -> str:
        """Return the cache key of one request."""
        return stable_hash({"model": model, "messages": messages, "sampling": sampling})

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """Return the cached response, or None (a corrupt entry counts as a miss)."""
        p = self._path(key)
        try:
            return json.loads(p.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, key: str, response: dict[str, Any]) -> None:
        """Store one successful response."""
        write_json_atomic(self._path(key), response)
