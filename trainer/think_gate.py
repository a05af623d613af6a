"""ThinkGate: a learned decision of when to think, read off the model's hidden state at ``<thought>``.

``think="auto"`` skips a query's thought when the model's probability of closing it at once (``p_close``, the LM
head at the end of ``<query>q</query><thought>``) is high. At 135M parameters and a few hundred training steps that
probability does not separate the queries whose thought helps from the others (``docs/results/decision-809``:
held-out AUC 0.51). The gate asks a smaller question of the same hidden state: will *this model's* thought vector
retrieve better than its skip vector? It is a logistic regression on the last hidden state of the generation
prompt ``(hidden,)``, the state ``p_close`` is read from, so deciding costs no extra pass. It is fitted on the
model's own per-query gains, measured on training queries it never trained on (a run's ``holdout.parquet``):

    gain = metric(thought vector) - metric(skip vector)          # one per held-out query, e.g. nDCG@10

A query whose gain is above ``margin`` is a *think* example, any other (ties included: thinking costs) a *skip*
example. The threshold on the gate's skip probability is chosen on cross-validated probabilities (each query
scored by a gate that did not see it), as the one that gains most over skipping everywhere, thinking least on a
tie; the final gate is then fitted on every query. :attr:`ThinkGate.fit` keeps what the fit measured, so a user
can see how much the gate is worth before using it.

The gate lives in the model folder as ``think_gate.json`` (it is not a weight file: the thought cache and the
document-vector cache keep their keys when it is refitted). :class:`~o1embed.trainer.encoder.O1Encoder` uses it
with ``decider="gate"``; ``o1embed model fit-gate`` fits it from a held-out report.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> states = rng.normal(size=(120, 8)).astype(np.float32)             # (n, hidden)
    >>> gains = np.where(states[:, 0] > 0.5, 0.3, -0.1)                  # thinking helps where feature 0 is high
    >>> gate = fit_think_gate(states, gains)
    >>> gate.fit["cv_auc"] > 0.9
    True
    >>> skip = gate.skip_probability(torch.from_numpy(states))          # (n,)
    >>> float(((skip.numpy() < gate.threshold) == (gains > 0)).mean()) > 0.9     # thinks where it helps
    True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from o1embed.tasks.errors import ConfigError

THINK_GATE_FILE = "think_gate.json"


class GateFitConfig(BaseModel):
    """How :func:`fit_think_gate` fits a gate."""

    model_config = ConfigDict(extra="forbid")

    margin: float = Field(0.0, ge=0, description="A query is a think example only if its gain is above this.")
    folds: int = Field(5, ge=2, description="Cross-validation folds (the regularisation and the threshold).")
    cs: int = Field(8, ge=1, description="Inverse regularisation strengths tried (log-spaced from 1e-4 to 1e4).")
    seed: int = Field(0, description="Seed of the folds.")
    thresholds: list[float] = Field(
        default_factory=lambda: [round(t, 2) for t in np.linspace(0.0, 1.0, 51)],
        description="Skip-probability thresholds the choice is made from (0: never think; 1: nearly always).",
    )


class ThinkGate(BaseModel):
    """A fitted gate: ``P(skip | h) = 1 - sigmoid(((h - mean) / scale) . coef + intercept)``.

    A query skips its thought when ``skip_probability >= threshold`` (the encoder's ``close_threshold`` may
    override the stored one, so the same cost-quality sweep applies as with ``p_close``).
    """

    model_config = ConfigDict(extra="forbid")

    mean: list[float] = Field(description="Per-feature mean of the fitted hidden states (hidden,).")
    scale: list[float] = Field(description="Per-feature standard deviation (hidden,); 1 where it was 0.")
    coef: list[float] = Field(description="Logistic regression weights on the standardised state (hidden,).")
    intercept: float = Field(description="Logistic regression bias.")
    threshold: float = Field(ge=0, le=1, description="Skip when the skip probability is at least this.")
    fit: dict[str, Any] = Field(default_factory=dict, description="What the fit measured (see fit_think_gate).")

    def skip_probability(self, states: torch.Tensor) -> torch.Tensor:
        """``(n,)`` probabilities that thinking does not help, for hidden states ``(n, hidden)``."""
        if states.shape[-1] != len(self.coef):
            raise ConfigError(f"the gate was fitted on {len(self.coef)}-dim states, got {states.shape[-1]}-dim")
        h = states.float().cpu()
        z = (h - torch.tensor(self.mean)) / torch.tensor(self.scale)  # (n, hidden)
        return 1.0 - torch.sigmoid(z @ torch.tensor(self.coef) + self.intercept)  # (n,)

    def save(self, folder: str | Path) -> Path:
        """Write ``think_gate.json`` into the model folder atomically."""
        from o1embed.tasks.atomic import write_json_atomic

        return write_json_atomic(Path(folder) / THINK_GATE_FILE, self.model_dump(mode="json"))

    @classmethod
    def load(cls, folder: str | Path) -> ThinkGate:
        """Read ``think_gate.json`` from a model folder.

        Raises:
            ConfigError: the folder has no gate (fit one with ``o1embed model fit-gate``), or the file is invalid.
        """
        path = Path(folder) / THINK_GATE_FILE
        if not path.exists():
            raise ConfigError(f"{path}: no think gate in the model folder; fit one with `o1embed model fit-gate`")
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except Exception as exc:  # pydantic or JSON error: name the file
            raise ConfigError(f"{path}: invalid think gate: {exc}") from exc


def fit_think_gate(states: np.ndarray, gains: np.ndarray, config: GateFitConfig | None = None) -> ThinkGate:
    """Fit a gate on hidden states ``(n, hidden)`` and per-query gains ``(n,)`` of thinking over skipping.

    The regularisation strength is chosen by cross-validated ROC AUC (sklearn ``LogisticRegression`` in a
    ``GridSearchCV`` over ``C``, on standardised states); the threshold on cross-validated skip probabilities
    (see the module docstring).

    Returns:
        The gate; its ``fit`` holds ``queries``, ``think_examples`` (gain above the margin), ``margin``,
        ``cv_auc`` (of the cross-validated think probability against the label; 0.5 is chance),
        ``cv_gain`` (mean gain over skipping everywhere when the cross-validated gate decides, at the chosen
        threshold; a held-out estimate of what the gate adds), ``cv_think_share`` (share of queries that think
        there), ``ceiling_gain`` (a perfect gate's: the mean of the positive gains) and ``threshold_curve``
        (``[threshold, cv_gain, think_share]`` for every threshold tried).

    Raises:
        ConfigError: shapes disagree, or there are too few examples of either kind for the folds.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cfg = config or GateFitConfig()
    x = np.asarray(states, dtype=np.float64)  # (n, hidden)
    g = np.asarray(gains, dtype=np.float64)  # (n,)
    if x.ndim != 2 or g.shape != (x.shape[0],):
        raise ConfigError(f"need states (n, hidden) and gains (n,), got {x.shape} and {g.shape}")
    if not np.isfinite(g).all():
        raise ConfigError(f"gains hold {int((~np.isfinite(g)).sum())} non-finite values")
    think = g > cfg.margin  # (n,)
    n_think = int(think.sum())
    if min(n_think, len(g) - n_think) < cfg.folds:
        raise ConfigError(
            f"{n_think} think and {len(g) - n_think} skip examples: need at least {cfg.folds} of each for "
            f"{cfg.folds}-fold cross-validation (more held-out queries, or a smaller margin)"
        )

    def pipeline():
        inner = StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.seed)
        grid = {"C": np.logspace(-4, 4, cfg.cs).tolist()}
        lr = GridSearchCV(LogisticRegression(max_iter=5000), grid, cv=inner, scoring="roc_auc")
        return make_pipeline(StandardScaler(), lr)

    outer = StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.seed + 1)
    p_think_cv = cross_val_predict(pipeline(), x, think, cv=outer, method="predict_proba")[:, 1]  # (n,)
    curve = []
    for t in sorted(set(cfg.thresholds)):
        thinks = (1.0 - p_think_cv) < t  # skip where P(skip) >= t
        curve.append([float(t), float(np.where(thinks, g, 0.0).mean()), float(thinks.mean())])
    best = max(curve, key=lambda row: (row[1], -row[2]))  # most gain; on a tie, least thinking

    model = pipeline().fit(x, think)
    scaler, lr = model[0], model[1].best_estimator_
    return ThinkGate(
        mean=scaler.mean_.tolist(),
        scale=scaler.scale_.tolist(),  # sklearn keeps 1 for a constant feature
        coef=lr.coef_[0].tolist(),
        intercept=float(lr.intercept_[0]),
        threshold=best[0],
        fit={
            "queries": len(g),
            "think_examples": n_think,
            "margin": cfg.margin,
            "cv_auc": float(roc_auc_score(think, p_think_cv)),
            "cv_gain": best[1],
            "cv_think_share": best[2],
            "ceiling_gain": float(np.clip(g, 0.0, None).mean()),
            "C": float(lr.C),
            "threshold_curve": curve,
        },
    )
