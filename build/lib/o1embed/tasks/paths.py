"""Where o1embed reads bundled data and writes what runs produce.

Everything a run writes (shards, caches, models, checkpoints, Ray and Prefect scratch) lands under one *data root*,
so a checkout stays self-contained and ``git status`` stays clean.

Example:
    >>> from o1embed.tasks.paths import data_root, bundled_dataset
    >>> bundled_dataset("scifact").name
    'scifact'
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """Return the data root: ``$O1EMBED_DATA`` when set, else the repository's ``data/`` folder."""
    return Path(os.environ.get("O1EMBED_DATA", REPO_ROOT / "data")).resolve()


def beir_root() -> Path:
    """Return the folder of bundled BEIR-layout benchmark sets (``data/beir``)."""
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
        raise FileNotFoundError(
            f"no bundled dataset {name!r} under {beir_root()}; bundled: {', '.join(have)}"
        )
    return path


def runs_root() -> Path:
    """Default parent folder for synthesized datasets, models and reports."""
    return data_root() / "runs"


def cache_root() -> Path:
    """Default parent folder for caches (LLM responses, corpus embeddings, thoughts)."""
    return data_root() / "cache"
