"""Training data: the examples and corpus tables, and a deterministic plan of what each step sees.

The examples table (``tasks.schemas.EXAMPLES``) names documents by id; the corpus table holds their text. Every
random choice (epoch order, which positive, which hard negatives, thought dropout) comes from a generator seeded by
``(seed, epoch, example index)``, never from global state. So:

- the global batch of step ``s`` is a pure function of ``s`` (the *data position* of a checkpoint is just ``s``),
- every worker can compute the whole global batch and take its own slice, and
- one worker with a global batch of 8 sees exactly what two workers with 4 each see.

Rows that cannot train (no positive in the corpus, empty query) are listed in :attr:`TrainingSet.errors` (rows of the
``errors`` schema, ``stage="train"``), never dropped silently.

Example:
    >>> ts = TrainingSet(examples, corpus, negatives=3, seed=0, thought_dropout=0.1)   # doctest: +SKIP
    >>> [item.doc_ids for item in ts.global_batch(step=0, size=4)]                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

from o1embed.tasks.current_rows import read_current_examples
from o1embed.tasks.errors import ConfigError, InputError
from o1embed.tasks.hashing import stable_hash
from o1embed.tasks.schemas import error_row
from o1embed.tasks.shards import DatasetVersion, list_versions
from o1embed.trainer.config import DataConfig, TrainConfig

log = logging.getLogger(__name__)

EXAMPLE_COLUMNS = ["query_id", "query", "thought", "positive_ids", "negative_ids"]
# Read when present (the committee writes them): what the committee decided, and the chosen thought's gain.
DECISION_COLUMNS = ["policy", "gain"]
# The committee decision "no thought beats the bare query" (tasks.committee.examples writes it with thought "").
NO_GAIN_POLICY = "query_only"
CORPUS_COLUMNS = ["doc_id", "title", "text"]


@dataclass(frozen=True)
class TrainItem:
    """One query of one step: its text, the thought used (``""`` when dropped/absent) and its passages.

    ``skip`` marks an example that trains the immediate close (``<thought></s><emb>``); an item with neither a
    thought nor ``skip`` is the bare query (``<query>q</query><emb>``).
    """

    query_id: str
    query: str
    thought: str
    dropped: bool  # the example had a thought (or a skip) and thought dropout removed it
    doc_ids: tuple[str, ...]  # (positive, *hard negatives)
    positives: frozenset[str]  # every positive of the query (masked as in-batch negatives)
    skip: bool = False  # train "close the thought at once"


def _read_parquet(path: str, columns: list[str], what: str, optional: list[str] = ()) -> pa.Table:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} table not found", file=str(p))
    dataset = ds.dataset(str(p), format="parquet")
    missing = [c for c in columns if c not in dataset.schema.names]
    if missing:
        raise InputError(f"{what} table lacks column(s) {missing}", file=str(p), field=missing[0])
    return dataset.to_table(columns=[*columns, *(c for c in optional if c in dataset.schema.names)])


def named_or_newest_version(data: DataConfig) -> DatasetVersion:
    """The :class:`DatasetVersion` named by ``data``; ``latest`` = the one with the newest manifest or plan.

    Raises:
        ConfigError: nothing matches.
    """
    if data.version != "latest":
        return DatasetVersion(Path(data.root), data.dataset, data.split, data.version)
    found = list_versions(data.root, data.dataset, data.split)
    if not found:
        raise ConfigError(f"no dataset version of {data.dataset}/{data.split} under {data.root}")

    def stamp(dv: DatasetVersion) -> float:
        files = [p for p in dv.meta_dir.glob("*.json")]
        return max((p.stat().st_mtime for p in files), default=0.0)

    return max(found, key=stamp)


def check_data(data: DataConfig) -> None:
    """Fail early when the tables ``data`` names are not there (before workers start).

    Raises:
        ConfigError: no dataset version matches ``data``.
        InputError: the examples or corpus path does not exist.
    """
    if data.examples_path:
        for what, path in (("examples", data.examples_path), ("corpus", data.corpus_path)):
            if path and "://" not in path and not Path(path).exists():
                raise InputError(f"{what} table not found", file=path)
    else:
        named_or_newest_version(data)


def load_tables(data: DataConfig) -> tuple[pa.Table, pa.Table, dict]:
    """Read the examples and corpus tables named by ``data``.

    For a dataset version, the corpus is read from the same version; when that version holds no corpus (the
    corpus is an ingest table written once per dataset), the newest corpus snapshot of the dataset under the same
    root is used.

    Returns:
        ``(examples, corpus, source)`` where ``source`` describes where they came from (for the run's lineage).

    Raises:
        InputError: a file or column is missing. ConfigError: no such version.
    """
    if data.examples_path:
        examples = _read_parquet(data.examples_path, EXAMPLE_COLUMNS, "examples", optional=DECISION_COLUMNS)
        corpus = _read_parquet(data.corpus_path, CORPUS_COLUMNS, "corpus")
        return examples, corpus, {"examples_path": data.examples_path, "corpus_path": data.corpus_path}
    dv = named_or_newest_version(data)
    examples = read_current_examples(dv, columns=[*EXAMPLE_COLUMNS, *DECISION_COLUMNS])
    corpus = dv.read("corpus", columns=CORPUS_COLUMNS)
    corpus_from = str(dv.table_dir("corpus"))
    if corpus.num_rows == 0:
        files = sorted(
            (Path(data.root) / "corpus" / f"dataset={data.dataset}").glob("*/*/*.parquet"),
            key=lambda p: p.stat().st_mtime,
        )
        if not files:
            raise InputError(f"no corpus table for dataset {data.dataset!r}", file=str(Path(data.root) / "corpus"))
        corpus = _read_parquet(str(files[-1]), CORPUS_COLUMNS, "corpus")
        corpus_from = str(files[-1])
    if examples.num_rows == 0:
        raise InputError("the examples table is empty", file=str(dv.table_dir("examples")))
    source = {"root": str(data.root), "dataset": dv.dataset, "split": dv.split, "version": dv.version}
    return examples, corpus, {**source, "corpus_from": corpus_from}


def held_out(query_id: str, share: float) -> bool:
    """Whether ``query_id`` falls in a held-out share: its sha256 read as a fraction of 1 is below ``share``.

    Example:
        >>> held_out("q1", 0.0), held_out("q1", 1.0)
        (False, True)
    """
    return share > 0 and int(stable_hash(query_id)[:12], 16) / 16**12 < share


class TrainingSet:
    """Examples joined with the corpus, with a seeded per-step plan.

    Args:
        examples: table with at least ``query_id, query, thought, positive_ids, negative_ids``.
        corpus: table with ``doc_id, title, text``.
        negatives: hard negatives per query; when an example has fewer, random corpus documents fill up.
        seed: seeds every choice (see module docstring).
        thought_dropout: probability that an example with a thought (or a skip) trains as the bare query this
            epoch.
        learn_when_to_think: an example whose committee decision is "no thought beats the query"
            (``policy == "query_only"``, or a gain below ``min_thought_gain``) becomes a *skip* item: it trains
            the immediate close ``<thought></s><emb>``. Off: such examples train as the bare query. An empty
            thought with any other policy (``no_candidates``, or no policy column) stays the bare query: the
            committee never judged a thought for it.
        min_thought_gain: margin; a thought whose ``gain`` is below it does not count as a winner (it is not
            taught, and the example becomes a skip item when ``learn_when_to_think``).
        holdout_share: share of the trainable examples kept out of training, chosen by a hash of the query id
            (:func:`held_out`: the same queries whatever the seed, order or batch size); they are
            :attr:`holdout_rows` (:meth:`holdout_table`), to measure on queries the model never saw.

    Raises:
        ConfigError: nothing trainable remains, or the corpus is smaller than one query's passages.
    """

    def __init__(
        self,
        examples: pa.Table,
        corpus: pa.Table,
        negatives: int,
        seed: int,
        thought_dropout: float,
        learn_when_to_think: bool = True,
        min_thought_gain: float | None = None,
        holdout_share: float = 0.0,
    ):
        self.negatives, self.seed, self.thought_dropout = negatives, seed, thought_dropout
        cols = corpus.to_pydict()
        self.doc_text = {
            d: (t or "", x or "") for d, t, x in zip(cols["doc_id"], cols["title"], cols["text"], strict=True)
        }
        self.doc_ids = sorted(self.doc_text)
        self.errors: list[dict] = []
        self.rows: list[dict] = []
        names = [*EXAMPLE_COLUMNS, *(c for c in DECISION_COLUMNS if c in examples.column_names)]
        if min_thought_gain is not None and "gain" not in names:
            raise ConfigError("min_thought_gain needs the examples' gain column (written by the committee)")
        for line, row in enumerate(examples.select(names).to_pylist(), start=1):
            qid = row["query_id"]
            if not (row["query"] or "").strip():
                self.errors.append(error_row("train", "empty query", line=line, field="query", query_id=qid))
                continue
            positives = [d for d in (row["positive_ids"] or []) if d in self.doc_text]
            if not positives:
                reason = f"no positive id in the corpus (positive_ids={row['positive_ids']})"
                self.errors.append(error_row("train", reason, line=line, field="positive_ids", query_id=qid))
                continue
            negs_all = row["negative_ids"] or []
            unknown = [d for d in negs_all if d not in self.doc_text]
            if unknown:
                reason = f"negative ids not in the corpus, ignored: {unknown[:10]}"
                self.errors.append(error_row("train", reason, line=line, field="negative_ids", query_id=qid))
            pos_set = set(row["positive_ids"] or [])
            negs = list(dict.fromkeys(d for d in negs_all if d in self.doc_text and d not in pos_set))
            thought = row["thought"] or ""
            below_margin = (
                bool(thought.strip())
                and min_thought_gain is not None
                and (row.get("gain") is None or row["gain"] < min_thought_gain)
            )
            no_gain = row.get("policy") == NO_GAIN_POLICY or below_margin
            self.rows.append(
                {
                    "query_id": qid,
                    "query": row["query"],
                    "thought": "" if below_margin else thought,
                    "skip": learn_when_to_think and no_gain,
                    "positives": positives,
                    "positive_set": frozenset(pos_set),
                    "negatives": negs,
                }
            )
        self.holdout_rows = [r for r in self.rows if held_out(r["query_id"], holdout_share)]
        self.rows = [r for r in self.rows if not held_out(r["query_id"], holdout_share)]
        if not self.rows:
            raise ConfigError(
                f"no trainable example ({len(self.errors)} refused, {len(self.holdout_rows)} held out; "
                f"first refused: {self.errors[:1]})"
            )
        if len(self.doc_ids) < 1 + negatives:
            raise ConfigError(f"corpus has {len(self.doc_ids)} documents; need at least {1 + negatives} per query")
        if self.errors:
            log.warning("%d example rows refused or partly used; see the run's errors.parquet", len(self.errors))

    @classmethod
    def from_config(
        cls, cfg: TrainConfig, examples: pa.Table, corpus: pa.Table, holdout_share: float | None = None
    ) -> TrainingSet:
        """The training set a run of ``cfg`` trains on (its negatives, seed, dropout, decision settings and
        hold-out); ``holdout_share`` overrides the run's (``0.0``: every example, the split recomputed by the caller
        with :func:`held_out`)."""
        return cls(
            examples,
            corpus,
            cfg.negatives_per_query,
            cfg.seed,
            cfg.thought_dropout,
            learn_when_to_think=cfg.learn_when_to_think,
            min_thought_gain=cfg.min_thought_gain,
            holdout_share=cfg.holdout_share if holdout_share is None else holdout_share,
        )

    def __len__(self) -> int:
        return len(self.rows)

    def steps_per_epoch(self, size: int) -> int:
        """Full global batches per epoch (the last partial batch of an epoch is skipped).

        Raises:
            ConfigError: fewer examples than one global batch.
        """
        if len(self.rows) < size:
            raise ConfigError(f"{len(self.rows)} trainable examples cannot fill one batch of {size} queries")
        return len(self.rows) // size

    def global_batch(self, step: int, size: int) -> list[TrainItem]:
        """The ``size`` items of global step ``step`` (0-based), identical on every worker."""
        per_epoch = self.steps_per_epoch(size)
        epoch, within = divmod(step, per_epoch)
        order = np.random.default_rng([self.seed, epoch, 0]).permutation(len(self.rows))
        return [self.item(int(i), epoch) for i in order[within * size : (within + 1) * size]]

    def item(self, index: int, epoch: int) -> TrainItem:
        """Example ``index`` as drawn in ``epoch``: one positive, ``negatives`` negatives, thought or not."""
        row = self.rows[index]
        rng = np.random.default_rng([self.seed, epoch, 1, index])
        positive = row["positives"][int(rng.integers(len(row["positives"])))]
        pool = row["negatives"]
        if len(pool) >= self.negatives:
            picked = [pool[i] for i in sorted(rng.choice(len(pool), self.negatives, replace=False))]
        else:  # too few hard negatives: fill with random corpus documents
            taken = set(pool) | row["positive_set"]
            rest = [d for d in self.doc_ids if d not in taken]
            need = min(self.negatives - len(pool), len(rest))
            picked = list(pool) + [rest[i] for i in sorted(rng.choice(len(rest), need, replace=False))]
            if len(picked) < self.negatives:
                raise ConfigError(f"query {row['query_id']}: corpus too small for {self.negatives} negatives")
        has_thought = bool(row["thought"].strip()) or row["skip"]
        dropped = has_thought and bool(rng.random() < self.thought_dropout)
        return TrainItem(
            query_id=row["query_id"],
            query=row["query"],
            thought="" if dropped else row["thought"],
            dropped=dropped,
            doc_ids=(positive, *picked),
            positives=row["positive_set"],
            skip=row["skip"] and not dropped,
        )

    def holdout_table(self) -> pa.Table:
        """The held-out examples: ``query_id, query, thought, skip`` (the committee decided "no thought beats the
        query"), ``positive_ids``; the thought and ``skip`` as training would have used them (margin applied)."""
        schema = pa.schema(
            [
                ("query_id", pa.string()),
                ("query", pa.string()),
                ("thought", pa.string()),
                ("skip", pa.bool_()),
                ("positive_ids", pa.list_(pa.string())),
            ]
        )
        rows = [
            {
                "query_id": r["query_id"],
                "query": r["query"],
                "thought": r["thought"],
                "skip": r["skip"],
                "positive_ids": r["positives"],
            }
            for r in self.holdout_rows
        ]
        return pa.Table.from_pylist(rows, schema=schema)

    def errors_table(self) -> pa.Table:
        """The refused rows as an ``errors`` table."""
        from o1embed.tasks.schemas import ERRORS

        return pa.Table.from_pylist(self.errors, schema=ERRORS)
