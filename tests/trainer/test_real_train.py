"""The real backbone: two cpu-small steps of SmolLM2-135M (LoRA) on toy data, then the trained folder encodes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from o1embed.trainer.config import TrainConfig
from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.launcher import launch_training
from o1embed.trainer.run_files import RunFiles


@pytest.mark.slow
@pytest.mark.real
def test_cpu_small_preset_trains_smollm2(smollm2_dir, toy_data, tmp_path):
    cfg = TrainConfig.from_preset(
        "cpu-small",
        model_path=str(smollm2_dir),
        data={"examples_path": str(toy_data[0]), "corpus_path": str(toy_data[1])},
        output_dir=str(tmp_path / "run"),
        max_steps=2,
        use_ray=False,
    )
    result = launch_training(cfg)
    log = RunFiles(tmp_path / "run").read_log()
    assert len(log) == 2 and all(math.isfinite(r["loss"]) and r["lm"] > 0 for r in log)
    model_dir = tmp_path / "run" / "model"
    o1 = json.loads((model_dir / "o1_config.json").read_text())
    assert o1["max_passage_tokens"] == 128 and o1["dtype"] == "float32"
    enc = O1Encoder(model_dir, EncoderConfig(max_new_tokens=4, cache_dir=str(tmp_path / "cache")))
    q = enc.encode_queries(["what is a cell"], think=False)
    d = enc.encode_documents(["cell"], ["cells divide"])
    assert q.shape == d.shape == (1, 576) and np.isclose(np.linalg.norm(q), 1.0, atol=1e-5)
    assert result.step == 2
