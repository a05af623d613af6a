"""On-disk cache of successful expert-LLM responses, keyed by (model, messages, sampling parameters).

One JSON file per response under ``<cache_dir>/<key[:2]>/<key>.json``, written atomically, so concurrent Ray
workers share it safely. Failures are never cached. The default folder is ``<data root>/cache/llm``
(:meth:`ResponseCache.default_dir`).

A cache travels as one Parquet file (``o1embed llm cache-export`` / ``cache-import``): columns ``key`` (the hex
sha256 above) and ``response`` (the cached JSON object, as text), one row per response, sorted by key. Importing it
into a fresh data root makes the expert's requests of an earlier run free (hours of a CPU-embedded expert), and it
records exactly what the expert answered. Secrets are not in it: a key hashes model, messages and sampling only.

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

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from o1embed.tasks.atomic import write_json_atomic, write_parquet_atomic
from o1embed.tasks.errors import InputError
from o1embed.tasks.hashing import stable_hash
from o1embed.tasks.paths import cache_root

_KEY_CHARS = frozenset("0123456789abcdef")
_KEY_LEN = 64  # hex sha256


class CacheTransfer(BaseModel):
    """What an export or import did.

    Attributes:
        file: the Parquet file written or read.
        directory: the cache folder.
        rows: responses written to (export) or read from (import) the file.
        added: import only: responses new to the folder.
        present: import only: responses the folder already held (left as they were).
        unreadable: export only: cache entries that are not valid JSON objects (not exported; a lookup treats
            them as misses, so the next run asks the expert again).
    """

    file: str
    directory: str
    rows: int
    added: int = 0
    present: int = 0
    unreadable: list[str] = []


class ResponseCache:
    """A directory of cached responses.

    Args:
        directory: where the cache lives (created on first write).
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    @staticmethod
    def default_dir() -> Path:
        """The cache folder synthesis uses unless told otherwise: ``<data root>/cache/llm``."""
        return cache_root() / "llm"

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

    def export_parquet(self, path: str | Path) -> CacheTransfer:
        """Write every readable cached response to one Parquet file at ``path`` (atomically), sorted by key."""
        keys, responses, unreadable = [], [], []
        for entry in sorted(self.directory.glob("*/*.json")):
            try:
                response = json.loads(entry.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                response = None
            if not isinstance(response, dict) or not _is_key(entry.stem):
                unreadable.append(str(entry))
                continue
            keys.append(entry.stem)
            responses.append(json.dumps(response, sort_keys=True))
        table = pa.table({"key": pa.array(keys, pa.string()), "response": pa.array(responses, pa.string())})
        write_parquet_atomic(path, table)
        return CacheTransfer(file=str(path), directory=str(self.directory), rows=len(keys), unreadable=unreadable)

    def import_parquet(self, path: str | Path) -> CacheTransfer:
        """Add the responses of an exported Parquet file that this folder lacks; keep the ones it has.

        The whole file is checked before anything is written: a missing column, a key that is not a hex sha256, a
        duplicate key or a response that is not a JSON object raises :class:`InputError` naming the file, the row
        (1-based) and the column, and the folder is left untouched.
        """
        path = Path(path)
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as e:
            raise InputError(f"not a readable Parquet file ({e})", file=str(path)) from e
        for column in ("key", "response"):
            if column not in table.column_names:
                raise InputError(f"no column {column!r} (has {table.column_names})", file=str(path), field=column)
        rows: dict[str, dict[str, Any]] = {}
        pairs = zip(table["key"].to_pylist(), table["response"].to_pylist(), strict=True)
        for i, (key, text) in enumerate(pairs, start=1):
            if not isinstance(key, str) or not _is_key(key):
                raise InputError(f"not a cache key (64 hex digits): {key!r}", file=str(path), line=i, field="key")
            if key in rows:
                raise InputError(f"duplicate key {key}", file=str(path), line=i, field="key")
            try:
                response = json.loads(text) if isinstance(text, str) else None
            except json.JSONDecodeError as e:
                raise InputError(f"not JSON ({e})", file=str(path), line=i, field="response") from e
            if not isinstance(response, dict):
                raise InputError("not a JSON object", file=str(path), line=i, field="response")
            rows[key] = response
        added = 0
        for key, response in rows.items():
            if self.get(key) is None:
                self.put(key, response)
                added += 1
        return CacheTransfer(
            file=str(path), directory=str(self.directory), rows=len(rows), added=added, present=len(rows) - added
        )


def _is_key(text: str) -> bool:
    return len(text) == _KEY_LEN and set(text) <= _KEY_CHARS
