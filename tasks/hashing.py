"""Content hashes, one function per thing hashed: a JSON-able object, a file, a model folder, a corpus.

Every version id, fingerprint and cache key of o1embed is built from these, so two places that mean "the same
content" always agree on its hash.

Example:
    >>> stable_hash({"b": 1, "a": [1, 2]}) == stable_hash({"a": [1, 2], "b": 1})
    True
    >>> len(stable_hash({"a": 1}, length=12))
    12
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from o1embed.tasks.errors import ConfigError

MODEL_FILES = (
    "*.safetensors",
    "*.bin",
    "tokenizer.json",
    "tokenizer_config.json",
    "o1_config.json",
    "config.json",
)
"""The files of an o1embed model folder whose bytes decide its thoughts and vectors: weights, tokenizer, configs.

Not ``think_gate.json`` (the learned gate chooses whether a query thinks; a refit changes no thought and no
vector), nor the model card or README. The thought cache and the evaluation's document-vector cache key on these,
so fitting a gate into a model folder keeps both caches.
"""


def stable_hash(obj: Any, length: int | None = None) -> str:
    """Return the hex sha256 of ``obj`` as key-sorted JSON (non-JSON values by ``str``), cut to ``length``.

    The bytes hashed are ``json.dumps(obj, sort_keys=True, default=str)``: the form every earlier version id and
    fingerprint used, so those stay valid.
    """
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:length] if length else digest


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def model_folder_hash(
    path: str | Path,
    patterns: Iterable[str] | None = None,
    file_digest: Callable[[Path], str] = sha256_file,
) -> str:
    """Return a sha256 over a model folder: its files' relative names and contents (or one file's bytes).

    Files hidden *inside* the folder (a part below it starting with ``.``) are skipped, so a model that itself
    lives under ``.venv`` still counts.

    Args:
        path: the model folder (or a single model file such as a GGUF).
        patterns: only files matching these globs (relative to the folder); None: every file.
        file_digest: the hash of one file (a caller may memoise it, e.g. by path, size and mtime).

    Raises:
        ConfigError: the folder holds no (matching) files.
    """
    path = Path(path)
    if path.is_file():
        return file_digest(path)
    found = path.rglob("*") if patterns is None else (p for g in patterns for p in path.glob(g))
    files = sorted({p for p in found if p.is_file() and not any(x.startswith(".") for x in p.relative_to(path).parts)})
    if not files:
        raise ConfigError(f"model folder {path} holds no files")
    return stable_hash([(p.relative_to(path).as_posix(), file_digest(p)) for p in files])


def corpus_hash(doc_ids: Sequence[str], texts: Sequence[str], extra: str = "") -> str:
    """Return a sha256 over the document ids and texts, in order (and ``extra``, e.g. truncation settings)."""
    h = hashlib.sha256(extra.encode())
    for d, t in zip(doc_ids, texts, strict=True):
        h.update(d.encode())
        h.update(b"\x00")
        h.update(t.encode())
        h.update(b"\x01")
    return h.hexdigest()
