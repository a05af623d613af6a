"""The ingest snapshots of a dataset version: fixing the version from the source, writing and reading them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from o1embed.tasks.ingest import IngestResult, load_beir
from o1embed.tasks.schemas import SCHEMAS
from o1embed.tasks.shards import DatasetVersion
from o1embed.tasks.synthesis.config import SynthesisConfig
from o1embed.tasks.synthesis.lineage import legacy_version_id, version_id


def prepare_version(cfg: SynthesisConfig, model: str) -> tuple[DatasetVersion, IngestResult]:
    """Ingest the source and fix the version (:func:`write_snapshots` writes the snapshots, under the lock).

    A version written under its :func:`legacy_version_id` (and none under the current id) is the one returned.

    Raises:
        InputError: the source is unusable (see :func:`tasks.ingest.load_beir`).
    """
    ingest = load_beir(cfg.dataset_dir, cfg.split)
    dv = DatasetVersion(Path(cfg.output_dir), cfg.dataset_name, cfg.split, version_id(cfg, model))
    legacy = DatasetVersion(dv.root, dv.dataset, dv.split, legacy_version_id(cfg, model))
    if not dv.meta_dir.exists() and legacy.meta_dir.exists():
        dv = legacy
    return dv, ingest


def write_snapshots(dv: DatasetVersion, ingest: IngestResult) -> None:
    """Replace the version's ingest snapshots with the current source (called under the writer lock)."""
    dv.write_snapshot("corpus", ingest.corpus)
    dv.write_snapshot("queries", ingest.queries)
    dv.write_snapshot("pairs", ingest.pairs)
    dv.write_shard("errors", "ingest-snapshot", ingest.errors)


def shard_inputs(dv: DatasetVersion) -> dict[str, pa.Table]:
    """The ingest tables a shard needs: queries, pairs, and only the corpus documents the pairs name.

    The corpus is scanned with a filter, so a shard never holds the whole corpus.
    """
    pairs = dv.read("pairs")
    docs = pc.unique(pairs.filter(pc.greater(pairs["score"], 0))["doc_id"])
    files = [str(f) for f in dv.files("corpus")]
    corpus = (
        ds.dataset(files, schema=SCHEMAS["corpus"], format="parquet").to_table(filter=pc.field("doc_id").isin(docs))
        if files
        else SCHEMAS["corpus"].empty_table()
    )
    return {"corpus": corpus, "queries": dv.read("queries", columns=["query_id", "text"]), "pairs": pairs}
