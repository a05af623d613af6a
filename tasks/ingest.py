"""Read a BEIR-layout folder into validated Arrow tables: corpus, queries, pairs, and the rows that failed.

BEIR layout::

    <folder>/corpus.jsonl        {"_id", "title", "text"}     one document per line
    <folder>/queries.jsonl       {"_id", "text"}              one query per line
    <folder>/qrels/<split>.tsv   header "query-id<TAB>corpus-id<TAB>score", then one judgement per line

Every file is read as UTF-8 with an optional byte-order mark (as Windows tools write it); CRLF line ends are
accepted. A qrels score written as an integral float (``1.0``, ``2.0``) is that integer.

A *fatal* problem (a missing file, a missing or wrong qrels header, no usable row) raises :class:`InputError` with
the file and line; "no usable row" lists the first rows' reasons. A bad *row* (invalid UTF-8 or JSON, a missing or
empty field, a duplicate id, a judgement of an unknown query or document, a score that is not a whole number, such
as ``0.5`` or ``abc``) becomes a row of the ``errors`` table with file, line, field and reason; the good rows go on.

Example:
    >>> from o1embed.tasks.ingest import load_beir
    >>> from o1embed.tasks.paths import bundled_dataset
    >>> r = load_beir(bundled_dataset("scifact"), "train")      # doctest: +SKIP
    >>> r.corpus.num_rows, r.errors.num_rows                   # doctest: +SKIP
    (5183, 0)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from o1embed.tasks.errors import InputError
from o1embed.tasks.hashing import sha256_file
from o1embed.tasks.positives import positives_by_query
from o1embed.tasks.schemas import CORPUS, ERRORS, PAIRS, QUERIES, error_row

QRELS_HEADER = ("query-id", "corpus-id", "score")
_REASONS_SHOWN = 3  # rows' reasons quoted in a fatal "no usable row" message


@dataclass
class IngestResult:
    """Validated tables of one BEIR folder and split.

    Attributes:
        corpus: ``(doc_id, title, text)``.
        queries: ``(query_id, text, text_sha256)``; every valid query of the file, judged or not.
        pairs: ``(query_id, doc_id, score)``; every valid judgement of the split (positives have score > 0).
        errors: rows that could not be used (schema ``tasks.schemas.ERRORS``).
        checksums: sha256 of every source file read, by path relative to the folder.
    """

    corpus: pa.Table
    queries: pa.Table
    pairs: pa.Table
    errors: pa.Table
    checksums: dict[str, str] = field(default_factory=dict)

    def positives(self) -> dict[str, list[str]]:
        """Map each query id to its positive document ids (score > 0), in file order."""
        return positives_by_query(self.pairs)


def text_sha256(text: str) -> str:
    """Content hash used to tell a changed query from an unchanged one."""
    return hashlib.sha256(text.encode()).hexdigest()


def _require(path: Path) -> Path:
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    return path


def _lines(path: Path, errors: list[dict]) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, text) for each non-blank line; record lines that are not UTF-8.

    A byte-order mark opening the file is dropped; CRLF and LF line ends are both accepted.
    """
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                errors.append(
                    error_row(
                        "ingest",
                        f"bytes are not valid UTF-8 ({exc.reason} at byte {exc.start})",
                        file=str(path),
                        line=n,
                        raw=raw.decode("utf-8", errors="replace")[:500],
                    )
                )
                continue
            if line.strip():
                yield n, line.rstrip("\r\n")


def _no_usable(what: str, path: Path, errors: list[dict]) -> InputError:
    """The fatal error for a file with no usable row, quoting the first rows' reasons."""
    mine = [e for e in errors if e["file"] == str(path)]
    shown = "; ".join(
        f"line {e['line'] if e['line'] is not None else '?'}"
        + (f" [{e['field']}]" if e["field"] else "")
        + f": {e['reason']}"
        for e in mine[:_REASONS_SHOWN]
    )
    more = f" (and {len(mine) - _REASONS_SHOWN} more rejected rows)" if len(mine) > _REASONS_SHOWN else ""
    return InputError(f"no usable {what}" + (f"; rejected rows: {shown}{more}" if mine else ""), file=str(path))


