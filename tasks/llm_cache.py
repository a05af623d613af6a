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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from o1embed.tasks.atomic import atomic_path, write_json_atomic
from o1embed.tasks.errors import InputError
from o1embed.tasks.hashing import stable_hash
from o1embed.tasks.paths import cache_root

_KEY_CHARS = frozenset("0123456789abcdef")
_KEY_LEN = 64  # hex sha256
_SCHEMA = pa.schema([("key", pa.string()), ("response", pa.string())])


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

    def export_parquet(self, path: str | Path, rows_per_group: int = 50_000) -> CacheTransfer:
        """Write every readable cached response to one Parquet file at ``path`` (atomically), sorted by key.

        Streamed: the key-prefix folders are read in order and written in row groups of ``rows_per_group``, so a
        cache of millions of responses never sits in memory whole.
        """
        rows, unreadable = 0, []
        keys: list[str] = []
        responses: list[str] = []
        with atomic_path(path) as tmp, pq.ParquetWriter(tmp, _SCHEMA, compression="zstd") as writer:
            for folder in sorted(p for p in self.directory.glob("*") if p.is_dir()):
                for entry in sorted(folder.glob("*.json")):
                    try:
                        response = json.loads(entry.read_text())
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        response = None
                    if not isinstance(response, dict) or not _is_key(entry.stem) or entry.stem[:2] != folder.name:
                        unreadable.append(str(entry))  # a lookup misses these too
                        continue
                    keys.append(entry.stem)
                    responses.append(json.dumps(response, sort_keys=True))
                if len(keys) >= rows_per_group:
                    writer.write_table(pa.table({"key": keys, "response": responses}, schema=_SCHEMA))
                    rows, keys, responses = rows + len(keys), [], []
            writer.write_table(pa.table({"key": keys, "response": responses}, schema=_SCHEMA))
            rows += len(keys)
        return CacheTransfer(file=str(path), directory=str(self.directory), rows=rows, unreadable=unreadable)

    def import_parquet(self, path: str | Path) -> CacheTransfer:
        """Add the responses of an exported Parquet file that this folder lacks; keep the ones it has.

        The whole file is checked before anything is written: a missing column, a key that is not a hex sha256, a
        duplicate key or a response that is not a JSON object raises :class:`InputError` naming the file, the row
        (1-based) and the column, and the folder is left untouched. Both passes stream the file in record
        batches; only the set of keys is held whole.
        """
        path = Path(path)
        try:
            file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as e:
            raise InputError(f"not a readable Parquet file ({e})", file=str(path)) from e
        for column in ("key", "response"):
            if column not in file.schema_arrow.names:
                raise InputError(f"no column {column!r} (has {file.schema_arrow.names})", file=str(path), field=column)
        seen: set[str] = set()
        for i, key, text in _rows(file):
            if not isinstance(key, str) or not _is_key(key):
                raise InputError(f"not a cache key (64 hex digits): {key!r}", file=str(path), line=i, field="key")
            if key in seen:
                raise InputError(f"duplicate key {key}", file=str(path), line=i, field="key")
            seen.add(key)
            try:
                response = json.loads(text) if isinstance(text, str) else None
            except json.JSONDecodeError as e:
                raise InputError(f"not JSON ({e})", file=str(path), line=i, field="response") from e
            if not isinstance(response, dict):
                raise InputError("not a JSON object", file=str(path), line=i, field="response")
        added = 0
        for _, key, text in _rows(file):
            if self.get(key) is None:
                self.put(key, json.loads(text))
                added += 1
        return CacheTransfer(
            file=str(path), directory=str(self.directory), rows=len(seen), added=added, present=len(seen) - added
        )


def _rows(file: pq.ParquetFile, batch_size: int = 4096) -> Iterator[tuple[int, Any, Any]]:
    """``(row number from 1, key, response)`` of every row, a record batch at a time."""
    i = 0
    for batch in file.iter_batches(batch_size=batch_size, columns=["key", "response"]):
        for key, text in zip(batch.column("key").to_pylist(), batch.column("response").to_pylist(), strict=True):
            i += 1
            yield i, key, text


def _is_key(text: str) -> bool:
    return len(text) == _KEY_LEN and set(text) <= _KEY_CHARS
