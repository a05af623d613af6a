"""Candidate-thought synthesis: dataset versions, revision plans, and the work of one shard.

The flow (``flows/synthesize.py``) is thin wiring over these functions:

1. :func:`prepare_version` ingests the BEIR folder, fixes the dataset version and writes the ingest snapshots.
2. :func:`plan_revision` decides which shards this run must produce: the unfinished shards of an interrupted run
   (resume), or new shards for queries the version has not seen (incremental refresh), or nothing.
3. :func:`synthesize_shard` generates K candidates per query of one shard and writes the ``errors`` shard, then the
   ``candidates`` shard (whose presence marks the shard done).
4. :func:`finish_revision` writes the manifest, last.

Example:
    >>> cfg = SynthesisConfig(dataset_dir="data/beir/scifact", split="train", max_queries=50)
    >>> cfg.dataset_name
    'scifact'
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field, SecretStr

from o1embed.tasks.ingest import IngestResult, load_beir
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_client import LLMConfig, LLMFailure, SamplingConfig, ThoughtGenerator, ThoughtRequest
from o1embed.tasks.paths import REPO_ROOT, cache_root, runs_root
from o1embed.tasks.prompts import DemoPool, PromptConfig, build_messages, candidate_seed
from o1embed.tasks.ray_runtime import current_node
from o1embed.tasks.schemas import CANDIDATES, ERRORS, error_row
from o1embed.tasks.shards import DatasetVersion, shard_name

log = logging.getLogger(__name__)


class SynthesisConfig(BaseModel):
    """Everything the synthesize stage needs. Fields marked *version* change the dataset version."""

    dataset_dir: str = Field(..., description="BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/).")
    split: str = Field("train", description="qrels split whose (query, positive) pairs get thoughts.")
    dataset_name: str | None = Field(
        None, description="Name in the output partition; default: the folder name."
    )
    output_dir: str | None = Field(None, description="Output root; default: <data root>/runs/<dataset>.")
    candidates_per_query: int = Field(3, ge=1, description="K candidate thoughts per query (version).")
    shard_size: int = Field(256, ge=1, description="Queries per shard: one Prefect task per shard (version).")
    max_queries: int | None = Field(
        None, ge=1, description="Use only the first N judged queries (by id order); None: all."
    )
    prompt: PromptConfig = Field(default_factory=PromptConfig, description="Prompt layout (version).")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig, description="Sampling (version).")
    llm: LLMConfig = Field(default_factory=LLMConfig, description="Endpoint, retries, concurrency.")
    cache_dir: str | None = Field(None, description="LLM response cache; default: <data root>/cache/llm.")
    use_cache: bool = Field(True, description="Reuse cached successful responses.")
    parallel_shards: int = Field(2, ge=1, description="Shards in flight at once (Ray tasks).")

    def model_post_init(self, __context) -> None:
        if self.dataset_name is None:
            self.dataset_name = Path(self.dataset_dir).resolve().name
        if self.output_dir is None:
            self.output_dir = str(runs_root() / self.dataset_name)
        if self.cache_dir is None:
            self.cache_dir = str(cache_root() / "llm")


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
    """The dataset version: a hash of everything that changes the synthesized rows.

    The source data is *not* part of it, so an incremental refresh (new queries in the source) adds revisions to
    the same version; the manifest records the source checksums of each revision.
    """
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
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def judged_queries(ingest: IngestResult, max_queries: int | None) -> list[tuple[str, str]]:
    """Return (query_id, text_sha256) of the queries with at least one positive, sorted by id."""
    positives = ingest.positives()
    rows = [
        (q, h)
        for q, h in zip(
            ingest.queries["query_id"].to_pylist(), ingest.queries["text_sha256"].to_pylist(), strict=True
        )
        if q in positives
    ]
    rows.sort()
    return rows[:max_queries] if max_queries else rows


def prepare_version(cfg: SynthesisConfig, model: str) -> tuple[DatasetVersion, IngestResult]:
    """Ingest the source, fix the version, and write the ingest snapshots (corpus, queries, pairs, errors).

    Raises:
        InputError: the source is unusable (see :func:`tasks.ingest.load_beir`).
    """
    ingest = load_beir(cfg.dataset_dir, cfg.split)
    dv = DatasetVersion(Path(cfg.output_dir), cfg.dataset_name, cfg.split, version_id(cfg, model))
    return dv, ingest


def write_snapshots(dv: DatasetVersion, ingest: IngestResult) -> None:
    """Replace the version's ingest snapshots with the current source (called under the writer lock)."""
    dv.write_snapshot("corpus", ingest.corpus)
    dv.write_snapshot("queries", ingest.queries)
    dv.write_snapshot("pairs", ingest.pairs)
    dv.write_shard("errors", "ingest-snapshot", ingest.errors)


