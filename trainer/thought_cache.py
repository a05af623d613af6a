"""On-disk cache of generated thoughts, keyed by (model checksum, query text, sampling parameters).

Evaluation reruns then reuse the exact thoughts of the first run instead of regenerating them (slow, and different
when sampled). One SQLite file holds every entry; each write is its own transaction, so a killed run keeps what it
finished and concurrent readers see whole rows only.

The model checksum is the sha256 of the weight files, tokenizer and ``o1_config.json``; it is memoised by
(path, size, mtime) in the same database so that a 15 GB model is hashed once.

Example:
    >>> cache = ThoughtCache(Path("/tmp/thoughts.sqlite"))                         # doctest: +SKIP
    >>> key = cache.key("abc", "what is a cell?", {"m": 1, "do_sample": False})     # doctest: +SKIP
    >>> cache.put(key, "what is a cell?", [[12, 7, 9]], ["a cell is"])              # doctest: +SKIP
    >>> cache.get(key)                                                              # doctest: +SKIP
    ([[12, 7, 9]], ['a cell is'])
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from o1embed.tasks.hashing import MODEL_FILES, model_folder_hash, sha256_file, stable_hash

_SCHEMA = """
CREATE TABLE IF NOT EXISTS thoughts (key TEXT PRIMARY KEY, query TEXT, ids TEXT, texts TEXT, created REAL);
CREATE TABLE IF NOT EXISTS checksums (path TEXT PRIMARY KEY, size INTEGER, mtime REAL, sha256 TEXT);
"""


class ThoughtCache:
    """A SQLite-backed map from cache key to the thoughts (token ids and text) of one query.

    Args:
        path: the database file (created with its folder).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @staticmethod
    def key(model_checksum: str, query: str, params: dict) -> str:
        """The cache key of one query under one model and one set of sampling parameters."""
        return stable_hash({"model": model_checksum, "query": query, "params": params})

    def get_many(self, keys: list[str]) -> dict[str, tuple[list[list[int]], list[str]]]:
        """Entries found for ``keys``: ``{key: (token ids per thought, text per thought)}``."""
        out: dict[str, tuple[list[list[int]], list[str]]] = {}
        with closing(self._connect()) as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for k, ids, texts in db.execute(f"SELECT key, ids, texts FROM thoughts WHERE key IN ({marks})", chunk):
                    out[k] = (json.loads(ids), json.loads(texts))
        return out

    def get(self, key: str) -> tuple[list[list[int]], list[str]] | None:
        return self.get_many([key]).get(key)

    def put_many(self, rows: list[tuple[str, str, list[list[int]], list[str]]]) -> None:
        """Store ``(key, query, ids, texts)`` rows in one transaction."""
        now = time.time()
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT OR REPLACE INTO thoughts VALUES (?, ?, ?, ?, ?)",
                [(k, q, json.dumps(ids), json.dumps(texts), now) for k, q, ids, texts in rows],
            )

    def put(self, key: str, query: str, ids: list[list[int]], texts: list[str]) -> None:
        self.put_many([(key, query, ids, texts)])

    def model_checksum(self, folder: Path) -> str:
        """sha256 over the model folder's weight, tokenizer and config files (memoised by path, size, mtime)."""
        with closing(self._connect()) as db, db:

            def memoised(f: Path) -> str:
                st = f.stat()
                row = db.execute("SELECT size, mtime, sha256 FROM checksums WHERE path = ?", (str(f),)).fetchone()
                if row and row[0] == st.st_size and row[1] == st.st_mtime:
                    return row[2]
                digest = sha256_file(f)
                db.execute(
                    "INSERT OR REPLACE INTO checksums VALUES (?, ?, ?, ?)",
                    (str(f), st.st_size, st.st_mtime, digest),
                )
                return digest

            return model_folder_hash(Path(folder).resolve(), MODEL_FILES, memoised)
