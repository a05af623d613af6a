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
import json
import logging
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pydantic import BaseModel, Field, SecretStr

from o1embed.tasks.errors import O1EmbedError
from o1embed.tasks.hashing import stable_hash
from o1embed.tasks.ingest import IngestResult, load_beir
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_client import LLMConfig, LLMFailure, SamplingConfig, ThoughtGenerator, ThoughtRequest
from o1embed.tasks.paths import REPO_ROOT, cache_root, runs_root
from o1embed.tasks.prompts import DemoPool, PromptConfig, build_messages, candidate_seed
from o1embed.tasks.ray_runtime import current_node
from o1embed.tasks.schemas import CANDIDATES, ERRORS, SCHEMAS, error_row
from o1embed.tasks.shard_progress import ProgressWriter, progress_path
from o1embed.tasks.shards import DatasetVersion, shard_name
from o1embed.tasks.versioning import RUN_ONLY, rows_hash

log = logging.getLogger(__name__)


class SynthesisConfig(BaseModel):
    """Everything the synthesize stage needs. Fields declared ``RUN_ONLY`` are left out of the dataset version."""

    dataset_dir: str = Field(
        ...,
        description="BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/).",
        json_schema_extra=RUN_ONLY,
    )
    split: str = Field("train", description="qrels split whose (query, positive) pairs get thoughts.")
    dataset_name: str | None = Field(
        None, description="Name in the output partition; default: the folder name."
    )
    output_dir: str | None = Field(
        None, description="Output root; default: <data root>/runs/<dataset>.", json_schema_extra=RUN_ONLY
    )
    candidates_per_query: int = Field(3, ge=1, description="K candidate thoughts per query (version).")
    shard_size: int = Field(
        256,
        ge=1,
        description="Queries per shard: one Prefect task per shard (run only: not part of the version).",
        json_schema_extra=RUN_ONLY,
    )
    max_queries: int | None = Field(
        None, ge=1, description="Use only the first N judged queries (by id order); None: all."
    )
    prompt: PromptConfig = Field(default_factory=PromptConfig, description="Prompt layout (version).")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig, description="Sampling (version).")
    llm: LLMConfig = Field(
        default_factory=LLMConfig, description="Endpoint, retries, concurrency.", json_schema_extra=RUN_ONLY
    )
    cache_dir: str | None = Field(
        None, description="LLM response cache; default: <data root>/cache/llm.", json_schema_extra=RUN_ONLY
    )
    use_cache: bool = Field(
        True, description="Reuse cached successful responses.", json_schema_extra=RUN_ONLY
    )
    parallel_shards: int = Field(
        2, ge=1, description="Shards in flight at once (Ray tasks).", json_schema_extra=RUN_ONLY
    )

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
    """What one shard produced. ``deadline_hits``, ``truncated`` and ``extra_choices`` count an endpoint out of
    contract: attempts cut off by the total deadline, thoughts cut to ``max_tokens``, and responses with more
    choices than asked for (see :mod:`o1embed.tasks.llm_client`)."""

    shard: str
    queries: int
    candidates: int
    errors: int
    requests: int
    cache_hits: int
    retries: int
    n_requests: int = 0
    deadline_hits: int = 0
    truncated: int = 0
    extra_choices: int = 0
    node: str = "local"


@dataclass
class DemoInputs:
    """What every shard's requests draw on: query texts, positives per query, and the demo pool."""

    queries: dict[str, str]
    positives: dict[str, set[str]]
    pool: DemoPool

    @classmethod
    def from_tables(cls, ingest_tables: dict[str, pa.Table]) -> DemoInputs:
        """Build from the ``corpus`` (at least the pairs' documents), ``queries`` and ``pairs`` tables."""
        queries = dict(
            zip(*(ingest_tables["queries"][c].to_pylist() for c in ("query_id", "text")), strict=True)
        )
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
        return cls(queries, positives, DemoPool(pool_pairs))


_DEMO_INPUTS: dict[
    tuple, DemoInputs
] = {}  # per worker process: the last version's inputs, reused by its shards