@dataclass
class RevisionPlan:
    """What one run must do: ``revision`` and its shards (name -> query ids); ``pending`` are not done yet."""

    revision: int
    shards: dict[str, list[str]]
    pending: list[str]
    resumed: bool


def plan_revision(dv: DatasetVersion, queries: list[tuple[str, str]], shard_size: int) -> RevisionPlan | None:
    """Decide the shards of this run; write the plan before any shard.

    Args:
        dv: the dataset version.
        queries: (query_id, text_sha256) of every judged source query, sorted.
        shard_size: queries per new shard.

    Returns:
        The plan, or None when every query is already covered by a finished revision.
    """
    plans = dv.plans()
    if plans:
        last = max(plans)
        manifest = dv.manifest()
        if manifest is None or manifest.get("revision", 0) < last:  # interrupted: finish the same plan
            shards = plans[last]["shards"]
            pending = [s for s in shards if not dv.has_shard("candidates", s)]
            return RevisionPlan(last, shards, pending, resumed=True)
    covered = {(q, h) for p in plans.values() for q, h in p["query_sha"].items()}
    new = [(q, h) for q, h in queries if (q, h) not in covered]
    if not new:
        return None
    revision = max(plans, default=0) + 1
    shards = {
        shard_name(revision, i // shard_size): [q for q, _ in new[i : i + shard_size]]
        for i in range(0, len(new), shard_size)
    }
    dv.write_plan(revision, {"revision": revision, "shards": shards, "query_sha": dict(new)})
    return RevisionPlan(revision, shards, list(shards), resumed=False)


@dataclass
class ShardSummary:
    """What one shard produced."""

    shard: str
    queries: int
    candidates: int
    errors: int
    requests: int
    cache_hits: int
    retries: int
    node: str = "local"


def build_requests(
    query_ids: list[str], ingest_tables: dict[str, pa.Table], cfg: SynthesisConfig
) -> list[ThoughtRequest]:
    """Build the K requests of each query, each with its own seeded demos.

    Args:
        query_ids: the shard's queries.
        ingest_tables: ``corpus``, ``queries`` and ``pairs`` snapshots.
        cfg: the synthesis config.

    Returns:
        One request per (query_id, candidate_idx), in that order.
    """
    queries = dict(zip(*(ingest_tables["queries"][c].to_pylist() for c in ("query_id", "text")), strict=True))
    corpus = ingest_tables["corpus"]
    doc_text = {
        d: f"{t} {x}".strip()
        for d, t, x in zip(*(corpus[c].to_pylist() for c in ("doc_id", "title", "text")), strict=True)
    }
    pairs = ingest_tables["pairs"].filter(pc.greater(ingest_tables["pairs"]["score"], 0))
    positives: dict[str, set[str]] = {}
    pool_pairs = []
    for q, d in zip(pairs["query_id"].to_pylist(), pairs["doc_id"].to_pylist(), strict=True):
        positives.setdefault(q, set()).add(d)
        pool_pairs.append((q, queries[q], d, doc_text[d]))
    pool = DemoPool(pool_pairs)
    out = []
    for qid in query_ids:
        for k in range(cfg.candidates_per_query):
            demos = pool.draw(
                qid,
                positives.get(qid, set()),
                cfg.prompt.num_demos,
                candidate_seed(cfg.sampling.seed, qid, k, -1),
            )
            out.append(
                ThoughtRequest(
                    qid,
                    k,
                    queries[qid],
                    build_messages(queries[qid], demos, cfg.prompt),
                    tuple(d.query_id for d in demos),
                )
            )
    return out


def synthesize_shard(
    dv: DatasetVersion,
    shard: str,
    query_ids: list[str],
    cfg: SynthesisConfig,
    base_url: str,
    model: str,
    api_key: SecretStr,
) -> ShardSummary:
    """Generate the candidates of one shard and write its ``errors`` and ``candidates`` shards.

    Every (query_id, candidate_idx) ends as exactly one candidate row or one error row.

    Raises:
        ConfigError: the endpoint refuses the key or the model (the shard is not written).
    """
    tables = {t: dv.read(t) for t in ("corpus", "queries", "pairs")}
    requests = build_requests(query_ids, tables, cfg)
    gen = ThoughtGenerator(
        base_url,
        model,
        api_key,
        cfg.sampling,
        cfg.llm,
        ResponseCache(cfg.cache_dir) if cfg.use_cache else None,
    )
    results = asyncio.run(gen.generate(requests))
    cands, errs = [], []
    for req, res in zip(requests, results, strict=True):
        assert (req.query_id, req.candidate_idx) == (res.query_id, res.candidate_idx)
        if isinstance(res, LLMFailure):
            errs.append(
                error_row(
                    "llm",
                    res.reason,
                    query_id=res.query_id,
                    candidate_idx=res.candidate_idx,
                    attempts=res.attempts,
                )
            )
        else:
            cands.append(
                {
                    "query_id": res.query_id,
                    "candidate_idx": res.candidate_idx,
                    "thought": res.thought,
                    "demo_query_ids": list(req.demo_query_ids),
                    "seed": res.seed,
                    "model": model,
                    "finish_reason": res.finish_reason,
                    "completion_tokens": res.completion_tokens,
                    "attempts": res.attempts,
                    "cached": res.cached,
                    "shard": shard,
                }
            )
    dv.write_shard("errors", f"llm-{shard}", pa.Table.from_pylist(errs, schema=ERRORS))
    dv.write_shard("candidates", shard, pa.Table.from_pylist(cands, schema=CANDIDATES))
    log.info("shard %s: %d candidates, %d errors, stats %s", shard, len(cands), len(errs), gen.stats)
    return ShardSummary(shard, len(query_ids), len(cands), len(errs), **gen.stats, node=current_node())


def public_endpoint(base_url: str | None) -> str:
    """The endpoint as it may be recorded: no user info, query or fragment (they can carry secrets)."""
    if not base_url or base_url == "embedded":
        return "embedded llama.cpp server"
    u = urlsplit(base_url)
    return urlunsplit((u.scheme, u.hostname + (f":{u.port}" if u.port else ""), u.path, "", ""))


def finish_revision(
    dv: DatasetVersion,
    plan: RevisionPlan,
    cfg: SynthesisConfig,
    ingest: IngestResult,
    model: str,
    base_url: str,
) -> dict:
    """Write the manifest of ``plan.revision`` (lineage + counts read from disk); call it last."""
    previous = dv.manifest() or {}
    body = {
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": code_version(),
        "source": {"dir": str(Path(cfg.dataset_dir).resolve()), "checksums": ingest.checksums},
        "llm": {
            "model": model,
            "endpoint": public_endpoint(base_url),
            "prompt_template_hash": cfg.prompt.template_hash(),
            "prompt": cfg.prompt.model_dump(),
            "sampling": cfg.sampling.model_dump(),
            "candidates_per_query": cfg.candidates_per_query,
            "demo_seed_rule": "sha256(seed:query_id:candidate_idx:-1); request seed: ...:attempt",
        },
        "shard_size": cfg.shard_size,
        "revisions": sorted({*previous.get("revisions", []), plan.revision}),
    }
    for key in ("committee",):  # later stages' sections survive a new revision until they rerun
        if key in previous:
            body[key] = previous[key]
    dv.write_manifest(plan.revision, body)
    return dv.manifest()
