"""Fixtures for the tasks tests: a tiny random dense model built once per session (retrievers, committee)."""

from __future__ import annotations

import pytest

from o1embed.tasks.testing.tiny_models import build_tiny_dense_model


@pytest.fixture(scope="session")
def tiny_dense_model(tmp_path_factory) -> str:
    return build_tiny_dense_model(tmp_path_factory.mktemp("tiny-dense"))
