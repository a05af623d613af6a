"""Can anything tell, from the query alone, whether a thought will beat it? A ceiling for learning when to think.

``think="auto"`` is trained to predict the committee's decision per query: "no thought beats the bare query"
(skip) or "a thought wins" (think). If that decision cannot be predicted from what is known at inference (the query,
and what retrievers say about it), no model can learn it and the skip/think gate is a coin weighted by the base
rate. This bench fits a plain classifier on the decisions of a run's training queries and scores it on the run's
held-out queries (the same split ``bench/decision_auc.py`` scores the trained model on), plus 5-fold
cross-validation over all queries. Features, each known at inference:

- ``minilm``: the query's all-MiniLM-L6-v2 vector (384 dims);
- ``bm25``: BM25's top-1 score, the gap between its top-1 and top-2, and the query's length in words (how sure the
  bare query already is);
- ``both``.

Classifier: scikit-learn's standardised L2 logistic regression (C chosen by inner cross-validation). AUC by
``roc_auc_score``; the one-sided Mann-Whitney p-value (scipy) that the hold-out AUC beats chance (0.5). The
decisions come from the run's own ``TrainingSet`` (its margin and ``learn_when_to_think`` applied), so they are the
labels the model trained on.

Usage:
    python bench/decision_predictability.py runs/decision-809/model [--minilm PATH]

Last line: ``decision_predictability_auc=<hold-out AUC of the best feature set>``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from o1embed.tasks.packaged_models import minilm_path
from o1embed.tasks.retrievers.bm25 import BM25sRetriever
from o1embed.tasks.retrievers.dense import DenseRetriever
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.data import TrainingSet, held_out, load_tables


def decisions(run: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray, list[str], list[str]]:
    """``(query_ids, queries, skip (n,), held (n,), doc_ids, doc texts)`` of every example the run could train on."""
    cfg = TrainConfig.model_validate_json((run / "train_config.json").read_text())
    examples, corpus, _ = load_tables(cfg.data)
    # holdout_share 0: every example, the split recomputed below from the same hash
    data = TrainingSet.from_config(cfg, examples, corpus, holdout_share=0.0)
    rows = [r for r in data.rows if r["thought"] or r["skip"]]  # rows the committee judged
    ids = [r["query_id"] for r in rows]
    skip = np.array([r["skip"] for r in rows])
    held = np.array([held_out(q, cfg.holdout_share) for q in ids])
    texts = [f"{t} {x}".strip() for t, x in (data.doc_text[d] for d in data.doc_ids)]
    return ids, [r["query"] for r in rows], skip, held, data.doc_ids, texts


def bm25_features(queries: list[str], doc_ids: list[str], texts: list[str]) -> np.ndarray:
    """``(n, 3)``: top-1 score, top-1 minus top-2, query words."""
    bm25 = BM25sRetriever()
    bm25.fit(doc_ids, texts)
    scores, _ = bm25.search(queries, 2)  # (n, 2)
    scores = np.asarray(scores, dtype=np.float64)
    return np.stack([scores[:, 0], scores[:, 0] - scores[:, 1], [len(q.split()) for q in queries]], axis=1)


def auc_with_p(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """AUC of ``score`` for ``y`` and the one-sided Mann-Whitney p-value that it exceeds 0.5."""
    test = mannwhitneyu(score[y], score[~y], alternative="greater")
    return float(roc_auc_score(y, score)), float(test.pvalue)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a training run folder (its train_config.json)")
    parser.add_argument("--minilm", type=Path, help="sentence-transformers folder (default: the packaged MiniLM)")
    args = parser.parse_args()
    ids, queries, skip, held, doc_ids, texts = decisions(args.run_dir)
    if held.sum() == 0 or skip[held].all() or not skip[held].any():
        raise SystemExit(f"{args.run_dir}: the hold-out needs both decisions (train with holdout_share > 0)")
    print(
        f"{len(ids)} judged queries, {int(skip.sum())} skip ({skip.mean():.1%}); hold-out {int(held.sum())} "
        f"({int(skip[held].sum())} skip)"
    )
    dense = DenseRetriever(args.minilm or minilm_path(), name="minilm", cache=False)
    features = {"minilm": dense.encode(queries), "bm25": bm25_features(queries, doc_ids, texts)}
    features["both"] = np.hstack([features["minilm"], features["bm25"]])
    best = 0.0
    for name, x in features.items():
        model = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=8, cv=5, max_iter=2000, scoring="roc_auc"))
        model.fit(x[~held], skip[~held])
        auc, p = auc_with_p(skip[held], model.predict_proba(x[held])[:, 1])
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        oof = cross_val_predict(model, x, skip, cv=folds, method="predict_proba")[:, 1]
        cv_auc, cv_p = auc_with_p(skip, oof)
        print(f"{name:7s} hold-out AUC {auc:.3f} (p {p:.3g}); 5-fold AUC over all {cv_auc:.3f} (p {cv_p:.3g})")
        best = max(best, auc)
    print(f"decision_predictability_auc={best:.3f}")


if __name__ == "__main__":
    main()
