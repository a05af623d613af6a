"""What the committee judges: per training query, its text, positives (corpus positions) and candidate thoughts.

Built from the tables of a :class:`~tasks.shards.DatasetVersion` (corpus, queries, pairs snapshots and one
candidates shard). A query that cannot be judged at all (unknown id, no positive in the corpus) becomes an
``errors`` row (stage ``committee``) with the reason; a query whose candidates all failed upstream is still an item,
with no candidates (the committee then writes a query-only example or, under ``drop``, an error row).

Example:
    >>> import pyarrow as pa
    >>> corpus = CorpusIndex(["d1", "d2"], ["t1", "t2"])
    >>> items, errors = build_items(
    ...     ["q1", "q9"], {"q1": "a claim"}, {"q1": ["d2"]},
    ...     pa.table({"query_id": ["q1"], "candidate_idx": [0], "thought": ["because"]}), corpus, "part-r0001-00000")
    >>> [(i.query_id, i.positives.tolist(), i.candidates) for i in items], [e["reason"][:22] for e in errors]
    ([('q1', [1], [(0, 'because')])], ['query id not found in '])
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from o1embed.tasks.documents import document_text
from o1embed.tasks.schemas import error_row

log = logging.getLogger(__name__)
STAGE = "committee"


@dataclass
class CorpusIndex:
    """Corpus documents in a fixed order (position = column of every member's score matrix).

    Args:
        doc_ids: document ids.
        texts: what the retrievers index (``"title text"``).
    """

    doc_ids: list[str]
    texts: list[str]
    position: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.position = {d: i for i, d in enumerate(self.doc_ids)}

    @classmethod
    def from_table(cls, corpus: pa.Table) -> CorpusIndex:
        """From a ``corpus`` table (doc_id, title, text)."""
        cols = corpus.select(["doc_id", "title", "text"]).to_pydict()
        texts = [document_text(t, x) for t, x in zip(cols["title"], cols["text"], strict=True)]
        return cls(cols["doc_id"], texts)

    def without_texts(self) -> CorpusIndex:
        """The same ids and positions, without the texts: what the driver keeps once the members have indexed them.

        At MS MARCO size the texts are gigabytes (~0.8 KB per passage as Python strings); judging needs only the
        positions.
        """
        out = copy.copy(self)
        out.texts = []
        return out


@dataclass
class QueryItem:
    """One training query to judge."""

    query_id: str
    text: str
    positive_ids: list[str]
    positives: np.ndarray  # corpus positions of positive_ids
    candidates: list[tuple[int, str]]  # (candidate_idx, thought), by candidate_idx


def build_items(
    query_ids: list[str],
    query_text: dict[str, str],
    positives: dict[str, list[str]],
    candidates: pa.Table,
    corpus: CorpusIndex,
    shard: str,
) -> tuple[list[QueryItem], list[dict]]:
    """Assemble the items of one shard.

    Args:
        query_ids: the shard's planned query ids.
        query_text: query id -> text.
        positives: query id -> positive doc ids.
        candidates: the shard's candidates (query_id, candidate_idx, thought).
        corpus: the corpus index.
        shard: shard name (for messages).

    Returns:
        ``(items, error rows)``.
    """
    errors: list[dict] = []
    planned = set(query_ids)
    by_query: dict[str, dict[int, str]] = defaultdict(dict)
    cols = candidates.select(["query_id", "candidate_idx", "thought"]).to_pydict()
    for q, k, t in zip(cols["query_id"], cols["candidate_idx"], cols["thought"], strict=True):
        if q not in planned:
            errors.append(
                error_row(
                    STAGE,
                    f"candidate for a query not planned in shard {shard}; ignored",
                    query_id=q,
                    candidate_idx=k,
                    file=shard,
                )
            )
        elif k in by_query[q]:
            errors.append(
                error_row(
                    STAGE,
                    "duplicate (query_id, candidate_idx); first kept",
                    query_id=q,
                    candidate_idx=k,
                    file=shard,
                    raw=t,
                )
            )
        elif t is None or not t.strip():
            errors.append(error_row(STAGE, "empty thought; not judged", query_id=q, candidate_idx=k, file=shard))
        else:
            by_query[q][k] = t
    items = []
    for q in query_ids:
        if q not in query_text:
            errors.append(error_row(STAGE, "query id not found in the queries table", query_id=q, file=shard))
            continue
        pos_ids = positives.get(q, [])
        if not pos_ids:
            errors.append(error_row(STAGE, "no positive document for this query in pairs", query_id=q, file=shard))
            continue
        known = [d for d in pos_ids if d in corpus.position]
        if not known:
            errors.append(
                error_row(
                    STAGE,
                    f"none of its positive documents {pos_ids} is in the corpus",
                    query_id=q,
                    file=shard,
                )
            )
            continue
        if len(known) < len(pos_ids):
            log.warning("query %s: positives %s are not in the corpus", q, sorted(set(pos_ids) - set(known)))
        items.append(
            QueryItem(
                query_id=q,
                text=query_text[q],
                positive_ids=known,
                positives=np.asarray([corpus.position[d] for d in known], dtype=np.int64),
                candidates=sorted(by_query.get(q, {}).items()),
            )
        )
    return items, errors
