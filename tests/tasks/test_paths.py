"""Storage is local POSIX: a URI fails once, at the start of a stage, with one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from o1embed.tasks.committee.export import export_flagembedding
from o1embed.tasks.committee.stage import run_committee
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.paths import local_path
from o1embed.tasks.shards import DatasetVersion, only_version
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.launcher import launch_training


def test_local_paths_pass_and_file_uris_unwrap():
    assert local_path("x", "/data/runs") == "/data/runs" and local_path("x", "runs/a") == "runs/a"
    assert local_path("x", "file:///data/my%20runs") == "/data/my runs"
    assert local_path("x", None) is None


@pytest.mark.parametrize("uri", ["s3://bucket/runs", "gs://b/x", "hdfs://nn:8020/x", Path("s3://bucket/runs")])
def test_a_uri_is_refused_by_name(uri):
    with pytest.raises(ConfigError, match="URIs are not supported.*docs/scaling.md"):
        local_path("output_dir", uri)


def test_every_stage_refuses_a_uri_first(tmp_path):
    dv = DatasetVersion(Path("s3://bucket/runs"), "d", "train", "v")
    with pytest.raises(ConfigError, match="output_root=.*URIs are not supported"):
        run_committee(dv)
    with pytest.raises(ConfigError, match="URIs are not supported"):
        only_version("gs://bucket/runs", None, None, None)
    with pytest.raises(ConfigError, match="out=.*URIs are not supported"):
        export_flagembedding(DatasetVersion(tmp_path, "d", "train", "v"), "s3://bucket/train.jsonl")
    cfg = TrainConfig(output_dir="s3://bucket/run", data={"root": str(tmp_path), "dataset": "d"}, use_ray=False)
    with pytest.raises(ConfigError, match="output_dir=.*URIs are not supported"):
        launch_training(cfg)
    assert not (Path.cwd() / "s3:").exists()


def test_outside_a_checkout_the_data_root_is_the_current_folder(tmp_path, monkeypatch):
    from o1embed.tasks import paths

    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "site-packages" / "o1embed")
    monkeypatch.delenv("O1EMBED_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert not paths.in_checkout()
    assert paths.data_root() == (tmp_path / "data").resolve()
    with pytest.raises(ConfigError, match="source checkout"):
        paths.bundled_dataset("scifact")
    monkeypatch.setenv("O1EMBED_DATA", str(tmp_path / "elsewhere"))
    assert paths.data_root() == (tmp_path / "elsewhere").resolve()  # the variable still comes first


def test_in_a_checkout_the_data_root_is_its_data_folder(monkeypatch):
    from o1embed.tasks import paths

    monkeypatch.delenv("O1EMBED_DATA", raising=False)
    assert paths.in_checkout() and paths.data_root() == (paths.REPO_ROOT / "data").resolve()
    assert paths.bundled_dataset("scifact").name == "scifact"
