"""The on-disk layout of one dataset version: hive-partitioned Parquet shards, plans, manifests and a write lock.

Layout under ``root`` (any local folder)::

    <root>/<table>/dataset=<d>/split=<s>/version=<v>/<shard>.parquet        append-only shards
    <root>/<table>/dataset=<d>/split=<s>/version=<v>/snapshot.parquet       ingest tables (replaced per revision)
    <root>/_manifests/dataset=<d>/split=<s>/version=<v>/plan-<rev>.json     shard -> query ids, written first
    <root>/_manifests/dataset=<d>/split=<s>/version=<v>/manifest-<rev>.json lineage, written last
    <root>/_manifests/dataset=<d>/split=<s>/version=<v>/manifest.json       the latest revision

A *version* is fixed by everything that changes the rows (model, prompt, sampling, seeds); a *revision* adds shards
to a version (an incremental refresh). Readers skip ``_manifests`` and hidden temporary files::

    >>> import polars as pl                                          # doctest: +SKIP
    >>> pl.scan_parquet("data/runs/scifact/candidates/**/*.parquet", hive_partitioning=True)  # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from o1embed.tasks.atomic import write_json_atomic, write_parquet_atomic
from o1embed.tasks.dataset_card import write_dataset_card
from o1embed.tasks.errors import ConcurrentWriterError, ConfigError
from o1embed.tasks.hashing import sha256_file
from o1embed.tasks.manifest import Manifest
from o1embed.tasks.paths import local_path
from o1embed.tasks.schemas import SCHEMAS


def shard_name(revision: int, index: int) -> str:
    """Return the deterministic name of shard ``index`` of ``revision`` (``part-r0001-00000``)."""
    return f"part-r{revision:04d}-{index:05d}"


@dataclass(frozen=True)
class DatasetVersion:
    """One (dataset, split, version) under an output root.

    Args:
        root: output folder holding every table.
        dataset: dataset name, e.g. ``scifact``.
        split: qrels split, e.g. ``train``.
        version: version id (see :func:`tasks.synthesis.version_id`).

    Example:
        >>> dv = DatasetVersion(Path("/tmp/out"), "scifact", "train", "abc123")
        >>> dv.table_dir("candidates").as_posix()
        '/tmp/out/candidates/dataset=scifact/split=train/version=abc123'
    """

    root: Path
    dataset: str
    split: str
    version: str

    @property
    def partition(self) -> str:
        return f"dataset={self.dataset}/split={self.split}/version={self.version}"

    def table_dir(self, table: str) -> Path:
        return Path(self.root) / table / self.partition

    @property
    def meta_dir(self) -> Path:
        return Path(self.root) / "_manifests" / self.partition

    # ---- shards -------------------------------------------------------------------------------------------
    def shard_path(self, table: str, shard: str) -> Path:
        return self.table_dir(table) / f"{shard}.parquet"

    def has_shard(self, table: str, shard: str) -> bool:
        return self.shard_path(table, shard).exists()

    def write_shard(self, table: str, shard: str, rows: pa.Table, metadata: dict[str, str] | None = None) -> Path:
        """Write one shard atomically, cast to the table's schema, with optional key-value ``metadata``.

        Raises:
            KeyError: for an unknown table name.
        """
        rows = rows.select(SCHEMAS[table].names).cast(SCHEMAS[table])
        if metadata:
            rows = rows.replace_schema_metadata(metadata)
        return write_parquet_atomic(self.shard_path(table, shard), rows)

    def write_snapshot(self, table: str, rows: pa.Table) -> Path:
        """Replace the table's single snapshot file (for ingest tables: corpus, queries, pairs)."""
        rows = rows.select(SCHEMAS[table].names).cast(SCHEMAS[table])
        return write_parquet_atomic(self.table_dir(table) / "snapshot.parquet", rows)

    def files(self, table: str) -> list[Path]:
        d = self.table_dir(table)
        return sorted(d.glob("*.parquet")) if d.exists() else []

    def read(self, table: str, columns: list[str] | None = None, files: list[Path] | None = None) -> pa.Table:
        """Read every file of ``table`` for this version, or only ``files`` of it (an empty table with the schema
        if none)."""
        files = self.files(table) if files is None else files
        if not files:
            t = SCHEMAS[table].empty_table()
            return t.select(columns) if columns else t
        return ds.dataset([str(f) for f in files], schema=SCHEMAS[table], format="parquet").to_table(columns=columns)

    # ---- plans and manifests -----------------------------------------------------------------------------
    def plan_path(self, revision: int) -> Path:
        return self.meta_dir / f"plan-{revision:04d}.json"

    def plans(self) -> dict[int, dict]:
        """Return every plan by revision number."""
        out = {}
        for p in sorted(self.meta_dir.glob("plan-*.json")) if self.meta_dir.exists() else []:
            out[int(p.stem.split("-")[1])] = json.loads(p.read_text())
        return out

    def write_plan(self, revision: int, plan: dict) -> Path:
        return write_json_atomic(self.plan_path(revision), plan)

    def manifest_path(self, revision: int | None = None) -> Path:
        return self.meta_dir / ("manifest.json" if revision is None else f"manifest-{revision:04d}.json")

    def manifest(self, revision: int | None = None) -> dict | None:
        """Return the manifest of ``revision`` (latest when None), or None when none was written."""
        p = self.manifest_path(revision)
        return json.loads(p.read_text()) if p.exists() else None

    def manifest_model(self, revision: int | None = None) -> Manifest | None:
        """:meth:`manifest` validated into the typed :class:`tasks.manifest.Manifest` (None when none was written).

        Raises:
            pydantic.ValidationError: a section does not have its stage's shape.
        """
        body = self.manifest(revision)
        return None if body is None else Manifest.model_validate(body)

    def table_stats(self) -> dict[str, dict]:
        """Rows per table and per-shard sha256 checksums, read from disk."""
        stats: dict[str, dict] = {}
        root = Path(self.root)
        for table in sorted(SCHEMAS):
            files = self.files(table)
            if not files:
                continue
            shards = [
                {
                    "file": str(f.relative_to(root)),
                    "rows": pq.ParquetFile(f).metadata.num_rows,
                    "sha256": sha256_file(f),
                }
                for f in files
            ]
            stats[table] = {"rows": sum(s["rows"] for s in shards), "shards": shards}
        return stats

    def write_manifest(self, revision: int, manifest: dict) -> Manifest:
        """Write ``manifest-<revision>.json``, ``manifest.json``, then the dataset card (``README.md`` beside them).

        Table counts are read from disk here; the card (:mod:`tasks.dataset_card`) follows every manifest, so
        ``datasets.load_dataset(<meta_dir>, "<table>")`` always sees the latest revision.

        Returns:
            The manifest just written, typed (what :meth:`manifest_model` now reads).
        """
        body = dict(manifest, revision=revision, dataset=self.dataset, split=self.split, version=self.version)
        body["tables"] = self.table_stats()
        typed = Manifest.model_validate(body)  # a section of the wrong shape fails here, before anything is written
        write_json_atomic(self.manifest_path(revision), body)
        write_json_atomic(self.manifest_path(), body)
        write_dataset_card(self, typed)
        return typed

    # ---- the single-writer lock --------------------------------------------------------------------------
    @contextmanager
    def writer_lock(self, wait: bool = False) -> Iterator[None]:
        """Hold the version's exclusive write lock for the duration of the block.

        Args:
            wait: block until the lock is free instead of failing.

        Raises:
            ConcurrentWriterError: another process holds the lock and ``wait`` is False.
        """
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        path = self.meta_dir / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                raise ConcurrentWriterError(
                    f"dataset version {self.partition} under {self.root} is being written by another run "
                    f"(pid {holder or '?'}); wait for it to finish"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)


def only_version(root: str | Path, dataset: str | None, split: str | None, version: str | None) -> DatasetVersion:
    """The one dataset version under ``root`` that matches (any field left None matches anything).

    Raises:
        ConfigError: none or several match.
    """
    root = local_path("output_root", root)
    found = [v for v in list_versions(root, dataset, split) if version in (None, v.version)]
    if len(found) != 1:
        listed = ", ".join(v.partition for v in found) or "none"
        raise ConfigError(
            f"{len(found)} dataset versions under {root} match (dataset={dataset}, split={split}, "
            f"version={version}): {listed}; name --dataset/--split/--version"
        )
    return found[0]


def list_versions(root: str | Path, dataset: str | None = None, split: str | None = None) -> list[DatasetVersion]:
    """Return every dataset version under ``root`` that has a plan or manifest."""
    out = []
    base = Path(root) / "_manifests"
    for d in sorted(base.glob("dataset=*/split=*/version=*")) if base.exists() else []:
        parts = dict(p.split("=", 1) for p in d.relative_to(base).parts)
        if (dataset is None or parts["dataset"] == dataset) and (split is None or parts["split"] == split):
            out.append(DatasetVersion(Path(root), parts["dataset"], parts["split"], parts["version"]))
    return out
