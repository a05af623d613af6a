"""Lineage of a dataset version: its id, the code that wrote it, and the manifest of each finished revision."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from o1embed.tasks.hashing import stable_hash
from o1embed.tasks.ingest import IngestResult
from o1embed.tasks.manifest import LLMSection, Manifest, SourceSection
from o1embed.tasks.paths import REPO_ROOT
from o1embed.tasks.schemas import CANDIDATES, ERRORS
from o1embed.tasks.shards import DatasetVersion
from o1embed.tasks.synthesis.config import SynthesisConfig
from o1embed.tasks.synthesis.planning import RevisionPlan
from o1embed.tasks.versioning import rows_hash

REQUEST_MODE_KEY = "o1embed.request_mode"  # Parquet key-value metadata of every candidates shard


def code_version() -> str:
    """The git commit of the running code, or the package version outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if out.returncode == 0:
            return out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    from importlib.metadata import version

    return version("o1embed")


def version_id(cfg: SynthesisConfig, model: str) -> str:
    """The dataset version: a hash of everything that changes the synthesized rows (see :mod:`tasks.versioning`).

    The source data is *not* part of it, so an incremental refresh (new queries in the source) adds revisions to
    the same version; the manifest records the source checksums of each revision.
    """
    return rows_hash(cfg, 12, model=model)


def legacy_version_id(cfg: SynthesisConfig, model: str) -> str:
    """The version id written before 2026-12-01, which hashed ``shard_size`` too; such versions still resume."""
    spec = {
        "dataset": cfg.dataset_name,
        "split": cfg.split,
        "model": model,
        "prompt": cfg.prompt.template_hash(),
        "sampling": cfg.sampling.model_dump(),
        "k": cfg.candidates_per_query,
        "shard_size": cfg.shard_size,
        "max_queries": cfg.max_queries,
    }
    return stable_hash(spec, 12)


def _sum(table: pa.Table, column: str) -> int:
    return int(pc.sum(table[column]).as_py() or 0) if table.num_rows else 0


def revision_usage(dv: DatasetVersion, plan: RevisionPlan) -> dict:
    """Token sums of one revision's candidate and error rows, and how its requests were shaped, read from disk.

    Returns:
        ``{"candidates": {rows, cached, prompt_tokens, completion_tokens, finish_reasons}, "errors": {...},
        "prompt_tokens", "completion_tokens", "request_modes": [distinct modes of its shards]}``; cached rows'
        tokens were spent by an earlier run and are left out of the totals.
    """
    cols = ["prompt_tokens", "completion_tokens"]
    cand_files = [dv.shard_path("candidates", s) for s in plan.shards if dv.has_shard("candidates", s)]
    err_files = [dv.shard_path("errors", f"llm-{s}") for s in plan.shards if dv.has_shard("errors", f"llm-{s}")]
    cands = (
        ds.dataset([str(f) for f in cand_files], schema=CANDIDATES, format="parquet").to_table(
            columns=[*cols, "cached", "finish_reason"]
        )
        if cand_files
        else CANDIDATES.empty_table()
    )
    errs = (
        ds.dataset([str(f) for f in err_files], schema=ERRORS, format="parquet").to_table(columns=cols)
        if err_files
        else ERRORS.empty_table()
    )
    fresh = cands.filter(pc.invert(pc.fill_null(cands["cached"], False)))
    finish = cands["finish_reason"].value_counts().to_pylist() if cands.num_rows else []
    out = {
        "candidates": {
            "rows": cands.num_rows,
            "cached": cands.num_rows - fresh.num_rows,
            **{c: _sum(fresh, c) for c in cols},
            "finish_reasons": {str(f["values"]): f["counts"] for f in finish},
        },
        "errors": {"rows": errs.num_rows, **{c: _sum(errs, c) for c in cols}},
    }
    for c in cols:
        out[c] = out["candidates"][c] + out["errors"][c]
    modes = []
    for f in cand_files:
        meta = pq.read_schema(f).metadata or {}
        mode = json.loads(meta.get(REQUEST_MODE_KEY.encode(), b"null"))
        if mode is not None and mode not in modes:
            modes.append(mode)
    out["request_modes"] = modes
    return out


def finish_revision(
    dv: DatasetVersion,
    plan: RevisionPlan,
    cfg: SynthesisConfig,
    ingest: IngestResult,
    model: str,
    public_endpoint: str,
) -> Manifest:
    """Write the manifest of ``plan.revision`` (lineage + counts read from disk); call it last; return it.

    ``public_endpoint`` is :attr:`tasks.endpoint.Endpoint.public` (no secrets). The sections are built from the
    typed models of :mod:`tasks.manifest`; the committee's section of an earlier revision is carried over as it was
    written until the committee runs again.
    """
    previous = dv.manifest_model()
    usage = revision_usage(dv, plan)
    llm = LLMSection(
        model=model,
        endpoint=public_endpoint,
        prompt_template_hash=cfg.prompt.template_hash(),
        prompt=cfg.prompt.model_dump(),
        sampling=cfg.sampling.model_dump(),
        candidates_per_query=cfg.candidates_per_query,
        demo_policy=cfg.prompt.demo_policy,
        demo_seed_rule=(
            "sha256(seed:query_id:candidate_idx:-1); request seed: ...:attempt"
            if cfg.prompt.demo_policy == "per_candidate"
            else "sha256(seed:query_id:-1:-1); n=K request seed: sha256(seed:query_id:-2:attempt)"
        ),
        style_rule="styles[candidate_idx % len(styles)]",
        request_modes=usage.pop("request_modes"),  # once per revision, not per row
    )
    body = {
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": code_version(),
        "source": SourceSection(dir=str(Path(cfg.dataset_dir).resolve()), checksums=ingest.checksums).model_dump(),
        "llm": llm.model_dump(),
        "shard_size": cfg.shard_size,
        "revisions": sorted({*(previous.revisions if previous else []), plan.revision}),
        "usage": {**(previous.usage if previous else {}), str(plan.revision): usage},
    }
    if previous is not None and previous.committee is not None:  # survives a new revision until it reruns
        body["committee"] = previous.committee.model_dump(exclude_unset=True)
    return dv.write_manifest(plan.revision, body)
