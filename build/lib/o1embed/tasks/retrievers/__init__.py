"""Retrievers: one interface (fit on the corpus once, score/search batches) for BM25 and dense models.

Used by the retrieval committee (members) and by the evaluation (baselines).

Example:
    >>> from o1embed.tasks.retrievers import RetrieverSpec
    >>> bm25 = RetrieverSpec(kind="bm25s").build()
    >>> bm25.fit(["d1", "d2"], ["cats purr softly", "dogs bark loudly"])
    >>> bm25.search(["barking dogs"], k=2)[1].tolist()
    [[1, 0]]
"""

from __future__ import annotations

from o1embed.tasks.retrievers.base import Retriever, corpus_checksum, document_text, rank_of, top_k
from o1embed.tasks.retrievers.bm25 import BM25sRetriever, BM25Tokenizer, RankBM25Retriever
from o1embed.tasks.retrievers.spec import RetrieverSpec

__all__ = [
    "BM25Tokenizer",
    "BM25sRetriever",
    "RankBM25Retriever",
    "Retriever",
    "RetrieverSpec",
    "corpus_checksum",
    "document_text",
    "rank_of",
    "top_k",
]


def __getattr__(name: str):  # DenseRetriever imports torch: load it only when asked for
    if name == "DenseRetriever":
        from o1embed.tasks.retrievers.dense import DenseRetriever

        return DenseRetriever
    raise AttributeError(name)