def _score(text: str) -> int:
    """Parse a qrels score: an integer, or an integral float such as ``1.0``; raise ValueError otherwise."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"score {text!r} is not an integer") from None
    if not value.is_integer():
        raise ValueError(f"score {text!r} is not an integer (relevance grades are whole numbers)")
    return int(value)


def _string_field(obj: dict, name: str, *, required: bool, allow_empty: bool) -> str | None:
    """Return obj[name] as a string, or raise ValueError naming the problem."""
    if name not in obj or obj[name] is None:
        if required:
            raise ValueError(f"missing field {name!r}")
        return ""
    value = obj[name]
    if isinstance(value, int | float) and not isinstance(value, bool) and name == "_id":
        value = str(value)  # BEIR ids are sometimes numbers
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValueError(f"field {name!r} is empty")
    return value


def _read_jsonl(path: Path, fields: dict[str, tuple[bool, bool]], errors: list[dict]) -> list[dict]:
    """Parse a JSONL file; ``fields`` maps name -> (required, allow_empty). Duplicate ``_id``s are errors."""
    rows, seen = [], {}
    for n, line in _lines(path, errors):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(error_row("ingest", f"invalid JSON: {exc.msg}", file=str(path), line=n, raw=line[:500]))
            continue
        if not isinstance(obj, dict):
            errors.append(error_row("ingest", "line is not a JSON object", file=str(path), line=n, raw=line[:500]))
            continue
        row = {}
        try:
            for name, (required, allow_empty) in fields.items():
                fld = name
                row[name] = _string_field(obj, name, required=required, allow_empty=allow_empty)
        except ValueError as exc:
            errors.append(error_row("ingest", str(exc), file=str(path), line=n, field=fld, raw=line[:500]))
            continue
        if row["_id"] in seen:
            errors.append(
                error_row(
                    "ingest",
                    f"duplicate _id {row['_id']!r} (first on line {seen[row['_id']]}); the first is kept",
                    file=str(path),
                    line=n,
                    field="_id",
                    raw=line[:500],
                )
            )
            continue
        seen[row["_id"]] = n
        rows.append(row)
    return rows


def _read_qrels(path: Path, query_ids: set[str], doc_ids: set[str], errors: list[dict]) -> list[dict]:
    rows, seen = [], {}
    lines = _lines(path, errors)
    first = next(lines, None)
    if first is None:
        raise InputError("qrels file is empty (no header, no judgements)", file=str(path), line=1)
    n0, header = first
    if tuple(c.strip() for c in header.split("\t")) != QRELS_HEADER:
        raise InputError(
            f"missing or wrong header: expected {'<TAB>'.join(QRELS_HEADER)!r}, found {header[:80]!r}",
            file=str(path),
            line=n0,
        )
    for n, line in lines:
        cols = line.split("\t")
        if len(cols) != 3:
            errors.append(
                error_row(
                    "ingest",
                    f"expected 3 tab-separated columns, found {len(cols)}",
                    file=str(path),
                    line=n,
                    raw=line,
                )
            )
            continue
        q, d, s = (c.strip() for c in cols)
        problem, fld = None, None
        try:
            score = _score(s)
        except ValueError as exc:
            problem, fld = str(exc), "score"
        if problem is None and q not in query_ids:
            problem, fld = f"query {q!r} is not in queries.jsonl (or was rejected there)", "query-id"
        if problem is None and d not in doc_ids:
            problem, fld = f"document {d!r} is not in corpus.jsonl (or was rejected there)", "corpus-id"
        if problem is None and (q, d) in seen:
            problem, fld = (
                f"duplicate judgement of ({q!r}, {d!r}) (first on line {seen[(q, d)]})",
                "corpus-id",
            )
        if problem:
            errors.append(error_row("ingest", problem, file=str(path), line=n, field=fld, raw=line))
            continue
        seen[(q, d)] = n
        rows.append({"query_id": q, "doc_id": d, "score": score})
    return rows


def load_beir(folder: str | Path, split: str) -> IngestResult:
    """Read and validate one BEIR folder and qrels split.

    Args:
        folder: the BEIR-layout folder.
        split: the qrels split to read (``qrels/<split>.tsv``).

    Returns:
        An :class:`IngestResult`.

    Raises:
        InputError: a file is missing, the qrels header is missing or wrong, or a file has no usable row.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("dataset folder not found", file=str(folder))
    corpus_path = _require(folder / "corpus.jsonl")
    queries_path = _require(folder / "queries.jsonl")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        raise InputError(
            f"file not found (split {split!r}; splits here: {', '.join(have) or 'none'})",
            file=str(qrels_path),
        )

    errors: list[dict] = []
    docs = _read_jsonl(corpus_path, {"_id": (True, False), "title": (False, True), "text": (True, True)}, errors)
    # A document needs some content: a title, a text, or both.
    kept_docs = []
    for d in docs:
        if not (d["title"].strip() or d["text"].strip()):
            errors.append(
                error_row(
                    "ingest",
                    "document has neither title nor text",
                    file=str(corpus_path),
                    field="text",
                    raw=d["_id"],
                )
            )
        else:
            kept_docs.append(d)
    if not kept_docs:
        raise _no_usable("document", corpus_path, errors)
    queries = _read_jsonl(queries_path, {"_id": (True, False), "text": (True, False)}, errors)
    if not queries:
        raise _no_usable("query", queries_path, errors)
    pairs = _read_qrels(qrels_path, {q["_id"] for q in queries}, {d["_id"] for d in kept_docs}, errors)
    if not pairs:
        raise _no_usable("judgement", qrels_path, errors)

    corpus = pa.table(
        {
            "doc_id": [d["_id"] for d in kept_docs],
            "title": [d["title"] for d in kept_docs],
            "text": [d["text"] for d in kept_docs],
        },
        schema=CORPUS,
    )
    qtab = pa.table(
        {
            "query_id": [q["_id"] for q in queries],
            "text": [q["text"] for q in queries],
            "text_sha256": [text_sha256(q["text"]) for q in queries],
        },
        schema=QUERIES,
    )
    ptab = pa.Table.from_pylist(pairs, schema=PAIRS)
    etab = pa.Table.from_pylist(errors, schema=ERRORS)
    checksums = {str(p.relative_to(folder)): sha256_file(p) for p in (corpus_path, queries_path, qrels_path)}
    return IngestResult(corpus=corpus, queries=qtab, pairs=ptab, errors=etab, checksums=checksums)
