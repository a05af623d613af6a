"""Write small synthetic BEIR-layout folders for tests."""

from __future__ import annotations

import json
from pathlib import Path


def make_beir(folder: Path, n_queries: int, n_docs: int | None = None, split: str = "train") -> Path:
    """Write ``n_queries`` queries, each with one positive, over ``n_docs`` documents.

    Every query text carries its id (``about qid-00042 ...``) so a fake server's answer can be traced back.
    """
    n_docs = n_docs or max(n_queries, 10)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w") as f:
        for i in range(n_docs):
            f.write(
                json.dumps({"_id": f"d{i:05d}", "title": f"Doc {i}", "text": f"passage number {i} on topic {i % 37}"})
                + "\n"
            )
    with open(folder / "queries.jsonl", "w") as f:
        for i in range(n_queries):
            f.write(json.dumps({"_id": f"q{i:05d}", "text": f"about qid-{i:05d} and topic {i % 37}?"}) + "\n")
    (folder / "qrels").mkdir(exist_ok=True)
    with open(folder / "qrels" / f"{split}.tsv", "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for i in range(n_queries):
            f.write(f"q{i:05d}\td{i % n_docs:05d}\t1\n")
    return folder
