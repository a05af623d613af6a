"""The training loop: loss falls, outputs, exact resume in-process and after SIGKILL (resumed under Ray Train)."""

from __future__ import annotations

import contextlib
import json
import math
import signal
import subprocess
import sys

import pytest
from safetensors.torch import load_file

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.paths import REPO_ROOT
from o1embed.trainer.checkpoint import copy_final_weights, copy_weights, latest_checkpoint
from o1embed.trainer.launcher import launch_training
from o1embed.trainer.run_files import RunFiles
from tests.trainer.run_config import tiny_config


def max_weight_diff(a, b) -> float:
    wa, wb = (
        load_file(str(a / "model" / "model.safetensors")),
        load_file(str(b / "model" / "model.safetensors")),
    )
    assert wa.keys() == wb.keys()
    return max(float((wa[k] - wb[k]).abs().max()) for k in wa)


def test_loss_falls_on_a_toy_set_and_outputs_are_written(tiny_model_dir, toy_data, tmp_path):
    cfg = tiny_config(tiny_model_dir, toy_data, tmp_path / "run", max_steps=24, checkpoint_every=8)
    seen = []
    result = launch_training(cfg, progress=lambda step, total, rec: seen.append((step, total)))
    files = RunFiles(tmp_path / "run")
    log = files.read_log()
    assert [r["step"] for r in log] == list(range(1, 25)) and seen[-1] == (24, 24)
    first = sum(r["loss"] for r in log[:4]) / 4
    last = sum(r["loss"] for r in log[-4:]) / 4
    assert last < 0.7 * first, (first, last)
    assert all(math.isfinite(r[k]) for r in log for k in ("loss", "contrastive", "lm", "lr", "tokens_per_s"))
    assert files.plot.stat().st_size > 1000 and (files.model / "o1_config.json").exists()
    assert json.loads((files.model / "o1_config.json").read_text())["dtype"] == "float32"
    assert result.model_dir == str(files.model)
    assert latest_checkpoint(files.checkpoints).name == "step-0000024"


def test_lora_run_with_gradient_checkpointing(tiny_model_dir, toy_data, tmp_path):
    cfg = tiny_config(
        tiny_model_dir,
        toy_data,
        tmp_path / "run",
        max_steps=3,
        finetune="lora",
        lora_r=4,
        lora_alpha=8,
        gradient_checkpointing=True,
        thought_dropout=1.0,
    )
    launch_training(cfg)  # thought_dropout=1: no thought token anywhere; still finite
    assert all(r["lm"] == 0.0 and math.isfinite(r["loss"]) for r in RunFiles(tmp_path / "run").read_log())


def test_resume_in_process_is_exact(tiny_model_dir, toy_data, tmp_path):
    launch_training(tiny_config(tiny_model_dir, toy_data, tmp_path / "ref", max_steps=6))
    # the same run in two calls: stopped after step 4 (checkpoint at 3), then resumed by a new launch
    half = tiny_config(tiny_model_dir, toy_data, tmp_path / "two", max_steps=6, checkpoint_every=3)
    from o1embed.trainer.loop import train_worker

    class Stop(Exception):
        pass

    def stop_at_4(step, rec):
        if step == 4:
            raise Stop

    with contextlib.suppress(Stop):
        train_worker(half, on_step=stop_at_4)
    result = launch_training(half)
    assert result.resumed_from.endswith("step-0000003")
    assert max_weight_diff(tmp_path / "ref", tmp_path / "two") <= 1e-5
    assert [r["step"] for r in RunFiles(tmp_path / "two").read_log()] == [1, 2, 3, 4, 5, 6]


def test_a_finished_runs_weights_alone_rebuild_its_model(tiny_model_dir, toy_data, tmp_path):
    """The last checkpoint without optimiser state (copy_weights) gives the same final model in a fresh folder;
    an earlier one is refused."""
    cfg = tiny_config(tiny_model_dir, toy_data, tmp_path / "ref", max_steps=6, checkpoint_every=3, keep_checkpoints=2)
    launch_training(cfg)
    ref = RunFiles(tmp_path / "ref")
    kept = copy_final_weights(ref.root, tmp_path / "light")  # run -> a folder to keep
    assert kept == tmp_path / "light" / "checkpoints" / "step-0000006"
    assert sorted(p.name for p in kept.iterdir()) == ["state.json", "trainable.safetensors"]
    assert RunFiles(tmp_path / "light").read_log() == ref.read_log()

    again = cfg.model_copy(update={"output_dir": str(tmp_path / "again")})
    copy_final_weights(tmp_path / "light", tmp_path / "again")  # the kept folder -> a fresh run
    result = launch_training(again)
    assert result.resumed_from.endswith("step-0000006")
    assert max_weight_diff(tmp_path / "ref", tmp_path / "again") == 0.0
    assert [r["step"] for r in RunFiles(tmp_path / "again").read_log()] == list(range(1, 7))
    copy_weights(kept, RunFiles(tmp_path / "later").checkpoints / "step-0000009")
    with pytest.raises(ConfigError, match="newer"):  # a resume there would take step 9, not the copy
        copy_final_weights(tmp_path / "light", tmp_path / "later")

    early = cfg.model_copy(update={"output_dir": str(tmp_path / "early")})
    copy_weights(ref.checkpoints / "step-0000003", RunFiles(tmp_path / "early").checkpoints / "step-0000003")
    with pytest.raises(ConfigError, match="weights only"):
        launch_training(early)


KILL_SCRIPT = """
import os, signal, sys, torch
torch.set_num_threads(1)
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.loop import train_worker
cfg = TrainConfig.model_validate_json(open(sys.argv[1]).read())
def kill_at_5(step, record):
    if step == 5:
        os.kill(os.getpid(), signal.SIGKILL)
train_worker(cfg, on_step=kill_at_5)
"""


def test_sigkill_then_resume_under_ray_gives_the_same_weights(tiny_model_dir, toy_data, tmp_path, ray_session):
    ref = tiny_config(tiny_model_dir, toy_data, tmp_path / "ref")
    launch_training(ref)

    killed = tiny_config(tiny_model_dir, toy_data, tmp_path / "killed")
    cfg_file = tmp_path / "killed.json"
    cfg_file.write_text(killed.model_dump_json())
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(cfg_file)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    files = RunFiles(tmp_path / "killed")
    assert latest_checkpoint(files.checkpoints).name == "step-0000003"
    assert [r["step"] for r in files.read_log()] == [1, 2, 3, 4, 5]
    assert not files.model.exists()

    result = launch_training(killed.model_copy(update={"use_ray": True, "num_workers": 1}))  # Ray Train resumes
    assert result.resumed_from.endswith("step-0000003")
    assert [r["step"] for r in files.read_log()] == list(range(1, 9))  # replayed steps logged once
    assert max_weight_diff(tmp_path / "ref", tmp_path / "killed") <= 1e-5
