"""Atomic file writes: write to a hidden temporary name in the same folder, fsync, then rename.

Readers (Polars, pyarrow datasets) therefore never see a partial file: temporary names start with ``.`` and do
not end in ``.parquet``, so globs such as ``**/*.parquet`` skip them. Every writer goes through
:func:`atomic_path`; the others are conveniences over it.

Example:
    >>> with open_atomic("/tmp/o1embed-doc/lines.txt") as f:            # doctest: +SKIP
    ...     f.write("one line\\n")
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "atomic_path",
    "open_atomic",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_parquet_atomic",
]


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error it becomes ``path``.

    The temporary file is fsynced, renamed over ``path`` and the folder fsynced; on an error it is removed and
    ``path`` is untouched. Parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync(path.parent)


@contextmanager
def open_atomic(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a file for writing that appears at ``path`` whole, or not at all (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, mode, encoding=None if "b" in mode else encoding) as f:
        yield f


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; create parent folders.

    Returns:
        The final path.
    """
    with open_atomic(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically."""
    return write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def write_parquet_atomic(path: str | Path, table: pa.Table, compression: str = "zstd") -> Path:
    """Write ``table`` as one zstd Parquet file at ``path`` atomically."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=compression)
    return Path(path)
