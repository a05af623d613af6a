"""Where o1embed reads bundled data and writes what runs produce.

Everything a run writes (shards, caches, models, checkpoints, Ray and Prefect scratch) lands under one *data
root*, so a checkout stays self-contained and ``git status`` stays clean. The data root is ``$O1EMBED_DATA`` when
set, else the checkout's ``data/`` folder, else (an installed wheel, whose code sits in site-packages) ``./data``
of the current directory. The bundled BEIR sets ship with a source checkout only.

Example:
    >>> from o1embed.tasks.paths import data_root, bundled_dataset
    >>> bundled_dataset("scifact").name
    'scifact'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from o1embed.tasks.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


def in_checkout() -> bool:
    """True when this code runs from a source checkout (not from an installed wheel)."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "tasks" / "paths.py").is_file()


def data_root() -> Path:
    """Return the data root: ``$O1EMBED_DATA``, else the checkout's ``data/``, else ``./data`` (installed)."""
    if "O1EMBED_DATA" in os.environ:
        return Path(os.environ["O1EMBED_DATA"]).resolve()
    return ((REPO_ROOT if in_checkout() else Path.cwd()) / "data").resolve()


def beir_root() -> Path:
    """Return the folder of bundled BEIR-layout benchmark sets (``data/beir`` of the checkout).

    Raises:
        ConfigError: not running from a source checkout (an installed wheel bundles no datasets).
    """
    if not in_checkout():
        raise ConfigError(
            "the bundled BEIR datasets ship with a source checkout of o1embed only, not with the installed "
            "package; pass the path of a BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/) instead"
        )
    return REPO_ROOT / "data" / "beir"


def bundled_dataset(name: str) -> Path:
    """Return the folder of a bundled BEIR-layout set.

    Args:
        name: folder name under ``data/beir`` (``scifact``, ``birco_arguana``, ...).

    Raises:
        FileNotFoundError: when no such bundled set exists; the message lists the ones that do.
    """
    path = beir_root() / name
    if not (path / "corpus.jsonl").exists():
        have = sorted(p.name for p in beir_root().iterdir() if (p / "corpus.jsonl").exists())
        raise FileNotFoundError(f"no bundled dataset {name!r} under {beir_root()}; bundled: {', '.join(have)}")
    return path


# "s3://bucket", "gs://b", "hdfs://..." (also after Path() folded "//" into "/"); one letter would be a drive.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


def local_path(what: str, path: str | Path | None) -> str | None:
    """Return ``path`` as a local path string (``file://`` URIs unwrapped); None stays None.

    Storage is local POSIX only (pathlib, an ``fcntl`` lock): a stage calls this on every output and data path
    it takes, first thing, so an object-store URI fails once, here, with one clear message.

    Raises:
        ConfigError: ``path`` is a URI with a scheme other than ``file``.
    """
    if path is None:
        return None
    text = str(path)
    if text.startswith("file:"):
        return unquote(urlsplit(text).path)
    if _URI.match(text):
        raise ConfigError(
            f"{what}={text!r}: URIs are not supported for o1embed's data; storage is a local or mounted POSIX "
            "folder (see docs/scaling.md). Mount the bucket (e.g. s3fs, gcsfuse) or copy the data, and pass "
            "the path"
        )
    return text


def runs_root() -> Path:
    """Default parent folder for synthesized datasets, models and reports."""
    return data_root() / "runs"


def cache_root() -> Path:
    """Default parent folder for caches (LLM responses, corpus embeddings, thoughts)."""
    return data_root() / "cache"
