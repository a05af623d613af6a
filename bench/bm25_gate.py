"""Would a BM25-confidence gate help? Fitted on the committee's decisions or on the model's own gains, scored on a
finished report.

``bench/decision_predictability.py`` found that the committee's think-or-skip decision on training queries is
predictable from BM25's confidence (hold-out AUC 0.733), where the model's own ``p_close`` is not. This bench asks
the next question: is a gate built on that confidence the one retrieval needs at test time? It fits the same
classifier (standardised logistic regression on BM25's top-1 score, top-1 minus top-2, their ratio and the query's
length) on one of two labels:

- default: the committee's decision on every judged training query of the run (skip: no thought beat the query);
- ``--gains REPORT``: the model's own gain on REPORT's queries (skip: ``trained-always``'s nDCG@10 is not above
  ``trained-auto``'s, the skip vector at ``close_threshold=0``), e.g. a report on the run's held-out training
  queries, which the model never trained on.

Then it gates each test query of a report: where the classifier says "think" (P(skip) < 0.5, its own decision
boundary, nothing tuned on test), the query takes ``trained-always``'s vector, else ``trained-auto``'s (the skip
vector where auto closed at once). Each query's nDCG@10 is read from the report's ``per_query.parquet`` (the same
vectors the systems produced, so no model runs), and per dataset the bench prints the gated system against
``trained-never`` and ``trained-auto``: mean nDCG@10, share that thinks, better/worse counts and the paired
randomisation p-value (``tasks.evaluation.tables.paired_p_value``).

BM25 features are computed against each set's own corpus (bm25s), so their scale follows the corpus, as the gate's
would in use.

Usage:
    python bench/bm25_gate.py runs/thinking-809/model runs/thinking-809/report [--in-domain scifact]
    python bench/bm25_gate.py runs/decision-809/model runs/decision-809/report --gains runs/decision-809/holdout_gains

Last line: ``bm25_gate_delta=<gated minus never, nDCG@10 on the in-domain set>``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench scripts below

from decision_predictability import bm25_features, decisions  # noqa: E402
from gate_ceiling import print_delta  # noqa: E402

from o1embed.tasks.documents import document_text  # noqa: E402
from o1embed.tasks.evaluation.tables import paired_p_value  # noqa: E402
from o1embed.tasks.ingest import load_beir  # noqa: E402


def gate_inputs(bm25: np.ndarray) -> np.ndarray:
    """``(n, 4)`` from :func:`bm25_features`' ``(n, 3)``: top-1, gap, words, and the gap relative to top-1."""
    return np.column_stack([bm25, bm25[:, 1] / np.maximum(bm25[:, 0], 1e-6)])


def fit_gate(features: np.ndarray, skip: np.ndarray):
    """The classifier of P(skip) from ``features`` ``(n, 3)`` (:func:`bm25_features`) and labels ``skip`` ``(n,)``."""
    model = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=8, cv=5, max_iter=2000, scoring="roc_auc"))
    return model.fit(gate_inputs(features), skip)


def committee_labels(run: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(features (n, 3), skip (n,))`` of every judged training query of ``run``: the committee's decisions."""
    _, queries, skip, _, doc_ids, texts = decisions(run)
    return bm25_features(queries, doc_ids, texts), skip


def gain_labels(report: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(features (n, 3), skip (n,))`` of ``report``'s queries: skip where thinking did not beat the skip vector."""
    wide = (
        pl.read_parquet(report / "per_query.parquet")
        .filter(pl.col("system").is_in(["trained-always", "trained-auto"]))
        .pivot(on="system", index=["dataset", "query_id"], values="ndcg_at_10")
    )
    feats = {(ds, q): f for ds, (ids, x) in query_features(report).items() for q, f in zip(ids, x, strict=True)}
    x = np.stack([feats[(ds, q)] for ds, q in zip(wide["dataset"], wide["query_id"], strict=True)])
    return x, (wide["trained-always"] <= wide["trained-auto"]).to_numpy()


def gated(per_query: pl.DataFrame, think: dict[tuple[str, str], bool]) -> pl.DataFrame:
    """One row per dataset: the gated system (``trained-always`` where ``think[(dataset, query_id)]``, else
    ``trained-auto``) against ``trained-never`` and ``trained-auto``, on nDCG@10."""
    wide = per_query.filter(pl.col("system").is_in(["trained-never", "trained-always", "trained-auto"])).pivot(
        on="system", index=["dataset", "query_id"], values="ndcg_at_10"
    )
    out = []
    for ds in wide["dataset"].unique(maintain_order=True).to_list():
        w = wide.filter(pl.col("dataset") == ds)
        thinks = np.array([think[(ds, q)] for q in w["query_id"]])
        never, auto = w["trained-never"].to_numpy(), w["trained-auto"].to_numpy()
        gate = np.where(thinks, w["trained-always"].to_numpy(), auto)
        out.append(
            {
                "dataset": ds,
                "queries": w.height,
                "thinks": float(thinks.mean()),
                "never": float(never.mean()),
                "auto": float(auto.mean()),
                "gated": float(gate.mean()),
                "better": int((gate > never + 1e-12).sum()),
                "worse": int((gate < never - 1e-12).sum()),
                "p_vs_never": paired_p_value(gate, never),
                "p_vs_auto": paired_p_value(gate, auto),
            }
        )
    return pl.DataFrame(out)


def query_features(report: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """Per dataset of the report: its judged query ids and their BM25 features ``(n, 3)`` against its corpus."""
    meta = json.loads((report / "config.json").read_text())
    out = {}
    for d in meta["datasets"]:
        beir = load_beir(d["folder"], d["split"])
        text = dict(zip(beir.queries["query_id"].to_pylist(), beir.queries["text"].to_pylist(), strict=True))
        ids = sorted(beir.positives())
        titles, bodies = beir.corpus["title"].to_pylist(), beir.corpus["text"].to_pylist()
        docs = [document_text(t, x) for t, x in zip(titles, bodies, strict=True)]
        out[d["dataset"]] = (ids, bm25_features([text[q] for q in ids], beir.corpus["doc_id"].to_pylist(), docs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="the training run (its committee decisions fit the default gate)")
    parser.add_argument("report_dir", type=Path, help="a report of that run's model with trained-always and -auto")
    parser.add_argument("--gains", type=Path, help="fit on the model's own gains in this report instead")
    parser.add_argument("--in-domain", default="scifact")
    args = parser.parse_args()
    features, skip = gain_labels(args.gains) if args.gains else committee_labels(args.run_dir)
    model = fit_gate(features, skip)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(model, gate_inputs(features), skip, cv=folds, method="predict_proba")[:, 1]
    think = {}
    for ds, (ids, feats) in query_features(args.report_dir).items():
        p_skip = model.predict_proba(gate_inputs(feats))[:, 1]
        think |= {(ds, q): bool(p < 0.5) for q, p in zip(ids, p_skip, strict=True)}
    table = gated(pl.read_parquet(args.report_dir / "per_query.parquet"), think)
    source = f"the model's gains on {args.gains}'s queries" if args.gains else f"{args.run_dir}'s committee decisions"
    print(f"gate fitted on {source}: {len(skip)} queries, skip rate {skip.mean():.1%}; P(skip) < 0.5 thinks")
    print(f"the gate's 5-fold AUC on its own labels: {roc_auc_score(skip, oof):.3f}")
    print_delta(table, args.report_dir, args.in_domain, "bm25_gate_delta", "gated")


if __name__ == "__main__":
    main()
