"""Dense committee members and baselines through sentence-transformers, with a corpus-embedding cache.

Documents are encoded once per (model, corpus) and cached as ``.npy`` under
``<cache_root>/embeddings/<model checksum>/<corpus checksum>.npy``; the model checksum covers every file of the
model folder, the corpus checksum covers ids, texts and the truncation length. Scores are cosine similarities
(embeddings L2-normalised). Only local model folders are accepted: nothing is downloaded at run time.

Example:
    >>> from o1embed.tasks.packaged_models import minilm_path                       # doctest: +SKIP
    >>> r = DenseRetriever(minilm_path(), name="minilm")            # doctest: +SKIP
    >>> r.fit(["d1", "d2"], ["cats purr", "dogs bark"])             # doctest: +SKIP
    >>> r.search(["a barking dog"], k=1)[1].tolist()                # doctest: +SKIP
    [[1]]
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import numpy as np

from o1embed.tasks.atomic import write_bytes_atomic, write_json_atomic
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.hashing import corpus_hash, model_folder_hash
from o1embed.tasks.paths import cache_root
from o1embed.tasks.retrievers.base import top_k

log = logging.getLogger(__name__)


class DenseRetriever:
    """A sentence-transformers bi-encoder over a local model folder.

    Args:
        model_path: local sentence-transformers (or plain transformers) folder.
        name: member name.
        batch_size: encoding batch size.
        max_seq_length: truncation in word pieces (None keeps the model's).
        query_prompt: text prepended to every search query (e.g. an instruction for e5/bge-style models).
        cache: cache corpus embeddings on disk.
        cache_dir: where (default ``<cache_root>/embeddings``).
        num_threads: torch CPU threads for this process (None leaves torch's setting).
        device: torch device (default ``cpu``).
        search_index: None for an exact :meth:`search`; a ``faiss.index_factory`` description
            (``"IVF1024,Flat"``) for an approximate one through that index, built once at :meth:`fit`
            (:mod:`.ann`). :meth:`score` and :meth:`score_pools` stay exact. For the committee's pool search on
            large corpora (``bench/pool_search.py`` measures its recall against the exact top-N).
        search_index_params: the index's search parameters (``"nprobe=32"``).

    Raises:
        ConfigError: the folder does not exist.
    """

    def __init__(
        self,
        model_path: str | Path,
        name: str = "dense",
        batch_size: int = 64,
        max_seq_length: int | None = 256,
        query_prompt: str = "",
        cache: bool = True,
        cache_dir: str | Path | None = None,
        num_threads: int | None = None,
        device: str = "cpu",
        search_index: str | None = None,
        search_index_params: str = "",
    ):
        self.model_path = Path(model_path)
        if not self.model_path.is_dir():
            raise ConfigError(f"dense model folder {self.model_path} does not exist (only local folders are used)")
        self.name, self.batch_size, self.query_prompt = name, batch_size, query_prompt
        self.cache, self.device = cache, device
        self.search_index, self.search_index_params, self.num_threads = search_index, search_index_params, num_threads
        self._index = None  # the FAISS index of search_index, built at fit
        self.cache_dir = Path(cache_dir) if cache_dir else cache_root() / "embeddings"
        if num_threads:
            import torch

            torch.set_num_threads(num_threads)
        from sentence_transformers import SentenceTransformer

        t0 = time.perf_counter()
        self.model = SentenceTransformer(str(self.model_path), device=device, local_files_only=True)
        if max_seq_length:
            self.model.max_seq_length = max_seq_length
        self.max_seq_length = self.model.max_seq_length
        log.info("%s: loaded %s in %.1fs", name, self.model_path, time.perf_counter() - t0)
        self._model_sha: str | None = None
        self.doc_emb: np.ndarray | None = None  # (n_docs, dim)
        self.doc_ids: list[str] = []
        self.cache_hit: bool | None = None
        self._last_queries: dict[str, np.ndarray] = {}  # the previous call's query vectors (see _query_vectors)

    @property
    def model_sha(self) -> str:
        if self._model_sha is None:
            self._model_sha = model_folder_hash(self.model_path)
        return self._model_sha

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return L2-normalised float32 embeddings ``(n, dim)``."""
        if not texts:
            # sentence-transformers 5.4 renamed the method (the old name warns, and goes at the next major)
            dimension = getattr(self.model, "get_embedding_dimension", None)
            dim = (dimension or self.model.get_sentence_embedding_dimension)()
            return np.zeros((0, dim), dtype=np.float32)
        emb = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(emb, dtype=np.float32)

    def _query_vectors(self, queries: list[str]) -> np.ndarray:
        """Query vectors ``(n, dim)``, with ``query_prompt``; strings the previous call encoded are reused.

        The committee's pooled judging searches a batch's bare queries, then scores those same strings again among
        the thoughts in :meth:`score_pools`: the second call encodes only the thoughts. Only the last call's
        vectors are kept, so the memory is one batch's.
        """
        todo = list(dict.fromkeys(x for x in queries if x not in self._last_queries))
        fresh = dict(zip(todo, self.encode([self.query_prompt + x for x in todo]), strict=True))
        seen = {x: fresh[x] if x in fresh else self._last_queries[x] for x in queries}
        self._last_queries = seen
        if not queries:
            return self.encode([])
        return np.stack([seen[x] for x in queries])

    def cache_path(self, doc_ids: list[str], texts: list[str]) -> Path:
        """The cache file for this model and corpus."""
        corpus_sha = corpus_hash(doc_ids, texts, extra=f"max_seq_length={self.max_seq_length}")
        return self.cache_dir / self.model_sha[:24] / f"{corpus_sha[:32]}.npy"

    def fit(self, doc_ids: list[str], texts: list[str]) -> None:
        """Encode the corpus (or load its embeddings from the cache), then build the search index if one is set."""
        self._fit_embeddings(doc_ids, texts)
        self._index = None
        if self.search_index is not None:
            from o1embed.tasks.retrievers.ann import build_index

            t0 = time.perf_counter()
            self._index = build_index(self.doc_emb, self.search_index, self.search_index_params, self.num_threads)
            log.info("%s: built %r over %d documents in %.1fs", self.name, self.search_index, len(doc_ids),
                     time.perf_counter() - t0)  # fmt: skip

    def _fit_embeddings(self, doc_ids: list[str], texts: list[str]) -> None:
        if not doc_ids:
            raise ConfigError("cannot fit a dense retriever on an empty corpus")
        self.doc_ids = list(doc_ids)
        path = self.cache_path(doc_ids, texts) if self.cache else None
        if path is not None and path.exists():
            emb = np.load(path)
            if emb.shape[0] == len(doc_ids):
                self.doc_emb, self.cache_hit = emb, True
                log.info("%s: corpus embeddings from cache %s", self.name, path)
                return
            log.warning(
                "%s: cache %s has %d rows, expected %d; re-encoding",
                self.name,
                path,
                emb.shape[0],
                len(doc_ids),
            )
        t0 = time.perf_counter()
        self.doc_emb, self.cache_hit = self.encode(texts), False
        log.info("%s: encoded %d documents in %.1fs", self.name, len(texts), time.perf_counter() - t0)
        if path is not None:
            buf = io.BytesIO()
            np.save(buf, self.doc_emb)
            write_bytes_atomic(path, buf.getvalue())
            write_json_atomic(
                path.with_suffix(".json"),
                {
                    "model_path": str(self.model_path),
                    "model_sha256": self.model_sha,
                    "docs": len(doc_ids),
                    "max_seq_length": self.max_seq_length,
                },
            )

    def score(self, queries: list[str], doc_index: np.ndarray | None = None) -> np.ndarray:
        """Cosine scores ``(n_queries, n_docs)`` (or over ``doc_index`` columns)."""
        if self.doc_emb is None:
            raise RuntimeError("DenseRetriever.fit() must be called before scoring")
        import torch

        q = self._query_vectors(queries)  # (n_q, dim)
        docs = self.doc_emb if doc_index is None else self.doc_emb[np.asarray(doc_index)]  # (n_cols, dim)
        # The product runs in torch's thread pool: numpy's OpenBLAS threads spin next to torch's OpenMP threads, and
        # made a one-query product after an encode cost ~40 ms on 2 cores (0.1 ms alone).
        return (torch.from_numpy(q) @ torch.from_numpy(docs).T).numpy()  # (n_q, n_cols)

    def score_pools(self, queries: list[str], pool_of: np.ndarray, pools: np.ndarray) -> np.ndarray:
        """Cosine scores ``(n_s, P)`` of each query over its own pool (see :func:`~.base.score_pools`)."""
        if self.doc_emb is None:
            raise RuntimeError("DenseRetriever.fit() must be called before scoring")
        import torch

        q = torch.from_numpy(self._query_vectors(queries))  # (n_s, dim)
        out = torch.empty((len(queries), pools.shape[1]), dtype=torch.float32)  # (n_s, P)
        # One gather per pool, shared by its queries: (P, dim) per pool rather than per string (a 384-dim model
        # would gather ~390 MB for a batch of 256 strings over pools of 1,000).
        order = np.argsort(pool_of, kind="stable")  # the strings grouped by pool
        groups = np.split(order, np.flatnonzero(np.diff(pool_of[order])) + 1) if len(order) else []
        for group in groups:
            rows = torch.from_numpy(group)
            docs = torch.from_numpy(self.doc_emb[np.maximum(pools[pool_of[group[0]]], 0)])  # (P, dim); pads read row 0
            out[rows] = q[rows] @ docs.T  # (n_r, P); the pads are masked later
        return out.numpy()

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(scores, columns)``, best first: exact, or through ``search_index`` (which may pad with
        column -1 and score -inf when it finds fewer than ``k``)."""
        if self._index is None:
            return top_k(self.score(queries), k)
        q = self._query_vectors(queries)  # (n_q, dim)
        scores, cols = self._index.search(q, min(k, len(self.doc_ids)))  # (n_q, k) each
        return np.where(cols >= 0, scores, -np.inf).astype(np.float32), cols.astype(np.int64)
