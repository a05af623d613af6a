"""Export training examples as the JSONL that FlagEmbedding and sentence-transformers read.

One line per example: ``{"query_id", "query", "pos": [doc text, ...], "neg": [doc text, ...], "thought"}`` with
documents as ``"title text"`` (joined from the corpus by id). ``fold_thought=True`` writes ``query`` as
``"{query} {thought}"`` for trainers that know nothing of thoughts.

Example:
    >>> n = export_flagembedding(dv, "scifact-train.jsonl")          # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from o1embed.tasks.atomic import open_atomic
from o1embed.tasks.current_rows import read_current_examples
from o1embed.tasks.documents import document_text
from o1embed.tasks.errors import InputError
from o1embed.tasks.paths import local_path
from o1embed.tasks.shards import DatasetVersion


def flagembedding_records(examples: pa.Table, corpus: pa.Table, fold_thought: bool = False) -> Iterator[dict]:
    """Yield one FlagEmbedding record per example.

    Raises:
        InputError: an example names a document that is not in the corpus.
    """
    c = corpus.select(["doc_id", "title", "text"]).to_pydict()
    text = {d: document_text(t, x) for d, t, x in zip(c["doc_id"], c["title"], c["text"], strict=True)}
    cols = ["query_id", "query", "thought", "positive_ids", "negative_ids"]
    for row in examples.select(cols).to_pylist():
        missing = [d for d in row["positive_ids"] + row["negative_ids"] if d not in text]
        if missing:
            raise InputError(f"documents {missing[:5]} are not in the corpus", field="query_id=" + row["query_id"])
        thought = row["thought"] or ""
        query = f"{row['query']} {thought}".strip() if fold_thought else row["query"]
        yield {
            "query_id": row["query_id"],
            "query": query,
            "pos": [text[d] for d in row["positive_ids"]],
            "neg": [text[d] for d in row["negative_ids"]],
            "thought": thought,
        }


def export_flagembedding(dv: DatasetVersion, out_path: str | Path, fold_thought: bool = False) -> int:
    """Write the examples of ``dv`` to ``out_path`` (JSONL, atomically), one per query: its newest.

    Args:
        dv: a dataset version with an ``examples`` table.
        out_path: the JSONL file to write.
        fold_thought: put the thought into ``query``.

    Returns:
        The number of lines written.

    Raises:
        InputError: no examples.
    """
    out_path = local_path("out", out_path)
    examples = read_current_examples(dv)  # an edited query's earlier example is superseded
    if examples.num_rows == 0:
        raise InputError("no examples to export (run the committee first)", file=str(dv.table_dir("examples")))
    n = 0
    with open_atomic(out_path) as f:
        for rec in flagembedding_records(examples, dv.read("corpus"), fold_thought):
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n