def demo_inputs(dv: DatasetVersion) -> DemoInputs:
    """:class:`DemoInputs` of ``dv``'s snapshots, built once per process and snapshot state (not once per shard).

    A shard's cost would otherwise grow with the whole version's queries, so a run's with their square.
    """
    files = [f for t in ("corpus", "queries", "pairs") for f in dv.files(t)]
    key = (str(dv.root), dv.partition, *((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    if key not in _DEMO_INPUTS:
        _DEMO_INPUTS.clear()
        _DEMO_INPUTS[key] = DemoInputs.from_tables(shard_inputs(dv))
    return _DEMO_INPUTS[key]


def build_requests(
    query_ids: list[str],
    ingest_tables: dict[str, pa.Table] | DemoInputs,
    cfg: SynthesisConfig,
) -> list[ThoughtRequest]:
    """Build the K requests of each query, with seeded demos per candidate or per query (``prompt.demo_policy``).

    Args:
        query_ids: the shard's queries.
        ingest_tables: ``corpus``, ``queries`` and ``pairs`` snapshots (the corpus may be cut to the documents of
            the pairs: no other document is read), or :class:`DemoInputs` built from them.
        cfg: the synthesis config.

    Returns:
        One request per (query_id, candidate_idx), in that order. The demos, seed and style of a request depend
        only on its key, never on K, so a run with a larger K reuses the cached responses of a smaller one. With
        ``per_query`` the K requests of a query share one message list (when its styles do not differ).
    """
    inputs = ingest_tables if isinstance(ingest_tables, DemoInputs) else DemoInputs.from_tables(ingest_tables)
    queries, positives, pool = inputs.queries, inputs.positives, inputs.pool
    out = []
    shared = cfg.prompt.demo_policy == "per_query"
    for qid in query_ids:
        for k in range(cfg.candidates_per_query):
            style = cfg.prompt.style_for(k)
            if k == 0 or not shared:
                demos = pool.draw(
                    qid,
                    positives.get(qid, set()),
                    cfg.prompt.num_demos,
                    candidate_seed(cfg.sampling.seed, qid, -1 if shared else k, -1),
                )
            messages = build_messages(queries[qid], demos, cfg.prompt, style)
            out.append(
                ThoughtRequest(
                    qid,
                    k,
                    queries[qid],
                    messages,
                    tuple(d.query_id for d in demos),
                    style,
                    cfg.prompt.task_for(style),
                )
            )
    return out


def shard_inputs(dv: DatasetVersion) -> dict[str, pa.Table]:
    """The ingest tables a shard needs: queries, pairs, and only the corpus documents the pairs name.

    The corpus is scanned with a filter, so a shard never holds the whole corpus.
    """
    pairs = dv.read("pairs")
    docs = pc.unique(pairs.filter(pc.greater(pairs["score"], 0))["doc_id"])
    files = [str(f) for f in dv.files("corpus")]
    corpus = (
        ds.dataset(files, schema=SCHEMAS["corpus"], format="parquet").to_table(
            filter=pc.field("doc_id").isin(docs)
        )
        if files
        else SCHEMAS["corpus"].empty_table()
    )
    return {"corpus": corpus, "queries": dv.read("queries", columns=["query_id", "text"]), "pairs": pairs}


def request_mode(cfg: SynthesisConfig, gen: ThoughtGenerator | None = None) -> dict:
    """How the candidates' requests were shaped (recorded in each candidates shard and, once, in the manifest)."""
    k = cfg.candidates_per_query
    if cfg.prompt.demo_policy != "per_query" or k == 1:
        return {"demo_policy": cfg.prompt.demo_policy, "n": 1}
    if gen is not None and gen.n_honoured is False:
        return {"demo_policy": "per_query", "n": 1, "n_fallback": gen.n_fallback}
    return {"demo_policy": "per_query", "n": k}


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
    requests = build_requests(query_ids, demo_inputs(dv), cfg)
    gen = ThoughtGenerator(
        base_url,
        model,
        api_key,
        cfg.sampling,
        cfg.llm,
        ResponseCache(cfg.cache_dir) if cfg.use_cache else None,
        use_n=request_mode(cfg)["n"] > 1,
    )
    progress = ProgressWriter(progress_path(dv, "llm", shard), total=len(requests))
    tally = {"done": 0, "candidates": 0, "errors": 0}

    def on_result(res) -> None:
        tally["done"] += 1
        tally["errors" if isinstance(res, LLMFailure) else "candidates"] += 1
        progress.update(**tally, **gen.stats)

    gen.on_result = on_result
    results = asyncio.run(gen.generate(requests))
    progress.update(force=True, **tally, **gen.stats)
    cands, errs = [], []
    for req, res in zip(requests, results, strict=True):
        if (req.query_id, req.candidate_idx) != (res.query_id, res.candidate_idx):
            raise O1EmbedError(f"result {res.query_id}/{res.candidate_idx} answers request {req.query_id}")
        if isinstance(res, LLMFailure):
            errs.append(
                error_row(
                    "llm",
                    res.reason,
                    query_id=res.query_id,
                    candidate_idx=res.candidate_idx,
                    attempts=res.attempts,
                    prompt_tokens=res.prompt_tokens,
                    completion_tokens=res.completion_tokens,
                )
            )
        else:
            cands.append(
                {
                    "query_id": res.query_id,
                    "candidate_idx": res.candidate_idx,
                    "thought": res.thought,
                    "demo_query_ids": list(req.demo_query_ids),
                    "style": req.style,
                    "seed": res.seed,
                    "model": model,
                    "finish_reason": res.finish_reason,
                    "completion_tokens": res.completion_tokens,
                    "attempts": res.attempts,
                    "cached": res.cached,
                    "shard": shard,
                    "prompt_tokens": res.prompt_tokens,
                    "mean_logprob": res.mean_logprob,
                }
            )
    dv.write_shard("errors", f"llm-{shard}", pa.Table.from_pylist(errs, schema=ERRORS))
    mode = {REQUEST_MODE_KEY: json.dumps(request_mode(cfg, gen), sort_keys=True)}
    dv.write_shard("candidates", shard, pa.Table.from_pylist(cands, schema=CANDIDATES), metadata=mode)
    log.info("shard %s: %d candidates, %d errors, stats %s", shard, len(cands), len(errs), gen.stats)
    return ShardSummary(shard, len(query_ids), len(cands), len(errs), **gen.stats, node=current_node())


REQUEST_MODE_KEY = "o1embed.request_mode"  # Parquet key-value metadata of every candidates shard


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
    err_files = [
        dv.shard_path("errors", f"llm-{s}") for s in plan.shards if dv.has_shard("errors", f"llm-{s}")
    ]
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
) -> dict:
    """Write the manifest of ``plan.revision`` (lineage + counts read from disk); call it last.

    ``public_endpoint`` is :attr:`tasks.endpoint.Endpoint.public` (no secrets).
    """
    previous = dv.manifest() or {}
    body = {
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": code_version(),
        "source": {"dir": str(Path(cfg.dataset_dir).resolve()), "checksums": ingest.checksums},
        "llm": {
            "model": model,
            "endpoint": public_endpoint,
            "prompt_template_hash": cfg.prompt.template_hash(),
            "prompt": cfg.prompt.model_dump(),
            "sampling": cfg.sampling.model_dump(),
            "candidates_per_query": cfg.candidates_per_query,
            "demo_policy": cfg.prompt.demo_policy,
            "demo_seed_rule": (
                "sha256(seed:query_id:candidate_idx:-1); request seed: ...:attempt"
                if cfg.prompt.demo_policy == "per_candidate"
                else "sha256(seed:query_id:-1:-1); n=K request seed: sha256(seed:query_id:-2:attempt)"
            ),
            "style_rule": "styles[candidate_idx % len(styles)]",
        },
        "shard_size": cfg.shard_size,
        "revisions": sorted({*previous.get("revisions", []), plan.revision}),
    }
    usage = revision_usage(dv, plan)
    body["llm"]["request_modes"] = usage.pop("request_modes")  # once per revision, not per row
    body["usage"] = {**previous.get("usage", {}), str(plan.revision): usage}
    for key in ("committee",):  # later stages' sections survive a new revision until they rerun
        if key in previous:
            body[key] = previous[key]
    dv.write_manifest(plan.revision, body)
    return dv.manifest()
