"""The trained-model systems through the real trainer.encoder.O1Encoder, on a tiny random Llama."""

from __future__ import annotations

import pytest

from o1embed.flows.evaluate import load_o1_encoder
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, preset_systems
from o1embed.tasks.evaluation.harness import evaluate_folder
from o1embed.tasks.evaluation.resources import Resources
from tests.tasks.evaluation.toy import write_tiny_vocab_beir
from tests.trainer.tiny import build_tiny_model


def test_o1_systems_with_the_real_encoder_on_a_tiny_model(tmp_path):
    import torch

    torch.set_num_threads(1)
    trained = build_tiny_model(tmp_path / "trained", seed=1)
    backbone = build_tiny_model(tmp_path / "backbone", seed=2)
    folder = write_tiny_vocab_beir(tmp_path)
    short = {"max_new_tokens": 6}  # a random model never stops: keep its thoughts short
    presets = preset_systems()
    systems = [
        presets[n].model_copy(update={"options": short})
        for n in ("backbone", "trained", "trained-think-m1", "trained-think-m3")
    ]
    systems.append(presets["bm25-thought"].model_copy(update={"options": {"encoder": short}}))
    config = EvalConfig(
        model_path=str(trained),
        backbone_path=str(backbone),
        systems=["bm25", *systems],
        cache_dir=str(tmp_path / "vectors"),
        doc_max_tokens=16,
    )
    resources = Resources(config, encoder_loader=load_o1_encoder)
    result = evaluate_folder(folder, config, resources=resources)
    rows = {(r["system"], r["query_id"]): r for r in result.per_query.to_pylist()}
    assert len(rows) == 6 * 8
    m1, m3 = rows[("trained-think-m1", "q-bird")], rows[("trained-think-m3", "q-bird")]
    assert len(m1["thoughts"]) == 1 and len(m3["thoughts"]) == 3
    assert rows[("bm25-thought", "q-bird")]["thoughts"] == m1["thoughts"]  # the m=1 thoughts, reused
    assert rows[("trained", "q-bird")]["thoughts"] is None
    assert all(0.0 <= r["ndcg_at_10"] <= 1.0 for r in rows.values())
    # one O1Encoder per model; the trained one serves m=1 and m=3; the corpus encoded once per model, cached on disk
    assert len(resources._encoders) == 2
    assert len(list((tmp_path / "vectors").glob("*.npy"))) == 2
    enc = next(e for e in resources._encoders.values() if str(e.model_path) == str(trained))
    assert enc.config.max_passage_tokens == 16 and enc.config.max_new_tokens == 6
    # the report states each thinking system's sampling, as it was when its thoughts were written
    details = result.info["system_details"]
    assert (
        details["trained-think-m1"]["sampling"]["m"] == 1 and not details["trained-think-m1"]["sampling"]["do_sample"]
    )
    assert details["trained-think-m3"]["sampling"]["m"] == 3 and details["trained-think-m3"]["sampling"]["do_sample"]
    assert details["bm25-thought"]["sampling"]["m"] == 1
    assert details["trained"] == {"max_passage_tokens": 16}
    assert details["bm25"]["k1"] == 1.5 and details["bm25"]["stemmer"] == "english"
    assert details["bm25-thought"]["retriever"] == details["bm25"]


def test_bad_encoder_options_are_a_config_error(tmp_path):
    trained = build_tiny_model(tmp_path / "trained")
    config = EvalConfig(
        model_path=str(trained),
        systems=[SystemSpec(name="x", kind="encoder", model="trained", options={"no_such_option": 1})],
    )
    with pytest.raises(ConfigError, match="bad encoder options"):
        evaluate_folder(
            write_tiny_vocab_beir(tmp_path),
            config,
            resources=Resources(config, encoder_loader=load_o1_encoder),
        )
    with pytest.raises(ConfigError, match="no encoder loader"):  # tasks alone cannot load the O1 encoder
        evaluate_folder(write_tiny_vocab_beir(tmp_path), config)
