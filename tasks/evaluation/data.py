"""The evaluation view of one BEIR-layout folder: documents, judged queries and qrels, optionally cut down.

Loading goes through :func:`tasks.ingest.load_beir` (validated tables plus an ``errors`` table); this module only
chooses which queries are evaluated (the judged ones, in file order, the first ``max_queries``) and, for quick runs,
which documents are searched (the positives of those queries plus a seeded sample of the rest).

Example:
    >>> from o1embed.tasks.paths import bundled_dataset
    >>> data = load_eval_data(bundled_dataset("scifact"), "test", max_queries=50, corpus_sample=500)  # doctest: +SKIP
    >>> len(data.query_ids), len(data.doc_ids) >= 500                                                 # doctest: +SKIP
    (50, True)
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from o1embed.tasks.documents import document_text
from o1embed.tasks.errors import ConfigError, InputError
from o1embed.tasks.ingest import load_beir
from o1embed.tasks.paths import beir_root

log = logging.getLogger(__name__)


@dataclass
class EvalData:
    """One dataset split as the evaluation sees it.

    Attributes:
        name: dataset name (the folder name).
        folder: the BEIR folder.
        split: the qrels split.
        doc_ids, titles, texts: the searched corpus, in file order.
        query_ids, queries: the evaluated queries (judged, with at least one positive), in file order.
        qrels: ``{query_id: {doc_id: grade}}`` for the evaluated queries, as pytrec_eval reads it.
        ignore_identical_ids: drop retrieved documents whose id equals the query id (BEIR's ArguAna rule).
        n_docs_full: documents in the folder (before any sample).
        n_queries_full: judged queries in the split (before ``max_queries``).
        errors: ingest rows that could not be used (``tasks.schemas.ERRORS``).
        checksums: sha256 of the source files.
    """

    name: str
    folder: Path
    split: str
    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    query_ids: list[str]
    queries: list[str]
    qrels: dict[str, dict[str, int]]
    ignore_identical_ids: bool = False
    n_docs_full: int = 0
    n_queries_full: int = 0
    errors: pa.Table | None = None
    checksums: dict[str, str] = field(default_factory=dict)

    def doc_strings(self) -> list[str]:
        """Documents as one string each, ``"title text"`` (the BEIR convention for single-field retrievers)."""
        return [document_text(t, x) for t, x in zip(self.titles, self.texts, strict=True)]


def list_bundled() -> list[Path]:
    """Every BEIR-layout folder bundled under ``data/beir`` (sorted by name)."""
    root = beir_root()
    return sorted(p for p in root.iterdir() if (p / "corpus.jsonl").is_file()) if root.is_dir() else []


def resolve_datasets(names: list[str] | None, split: str) -> list[Path]:
    """Turn dataset names or folders into BEIR folders.

    Args:
        names: bundled set names (``scifact``) or paths to BEIR folders; empty or None means every bundled set that
            has ``split``.
        split: the qrels split that must exist.

    Raises:
        ConfigError: a name is neither a folder nor a bundled set, or a named folder lacks the split.
    """
    if not names:
        found = [p for p in list_bundled() if (p / "qrels" / f"{split}.tsv").is_file()]
        if not found:
            raise ConfigError(f"no bundled BEIR set under {beir_root()} has a {split!r} split")
        return found
    out = []
    bundled = {p.name: p for p in list_bundled()}
    for name in names:
        path = Path(name)
        if not (path / "corpus.jsonl").is_file():
            if name not in bundled:
                raise ConfigError(
                    f"dataset {name!r} is neither a BEIR folder (no corpus.jsonl) nor a bundled set "
                    f"({', '.join(bundled) or 'none bundled'})"
                )
            path = bundled[name]
        if not (path / "qrels" / f"{split}.tsv").is_file():
            raise ConfigError(f"dataset {path} has no qrels/{split}.tsv")
        out.append(path)
    return out


def read_query_ids(path: str | Path) -> list[str]:
    """The ``query_id`` column of a Parquet file (e.g. a training run's ``holdout.parquet``).

    Raises:
        InputError: the file cannot be read, has no ``query_id`` column, or holds a null id (with its row).
    """
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read the query ids: {exc}", file=str(path)) from exc
    if "query_id" not in table.column_names:
        raise InputError(f"no query_id column (columns: {table.column_names})", file=str(path), field="query_id")
    ids = table.column("query_id").to_pylist()
    if None in ids:
        raise InputError(f"null query id in row {ids.index(None) + 1}", file=str(path), field="query_id")
    return [str(q) for q in ids]


def load_eval_data(
    folder: str | Path,
    split: str = "test",
    *,
    max_queries: int | None = None,
    query_ids: Sequence[str] | None = None,
    corpus_sample: int | None = None,
    seed: int = 0,
    ignore_identical_ids: bool | None = None,
) -> EvalData:
    """Load a BEIR folder for evaluation.

    Args:
        folder: the BEIR-layout folder.
        split: the qrels split.
        max_queries: evaluate only the first N judged queries (file order of ``queries.jsonl``).
        query_ids: evaluate only these judged queries (applied before ``max_queries``); None = all.
        corpus_sample: keep the positives of the evaluated queries plus this many other documents, drawn with
            ``seed``; None keeps the full corpus.
        seed: seed of the corpus sample.
        ignore_identical_ids: None means on when the folder name contains ``arguana``.

    Returns:
        An :class:`EvalData`.

    Raises:
        InputError: the folder cannot be read (from :func:`tasks.ingest.load_beir`).
        ConfigError: no query of the split has a positive judgement, or a listed query id is not a judged query of
            the split.
    """
    folder = Path(folder)
    res = load_beir(folder, split)
    if res.errors.num_rows:
        log.warning(
            "%s/%s: %d ingest rows could not be used (see the errors table)",
            folder.name,
            split,
            res.errors.num_rows,
        )
    positives = res.positives()
    qid_col = res.queries.column("query_id").to_pylist()
    qtext_col = res.queries.column("text").to_pylist()
    judged = [(q, t) for q, t in zip(qid_col, qtext_col, strict=True) if q in positives]
    if not judged:
        raise ConfigError(f"{folder}: no query of split {split!r} has a positive judgement")
    n_queries_full = len(judged)
    if query_ids is not None:
        listed = set(query_ids)
        missing = sorted(listed - {q for q, _ in judged})
        if missing:
            raise ConfigError(
                f"{folder}: {len(missing)} listed query ids are not judged queries of split {split!r}: {missing[:5]}"
            )
        judged = [(q, t) for q, t in judged if q in listed]
    if max_queries is not None:
        judged = judged[:max_queries]
    query_ids = [q for q, _ in judged]

    doc_ids = res.corpus.column("doc_id").to_pylist()
    titles = res.corpus.column("title").to_pylist()
    texts = res.corpus.column("text").to_pylist()
    n_docs_full = len(doc_ids)
    if corpus_sample is not None:
        needed = {d for q in query_ids for d in positives[q]}
        others = [i for i, d in enumerate(doc_ids) if d not in needed]
        take = set(random.Random(seed).sample(others, min(corpus_sample, len(others))))
        keep = [i for i, d in enumerate(doc_ids) if d in needed or i in take]
        doc_ids, titles, texts = ([col[i] for i in keep] for col in (doc_ids, titles, texts))

    in_corpus = set(doc_ids)
    wanted = set(query_ids)
    qrels: dict[str, dict[str, int]] = {q: {} for q in query_ids}
    for q, d, s in zip(*(res.pairs.column(c).to_pylist() for c in ("query_id", "doc_id", "score")), strict=True):
        if q in wanted and d in in_corpus:
            qrels[q][d] = int(s)
    identical = "arguana" in folder.name.lower() if ignore_identical_ids is None else ignore_identical_ids
    log.info(
        "%s/%s: %d of %d judged queries, %d of %d documents, ignore_identical_ids=%s",
        folder.name, split, len(query_ids), n_queries_full, len(doc_ids), n_docs_full, identical,
    )  # fmt: skip
    return EvalData(
        name=folder.name,
        folder=folder,
        split=split,
        doc_ids=doc_ids,
        titles=titles,
        texts=texts,
        query_ids=query_ids,
        queries=[t for _, t in judged],
        qrels=qrels,
        ignore_identical_ids=identical,
        n_docs_full=n_docs_full,
        n_queries_full=n_queries_full,
        errors=res.errors,
        checksums=dict(res.checksums),
    )
