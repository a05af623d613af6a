"""Content hashes: the model-folder hash every cache key of a model is built from."""

from __future__ import annotations

import pytest

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.hashing import model_folder_hash


def test_model_folder_hash_sees_files_under_hidden_parents(tmp_path):
    a, b = tmp_path / ".venv" / "a", tmp_path / ".venv" / "b"
    for folder, text in ((a, "1"), (b, "2")):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(text)
        (folder / ".lock").write_text("ignored")
    before = model_folder_hash(a)
    assert before != model_folder_hash(b)
    (a / ".lock").write_text("changed")  # hidden files inside the folder do not count
    assert model_folder_hash(a) == before
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no files"):
        model_folder_hash(tmp_path / "empty")
