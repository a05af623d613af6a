"""Fit a trained model's think gate from a held-out report, and write it into the model folder.

The steps (each a plain function elsewhere):

1. the per-query gains of thinking over skipping, from the report's ``per_query.parquet``
   (:func:`tasks.evaluation.gains.thinking_gains`: ``trained-always`` minus ``trained-auto`` at threshold 0);
2. the query texts, from the report's BEIR folder (:func:`tasks.ingest.load_beir`);
3. the hidden state at ``<thought>`` of each query, one prompt pass
   (:meth:`trainer.encoder.O1Encoder.decision_states`), in the dtype the report ran in;
4. the gate (:func:`trainer.think_gate.fit_think_gate`), saved as ``<model>/think_gate.json``.

The held-out report comes from the training run's ``holdout.parquet``::

    o1embed evaluate scifact --model RUN/model --set split=train --set query_ids_file=RUN/holdout.parquet \\
        --set close_threshold=0 --set dtype=bfloat16 --system trained-always --system trained-auto --out RUN/holdout
    o1embed model fit-gate RUN/model --report RUN/holdout --dtype bfloat16

Then ``trained-auto-gate`` (or ``EncoderConfig(decider="gate")``) decides with it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from o1embed.tasks.errors import ConfigError, InputError
from o1embed.tasks.evaluation.data import resolve_datasets
from o1embed.tasks.evaluation.gains import thinking_gains
from o1embed.tasks.ingest import load_beir
from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.think_gate import GateFitConfig, ThinkGate, fit_think_gate

log = logging.getLogger(__name__)


def fit_gate_from_report(
    model: str | Path,
    report: str | Path,
    dataset: str | None = None,
    metric: str = "ndcg_at_10",
    fit: GateFitConfig | None = None,
    encoder: EncoderConfig | None = None,
) -> ThinkGate:
    """Fit the think gate of ``model`` on the held-out report in ``report`` and save it in the model folder.

    Args:
        model: the trained model folder (the gate is written there as ``think_gate.json``).
        report: the held-out report folder (its ``per_query.parquet``; see the module docstring).
        dataset: the report's dataset name, or a BEIR folder; None = the report's only dataset.
        metric: the per-query metric whose difference is the gain.
        fit: how the gate is fitted.
        encoder: how the hidden states are computed (use the report's dtype); the thought cache is not used.

    Raises:
        InputError: the report is missing or does not hold what the gains need.
        ConfigError: the dataset cannot be resolved, or too few think or skip examples for the folds.
    """
    source = Path(report) / "per_query.parquet"
    if not source.is_file():
        raise InputError("no per_query.parquet: run `o1embed evaluate` first (see fit_gate)", file=str(source))
    per_query = pl.read_parquet(source)
    names = sorted(per_query["dataset"].unique().to_list())
    if dataset is None:
        if len(names) != 1:
            raise ConfigError(f"{source}: the report holds {names}; name the dataset the gate is fitted on")
        dataset = names[0]
    folder = Path(dataset)
    name = folder.name if (folder / "corpus.jsonl").is_file() else dataset
    gains = thinking_gains(per_query, name, metric=metric, source=str(source))
    split = per_query.filter(pl.col("dataset") == name)["split"][0]
    queries = load_beir(resolve_datasets([dataset], split)[0], split).queries
    text = dict(zip(queries.column("query_id").to_pylist(), queries.column("text").to_pylist(), strict=True))
    missing = [q for q in gains["query_id"].to_list() if q not in text]
    if missing:
        raise InputError(
            f"{len(missing)} query ids of the report are not in the dataset (first: {missing[0]})",
            file=str(source),
            field="query_id",
        )
    cfg = (encoder or EncoderConfig()).model_copy(update={"use_cache": False})
    enc = O1Encoder(model, cfg)
    states = enc.decision_states([text[q] for q in gains["query_id"].to_list()]).numpy()  # (n, hidden)
    gate = fit_think_gate(states, gains["gain"].to_numpy(), fit)
    gate.fit.update(
        report=str(Path(report).resolve()),
        dataset=name,
        split=split,
        metric=metric,
        dtype=str(enc.dtype).removeprefix("torch."),
    )
    path = gate.save(model)
    log.info(
        "think gate: %d queries, %d think examples, cv AUC %.3f, threshold %.2f, cv gain %+.4f (ceiling %+.4f) -> %s",
        gate.fit["queries"],
        gate.fit["think_examples"],
        gate.fit["cv_auc"],
        gate.threshold,
        gate.fit["cv_gain"],
        gate.fit["ceiling_gain"],
        path,
    )
    return gate
