"""Fixtures of the trainer tests: a tiny random Llama, toy retrieval tables, and the real SmolLM2 folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trainer.tiny import build_tiny_model, write_toy_tables


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, 32-dim random Llama with untied LM head and a word-level toy tokenizer."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_tied_model_dir(tmp_path_factory) -> Path:
    """The same with tied input/output embeddings (like SmolLM2)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-tied") / "model", tie=True)


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory) -> tuple[Path, Path]:
    """``(examples.parquet, corpus.parquet)``: 16 queries over 8 topics, 16 documents."""
    return write_toy_tables(tmp_path_factory.mktemp("toy"))


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The real SmolLM2-135M-Instruct as a Hugging Face folder: the repository's prepared copy, else converted now."""
    from o1embed.tasks.paths import REPO_ROOT
    from o1embed.trainer.prepare import is_hf_folder, prepare_gguf_model

    repo_copy = REPO_ROOT / "data" / "models" / "SmolLM2-135M-Instruct"
    if is_hf_folder(repo_copy):
        return repo_copy
    return prepare_gguf_model()


@pytest.fixture(autouse=True)
def _few_threads():
    import torch

    torch.set_num_threads(1)
    yield
