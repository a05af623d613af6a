"""What the systems of one run share: loaded encoders, fitted retrievers, document vectors and thoughts.

One loaded encoder per model, one fitted retriever per dataset and configuration, the document vectors of each
model (in memory, and on disk keyed by model checksum, corpus checksum and truncation), and the query vectors and
thoughts of each (model, think mode, m, threshold, alpha); so ``trained``, ``trained-think-m1`` and
``bm25-thought`` encode the corpus once and write thoughts once. The default retriever factory builds
:mod:`tasks.retrievers` retrievers. Encoders come from the ``encoder_loader`` the caller hands in (the evaluate flow
hands one that loads ``trainer.encoder.O1Encoder``: ``tasks`` never imports the trainer); tests pass doubles.

Example:
    >>> res = Resources(EvalConfig(systems=["bm25"]))        # doctest: +SKIP
    >>> res.retriever(spec, data).search(["a query"], k=10)   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from o1embed.tasks.atomic import write_bytes_atomic
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, model_location
from o1embed.tasks.evaluation.data import EvalData
from o1embed.tasks.evaluation.encoders import QueryDocEncoder, QueryVectors, encode_queries
from o1embed.tasks.hashing import MODEL_FILES, corpus_hash, model_folder_hash, stable_hash
from o1embed.tasks.paths import cache_root
from o1embed.tasks.retrievers.base import Retriever

log = logging.getLogger(__name__)

RetrieverFactory = Callable[[SystemSpec, "str | None", EvalConfig], Retriever]
EncoderLoader = Callable[[str, SystemSpec, EvalConfig], QueryDocEncoder]


# ---- default factories: the real retrievers and encoder, imported only when used ------------------------------


def default_retriever_factory(spec: SystemSpec, model_path: str | None, config: EvalConfig) -> Retriever:
    """Build a Retriever from :mod:`tasks.retrievers` for a ``bm25``, ``dense`` or ``expansion`` spec.

    ``spec.options`` are :class:`tasks.retrievers.RetrieverSpec` fields: for BM25 ``kind`` (``bm25s``, default, or
    ``rank_bm25``), ``k1``, ``b``, ``stemmer``, ...; for dense ``query_prompt``, ``cache``, ... The dense
    ``max_seq_length`` defaults to ``config.doc_max_tokens`` and ``batch_size`` to ``config.batch_size``.

    Raises:
        ConfigError: options that RetrieverSpec does not accept.
    """
    from pydantic import ValidationError

    from o1embed.tasks.retrievers import RetrieverSpec

    options = retriever_options(spec)
    options.setdefault("name", spec.name)
    if spec.kind == "dense":
        options.update(kind="dense", model_path=model_path)
        options.setdefault("batch_size", config.batch_size)
        options.setdefault("max_seq_length", config.doc_max_tokens)
    else:
        options.setdefault("kind", "bm25s")
        if options["kind"] == "dense":
            raise ConfigError(f"system {spec.name!r} of kind {spec.kind!r} needs a BM25 engine, not 'dense'")
    try:
        rspec = RetrieverSpec(**options)
    except ValidationError as exc:
        raise ConfigError(f"system {spec.name!r}: bad retriever options: {exc}") from exc
    if rspec.kind == "dense" and config.device:
        from o1embed.tasks.retrievers.dense import DenseRetriever

        return DenseRetriever(
            rspec.resolved_model_path(),
            name=rspec.member_name,
            batch_size=rspec.batch_size,
            max_seq_length=rspec.max_seq_length,
            query_prompt=rspec.query_prompt,
            cache=rspec.cache,
            num_threads=rspec.num_threads,
            device=config.device,
        )
    return rspec.build()


def retriever_options(spec: SystemSpec) -> dict[str, Any]:
    """Constructor keywords of a spec's Retriever (``options["bm25"]`` for an expansion spec)."""
    return dict(spec.options.get("bm25", {})) if spec.kind == "expansion" else dict(spec.options)


