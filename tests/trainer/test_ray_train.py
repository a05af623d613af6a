"""Two Ray Train workers on CPU (gloo) give the same losses and weights as one worker with the same global batch."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from o1embed.trainer.launcher import launch_training
from o1embed.trainer.run_files import RunFiles
from tests.trainer.run_config import tiny_config


def test_two_workers_equal_one_worker(tiny_model_dir, toy_data, tmp_path, ray_session):
    one = tiny_config(tiny_model_dir, toy_data, tmp_path / "one", max_steps=4, checkpoint_every=4)
    launch_training(one)
    two = tiny_config(
        tiny_model_dir,
        toy_data,
        tmp_path / "two",
        max_steps=4,
        checkpoint_every=4,
        use_ray=True,
        num_workers=2,
    )
    progress = []
    result = launch_training(two, progress=lambda step, total, rec: progress.append(step))
    assert result.world_size == 2 and progress[-1] == 4

    log1, log2 = RunFiles(tmp_path / "one").read_log(), RunFiles(tmp_path / "two").read_log()
    assert [r["world_size"] for r in log2] == [2] * 4
    for a, b in zip(log1, log2, strict=True):
        for key in ("loss", "contrastive", "lm"):
            assert abs(a[key] - b[key]) <= 1e-4 * max(1.0, abs(a[key])), (a["step"], key, a[key], b[key])
        assert a["thought_tokens"] == b["thought_tokens"]
    w1 = load_file(str(tmp_path / "one" / "model" / "model.safetensors"))
    w2 = load_file(str(tmp_path / "two" / "model" / "model.safetensors"))
    assert max(float((w1[k] - w2[k]).abs().max()) for k in w1) <= 1e-4


def test_first_emb_two_workers_equal_one_worker(tiny_model_dir, toy_data, tmp_path, ray_session):
    """With first_emb, the query-only vectors join the InfoNCE; the distributed ordering must still match."""
    kw = {"max_steps": 2, "checkpoint_every": 2, "model": {"dtype": "float32", "first_emb": True}}
    launch_training(tiny_config(tiny_model_dir, toy_data, tmp_path / "one", **kw))
    launch_training(tiny_config(tiny_model_dir, toy_data, tmp_path / "two", use_ray=True, num_workers=2, **kw))
    log1, log2 = RunFiles(tmp_path / "one").read_log(), RunFiles(tmp_path / "two").read_log()
    for a, b in zip(log1, log2, strict=True):
        assert abs(a["contrastive"] - b["contrastive"]) <= 1e-4 * max(1.0, a["contrastive"])


@pytest.mark.slow
def test_failure_config_restarts_a_killed_worker_and_resumes_exactly(tiny_model_dir, toy_data, tmp_path, ray_session):
    """SIGKILL the Ray Train worker mid-run: FailureConfig restarts it, it resumes from its checkpoint, and the
    final weights equal an uninterrupted run's."""
    kw = {"max_steps": 60, "checkpoint_every": 5}
    launch_training(tiny_config(tiny_model_dir, toy_data, tmp_path / "ref", **kw))
    cfg = tiny_config(tiny_model_dir, toy_data, tmp_path / "ray", use_ray=True, max_failures=1, **kw)
    files = RunFiles(tmp_path / "ray")
    killed: list[int] = []

    def killer() -> None:
        while not killed and not files.result.exists():
            records = files.read_log()
            if records and records[-1]["step"] >= 12:
                os.kill(records[-1]["pid"], signal.SIGKILL)  # the Ray Train worker this test started
                killed.append(records[-1]["step"])
            time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    result = launch_training(cfg)
    thread.join()
    assert killed, "the run finished before the worker could be killed"
    assert result.resumed_from is not None
    assert [r["step"] for r in files.read_log()] == list(range(1, 61))
    w1 = load_file(str(tmp_path / "ref" / "model" / "model.safetensors"))
    w2 = load_file(str(tmp_path / "ray" / "model" / "model.safetensors"))
    assert max(float((w1[k] - w2[k]).abs().max()) for k in w1) <= 1e-5


def test_relative_paths_reach_the_workers(tiny_model_dir, toy_data, tmp_path, ray_session, monkeypatch):
    # Ray Train runs workers in another directory: relative paths from a command line must still work there.
    monkeypatch.chdir(tmp_path)
    for i, src in enumerate(toy_data):
        (tmp_path / f"table{i}.parquet").write_bytes(Path(src).read_bytes())
    cfg = tiny_config(tiny_model_dir, toy_data, Path("run"), max_steps=2, use_ray=True, num_workers=1)
    cfg = cfg.model_copy(
        update={
            "data": cfg.data.model_copy(update={"examples_path": "table0.parquet", "corpus_path": "table1.parquet"})
        }
    )
    result = launch_training(cfg)
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    assert Path(result.model_dir).resolve() == (tmp_path / "run" / "model").resolve()


def test_a_missing_dataset_fails_before_any_worker_starts(tmp_path):
    from o1embed.tasks.errors import ConfigError
    from o1embed.trainer.config import TrainConfig

    cfg = TrainConfig(output_dir=str(tmp_path / "run"), data={"root": str(tmp_path / "nothing"), "dataset": "scifact"})
    with pytest.raises(ConfigError, match="no dataset version of scifact/train"):
        launch_training(cfg)
    assert not (tmp_path / "run").exists()
