"""The examples in the library's docstrings run, so the manual cannot drift from the code.

Each module of ``o1embed.flows``, ``o1embed.tasks`` and ``o1embed.trainer`` that holds a ``>>>`` example is run
with :mod:`doctest` under its installed name. An example that needs a model or a server says
``# doctest: +SKIP``.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _modules_with_examples() -> list[str]:
    names = []
    for folder in ("flows", "tasks", "trainer"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if ">>>" not in path.read_text(encoding="utf-8") or path.name == "__main__.py":
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(("o1embed", *(parts[:-1] if parts[-1] == "__init__" else parts))))
    return names


@pytest.mark.parametrize("module", _modules_with_examples())
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {module} failed"