def encoder_options(spec: SystemSpec) -> dict[str, Any]:
    """Constructor keywords of a spec's encoder (``options["encoder"]`` for an expansion spec)."""
    return dict(spec.options.get("encoder", {})) if spec.kind == "expansion" else dict(spec.options)


# ---- shared state -----------------------------------------------------------------------------------------------


def corpus_fingerprint(data: EvalData) -> str:
    """sha256 of the searched corpus: ids, and titles and texts apart (encoders read them apart)."""
    return corpus_hash(data.doc_ids, [json.dumps([t, x]) for t, x in zip(data.titles, data.texts, strict=True)])


class Resources:
    """Models, fitted retrievers, vectors and thoughts shared by the systems of one run.

    Args:
        config: the run configuration.
        retriever_factory: builds an unfitted Retriever (default: :func:`default_retriever_factory`).
        encoder_loader: loads a QueryDocEncoder for ``(model path, spec, config)``; None: a run with an encoder
            system fails with a clear error (the evaluate flow hands the O1 encoder's loader).
    """

    def __init__(
        self,
        config: EvalConfig,
        retriever_factory: RetrieverFactory | None = None,
        encoder_loader: EncoderLoader | None = None,
    ):
        self.config = config
        self.retriever_factory = retriever_factory or default_retriever_factory
        self.encoder_loader = encoder_loader
        self._encoders: dict[str, QueryDocEncoder] = {}
        self._fingerprints: dict[str, str] = {}
        self._dataset: str | None = None
        self._retrievers: dict[str, Retriever] = {}
        self._doc_vectors: dict[str, np.ndarray] = {}
        self._queries: dict[tuple, QueryVectors] = {}
        if config.cache_dir == "":
            self.cache_dir: Path | None = None
        else:
            self.cache_dir = Path(config.cache_dir) if config.cache_dir else cache_root() / "eval_doc_vectors"

    def start_dataset(self, data: EvalData) -> None:
        """Forget per-dataset state (fitted retrievers, vectors, thoughts) when the dataset changes."""
        key = stable_hash([str(data.folder), data.split, data.doc_ids, data.query_ids])
        if key != self._dataset:
            self._dataset = key
            self._retrievers.clear()
            self._doc_vectors.clear()
            self._queries.clear()

    # -- retrievers --
    def retriever(self, spec: SystemSpec, data: EvalData) -> Retriever:
        """A Retriever fitted on ``data``'s corpus; shared by specs with the same kind, model and options."""
        kind = "bm25" if spec.kind == "expansion" else spec.kind
        options = retriever_options(spec)
        path = model_location(spec, self.config) if kind == "dense" else None
        key = stable_hash([kind, path, options])
        if key not in self._retrievers:
            base = spec.model_copy(update={"kind": kind, "options": options})
            retriever = self.retriever_factory(base, path, self.config)
            retriever.fit(list(data.doc_ids), data.doc_strings())
            self._retrievers[key] = retriever
        return self._retrievers[key]

    # -- encoders --
    def encoder(self, spec: SystemSpec) -> tuple[str, QueryDocEncoder]:
        """The loaded encoder of ``spec.model`` (loaded once per run) and its cache key."""
        path = model_location(spec, self.config)
        if path is None:
            raise ConfigError(f"system {spec.name!r} of kind {spec.kind!r} names no model")
        key = stable_hash([path, encoder_options(spec)])
        if key not in self._encoders:
            if self.encoder_loader is None:
                raise ConfigError(
                    f"system {spec.name!r} needs an encoder, and this run was given no encoder loader "
                    "(run it through o1embed.flows.evaluate, which loads the O1 encoder)"
                )
            log.info("loading encoder %s", path)
            self._encoders[key] = self.encoder_loader(path, spec, self.config)
        return key, self._encoders[key]

    def _fingerprint(self, path: str) -> str:
        if path not in self._fingerprints:
            self._fingerprints[path] = model_folder_hash(path, MODEL_FILES)  # a refitted think gate keeps the key
        return self._fingerprints[path]

    def doc_vectors(self, spec: SystemSpec, data: EvalData) -> np.ndarray:
        """Document vectors of ``spec``'s encoder over ``data``'s corpus: memory, then disk cache, then encode."""
        key, encoder = self.encoder(spec)
        if key in self._doc_vectors:
            return self._doc_vectors[key]
        path = model_location(spec, self.config)
        cache_file = None
        if self.cache_dir is not None:
            ident = stable_hash(
                {
                    "model": self._fingerprint(path),
                    "options": encoder_options(spec),
                    "corpus": corpus_fingerprint(data),
                    "doc_max_tokens": self.config.doc_max_tokens,
                    "device": self.config.device,
                    "dtype": self.config.dtype,
                }
            )
            cache_file = self.cache_dir / f"{ident}.npy"
        if cache_file is not None and cache_file.is_file():
            vecs = np.load(cache_file)
            log.info("%s: %d document vectors from cache %s", spec.name, len(vecs), cache_file)
        elif cache_file is not None:
            vecs = self._encode_in_chunks(spec.name, encoder, data, cache_file)
            _save_npy(cache_file, vecs)
            _remove_parts(_parts_dir(cache_file))
        else:
            vecs = encoder.encode_documents(list(data.titles), list(data.texts))
            vecs = _check_rows(vecs, len(data.doc_ids), path)
        self._doc_vectors[key] = vecs
        return vecs

    def _encode_in_chunks(self, name: str, encoder: QueryDocEncoder, data: EvalData, cache_file: Path) -> np.ndarray:
        """Encode the corpus ``doc_chunk_size`` documents at a time, each chunk saved as it completes.

        Chunks already on disk (from an interrupted run with the same model, corpus and truncation) are loaded,
        not encoded again.

        Returns:
            Document vectors ``(n_docs, dim)`` float32.
        """
        parts = _parts_dir(cache_file)
        n, size = len(data.doc_ids), self.config.doc_chunk_size
        titles, texts = list(data.titles), list(data.texts)
        chunks, reused = [], 0
        for start in range(0, n, size):
            end = min(start + size, n)
            part = parts / f"{start:08d}-{end:08d}.npy"
            if part.is_file():
                vecs = np.load(part)
                if vecs.shape[0] == end - start:
                    chunks.append(vecs)
                    reused += 1
                    continue
            vecs = _check_rows(encoder.encode_documents(titles[start:end], texts[start:end]), end - start, name)
            _save_npy(part, vecs)
            chunks.append(vecs)
            log.info("%s: %d/%d documents encoded", name, end, n)
        if reused:
            log.info("%s: %d of %d chunks resumed from %s", name, reused, len(chunks), parts)
        return np.concatenate(chunks, axis=0)

    def query_vectors(self, spec: SystemSpec, data: EvalData) -> QueryVectors:
        """Query vectors, thoughts, details and costs of ``spec``'s encoder call, computed once per dataset.

        The key is the encoder and every setting of the call (think mode, m, threshold, alpha), so an expansion
        system reuses the thoughts of the thinking system with the same model and settings.
        """
        key, encoder = self.encoder(spec)
        call = spec.encoder_call()
        qkey = (key, json.dumps(call, sort_keys=True))
        if qkey not in self._queries:
            self._queries[qkey] = encode_queries(encoder, list(data.queries), spec)
        return self._queries[qkey]


def _parts_dir(cache_file: Path) -> Path:
    return cache_file.with_name(cache_file.stem + ".parts")


def _save_npy(path: Path, vecs: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, vecs)
    write_bytes_atomic(path, buf.getvalue())


def _remove_parts(parts: Path) -> None:
    if parts.is_dir():
        for f in parts.glob("*.npy"):
            f.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # a temporary file of another writer is still there
            parts.rmdir()


def _check_rows(vecs: Any, expected: int, model: str) -> np.ndarray:
    """``vecs`` as float32, checked to hold ``expected`` rows (one per document).

    Raises:
        ConfigError: the encoder returned another number of vectors.
    """
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.shape[0] != expected:
        raise ConfigError(f"encoder {model} returned {vecs.shape[0]} vectors for {expected} documents")
    return vecs
