"""The think gate: fitted on per-query gains, saved in the model folder, and used by auto mode with decider="gate"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from o1embed.tasks.errors import ConfigError
from o1embed.trainer.think_gate import THINK_GATE_FILE, GateFitConfig, ThinkGate, fit_think_gate
from tests.trainer.test_encoder import QUERIES
from tests.trainer.test_thinking_modes import cos, encoder, fresh


def _separable(n: int = 100, hidden: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(n, hidden))  # (n, hidden)
    gains = np.where(states[:, 1] > 0.3, 0.2, np.where(states[:, 1] < -0.5, -0.2, 0.0))  # ties count as skip
    return states, gains


def test_a_gate_learns_where_thinking_helps_and_chooses_its_threshold_out_of_fold():
    states, gains = _separable()
    gate = fit_think_gate(states, gains)
    fit = gate.fit
    assert fit["queries"] == 100 and fit["think_examples"] == int((gains > 0).sum())
    assert fit["cv_auc"] > 0.9
    assert 0 < fit["cv_gain"] <= fit["ceiling_gain"] + 1e-12  # a gate never beats the perfect one
    assert fit["cv_gain"] == max(row[1] for row in fit["threshold_curve"])
    assert gate.threshold in [row[0] for row in fit["threshold_curve"]]
    thinks = gate.skip_probability(torch.from_numpy(states)).numpy() < gate.threshold
    assert (thinks == (gains > 0)).mean() > 0.9


def test_a_margin_makes_small_gains_skip_examples():
    states, gains = _separable()
    gains = np.where(gains > 0, np.where(states[:, 0] > 0, 0.2, 0.01), gains)
    plain = fit_think_gate(states, gains, GateFitConfig(cs=3))
    strict = fit_think_gate(states, gains, GateFitConfig(margin=0.05, cs=3))
    assert strict.fit["think_examples"] < plain.fit["think_examples"]


def test_a_gate_with_too_few_examples_of_a_kind_or_wrong_shapes_is_refused():
    states, _ = _separable(20)
    with pytest.raises(ConfigError, match="at least 5 of each"):
        fit_think_gate(states, np.r_[np.full(3, 0.1), np.zeros(17)])
    with pytest.raises(ConfigError, match=r"states \(n, hidden\) and gains \(n,\)"):
        fit_think_gate(states, np.zeros(19))
    with pytest.raises(ConfigError, match="non-finite"):
        fit_think_gate(states, np.r_[np.nan, np.zeros(19)])


def test_a_gate_round_trips_through_the_model_folder_and_a_missing_one_is_named(tmp_path):
    gate = fit_think_gate(*_separable())
    path = gate.save(tmp_path)
    assert path.name == THINK_GATE_FILE
    again = ThinkGate.load(tmp_path)
    x = torch.from_numpy(_separable(seed=1)[0]).float()
    assert torch.allclose(again.skip_probability(x), gate.skip_probability(x))
    with pytest.raises(ConfigError, match="fit-gate"):
        ThinkGate.load(tmp_path / "none")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / THINK_GATE_FILE).write_text("{")
    with pytest.raises(ConfigError, match="invalid think gate"):
        ThinkGate.load(tmp_path / "bad")
    with pytest.raises(ConfigError, match="6-dim"):
        gate.skip_probability(torch.zeros(2, 5))


def _median_gate(states: torch.Tensor, threshold: float = 0.5) -> ThinkGate:
    """A gate that thinks where the first hidden feature is above its median (a sharp sigmoid)."""
    h = states.shape[1]
    mean = [float(states[:, 0].median()), *[0.0] * (h - 1)]
    coef = [50.0, *[0.0] * (h - 1)]
    return ThinkGate(mean=mean, scale=[1.0] * h, coef=coef, intercept=0.0, threshold=threshold)


def test_auto_with_the_gate_skips_where_the_gate_says_and_thinks_elsewhere(tiny_model_dir, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for f in tiny_model_dir.iterdir():  # the same model; its gate in a folder of its own
        (folder / f.name).symlink_to(f)
    enc = encoder(folder, tmp_path, query_batch_size=2)
    with pytest.raises(ConfigError, match=THINK_GATE_FILE):
        enc.encode_queries(QUERIES, think="auto", decider="gate")
    states = enc.decision_states(QUERIES)  # (n, hidden)
    assert states.shape == (len(QUERIES), enc.model.dim)
    gate = _median_gate(states, threshold=0.4)
    gate.save(folder)
    gated = encoder(folder, tmp_path, query_batch_size=2, decider="gate")
    vecs = gated.encode_queries(QUERIES, think="auto")  # the gate's own threshold, 0.4
    assert gated.auto_threshold() == 0.4
    p_skip = gate.skip_probability(states).numpy()
    assert np.allclose([r.p_close for r in gated.records], p_skip, atol=1e-4)
    skipped = p_skip >= 0.4
    assert 0 < skipped.sum() < len(QUERIES)
    assert [not r.thought for r in gated.records] == skipped.tolist()
    always = gated.encode_queries(QUERIES, think="always")
    skip_ref = fresh(gated, [gated.model.builder.skip_example(q).input_ids for q in QUERIES])
    ref = np.where(skipped[:, None], skip_ref, always)
    assert cos(vecs, ref).min() >= 0.999
    gated.encode_queries(QUERIES, think="auto", close_threshold=1.0)  # an explicit threshold wins
    assert all(r.thought for r in gated.records)
    enc.encode_queries(QUERIES, think="auto", close_threshold=0.0)  # the close decider is unchanged
    assert not any(r.thought for r in enc.records) and enc.auto_threshold() == 0.5
    no_gate = encoder(tiny_model_dir, tmp_path, decider="gate")  # only auto mode needs the gate
    assert no_gate.encode_queries(QUERIES[:2], think="always").shape == (2, enc.model.dim)


@pytest.mark.slow
@pytest.mark.real
def test_a_gate_fitted_on_smollm2_states_decides_auto_mode(smollm2_dir, tmp_path):
    """The real model: states at <thought> of 24 queries, a gate fitted on them, auto mode deciding with it."""
    torch.set_num_threads(2)
    folder = tmp_path / "model"
    folder.mkdir()
    for f in smollm2_dir.iterdir():
        (folder / f.name).symlink_to(f)
    topics = ["cells", "rain", "stars", "banks", "birds", "iron", "trees", "fish"]
    queries = [f"{w} {t}" for t in topics for w in ("what are", "why do we study", "define")]
    enc = encoder(folder, tmp_path, query_batch_size=8)
    states = enc.decision_states(queries).numpy()  # (24, 576)
    assert states.shape == (24, enc.model.dim) and np.isfinite(states).all()
    gains = np.array([0.3 if q.startswith("why") else -0.1 for q in queries])  # thinking helps the "why" queries
    gate = fit_think_gate(states, gains, GateFitConfig(folds=4))
    assert gate.fit["cv_auc"] > 0.8  # the prompt's wording is plain in the hidden state
    gate.save(folder)
    enc = encoder(folder, tmp_path, query_batch_size=8, decider="gate")
    enc.encode_queries(queries[:6], think="auto")
    p = gate.skip_probability(torch.from_numpy(states[:6])).numpy()
    assert np.allclose([r.p_close for r in enc.records], p, atol=1e-3)
    clear = np.abs(p - gate.threshold) > 1e-2  # batches pad differently: leave the queries on the edge out
    assert np.array([r.thought for r in enc.records])[clear].tolist() == (p < gate.threshold)[clear].tolist()
