"""Backbone resolution: a given folder is checked, an unset one is the default backbone, prepared on first use."""

from __future__ import annotations

import pytest

from o1embed.tasks.errors import ConfigError
from o1embed.trainer import prepare


def test_a_folder_without_a_model_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match=r"holds no Hugging Face model .*o1embed model prepare"):
        prepare.resolve_backbone(tmp_path)


def test_an_unset_model_is_the_default_backbone_prepared_on_first_use(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(prepare, "prepare_gguf_model", lambda: calls.append(1) or tmp_path)
    assert prepare.resolve_backbone(None) == tmp_path and calls == [1]
