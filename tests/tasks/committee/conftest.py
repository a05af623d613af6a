"""Fixtures for committee tests: a toy dataset version and BM25-only committee configurations."""

from __future__ import annotations

import pytest

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.retrievers.spec import RetrieverSpec
from tests.tasks.committee.toy import build_toy_version


@pytest.fixture
def toy_dv(tmp_path):
    return build_toy_version(tmp_path / "out")


@pytest.fixture
def bm25_config() -> CommitteeConfig:
    """Two BM25 members that differ in parameters (fast; no model to load)."""
    return CommitteeConfig(
        members=[
            RetrieverSpec(kind="bm25s"),
            RetrieverSpec(kind="bm25s", name="bm25-plain", k1=1.2, b=0.5, stemmer=None),
        ],
        use_ray=False,
        negatives_count=5,
        negatives_skip=1,
        negatives_depth=30,
    )
