"""The committee stage of a dataset version: find pending shards, judge one shard, write the stage's report.

Reads what the synthesis stage wrote (``corpus``, ``queries``, ``pairs`` snapshots, plans, ``candidates`` shards)
and writes, per shard and under the same shard name, ``errors`` (``committee-<shard>``, only when there are some),
``judgements`` and, last, ``examples`` — the completion table: a shard whose ``examples`` file exists is done and
is skipped on a rerun. After all shards: vote statistics (JSON), the thought-gain histogram (PNG) and a
``committee`` section in the latest manifest.

:func:`run_committee` is the stage's one driver: the plain loop (``run_shards=run_in_order``) and the Prefect flow
``committee`` (``flows/committee.py``, one Prefect task per shard) differ only in the ``run_shards`` they pass.

Example:
    >>> dv = DatasetVersion(Path("data/runs/scifact"), "scifact", "train", "abc123")  # doctest: +SKIP
    >>> result = run_committee(dv, CommitteeConfig(use_ray=False))                       # doctest: +SKIP
    >>> result.shards_judged                                                             # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from o1embed.tasks.atomic import write_json_atomic
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.examples import judge_items
from o1embed.tasks.committee.inputs import CorpusIndex, build_items
from o1embed.tasks.committee.members import Members, start_members
from o1embed.tasks.committee.report import gain_histogram_png, vote_statistics
from o1embed.tasks.current_rows import read_current_examples, read_current_judgements
from o1embed.tasks.errors import ConfigError, InputError
from o1embed.tasks.paths import local_path
from o1embed.tasks.positives import positives_by_query
from o1embed.tasks.schemas import SCHEMAS
from o1embed.tasks.shards import DatasetVersion

log = logging.getLogger(__name__)


@dataclass
class StageInputs:
    """The snapshots every shard needs, loaded once."""

    corpus: CorpusIndex
    query_text: dict[str, str]
    positives: dict[str, list[str]]


def load_inputs(dv: DatasetVersion) -> StageInputs:
    """Load corpus, queries and pairs of ``dv``.

    Raises:
        InputError: the corpus or queries snapshot is missing or empty.
    """
    corpus = dv.read("corpus")
    if corpus.num_rows == 0:
        raise InputError(
            "no corpus snapshot (run the synthesis stage first)", file=str(dv.table_dir("corpus"))
        )
    queries = dv.read("queries", columns=["query_id", "text"]).to_pydict()
    if not queries["query_id"]:
        raise InputError(
            "no queries snapshot (run the synthesis stage first)", file=str(dv.table_dir("queries"))
        )
    return StageInputs(
        corpus=CorpusIndex.from_table(corpus),
        query_text=dict(zip(queries["query_id"], queries["text"], strict=True)),
        positives=positives_by_query(dv.read("pairs")),
    )


def planned_shards(dv: DatasetVersion) -> dict[str, list[str]]:
    """Every planned shard of every revision: shard name -> query ids."""
    out: dict[str, list[str]] = {}
    for _, plan in sorted(dv.plans().items()):
        out.update(plan.get("shards", {}))
    return out


def pending_shards(dv: DatasetVersion) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Split planned shards into (to judge, already judged, waiting for candidates)."""
    todo, done, waiting = {}, [], []
    for shard, qids in planned_shards(dv).items():
        if dv.has_shard("examples", shard):
            done.append(shard)
        elif dv.has_shard("candidates", shard):
            todo[shard] = qids
        else:
            waiting.append(shard)
    return todo, done, waiting


def check_config_matches(dv: DatasetVersion, config: CommitteeConfig) -> None:
    """Refuse to add shards judged under another committee configuration to the same version.

    Raises:
        ConfigError: the manifest's committee fingerprint differs and examples exist.
    """
    manifest = dv.manifest() or {}
    previous = (manifest.get("committee") or {}).get("fingerprint")
    accepted = {config.fingerprint(), config.legacy_fingerprint()}
    if previous and previous not in accepted and dv.files("examples"):
        raise ConfigError(
            f"examples of {dv.partition} were judged with committee config {previous}, not {config.fingerprint()}; "
            "write to another output root (or delete the examples/judgements tables) to change the committee"
        )


@dataclass
class JudgedShard:
    """What judging one shard wrote."""

    shard: str
    queries: int
    examples: int
    errors: int
    candidates: int
    seconds: float
    member_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class CommitteeResult:
    """What one committee run did and where its report went."""

    stats: dict
    stats_path: str
    histogram_path: str
    manifest_path: str
    revision: int
    shards: list[JudgedShard] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def shards_judged(self) -> list[str]:
        """The shards judged by this run."""
        return [s.shard for s in self.shards]


def run_shard(
    dv: DatasetVersion,
    shard: str,
    query_ids: list[str],
    inputs: StageInputs,
    members: Members,
    config: CommitteeConfig,
) -> JudgedShard:
    """Judge one shard and write its errors, judgements and examples (in that order)."""
    path = dv.shard_path("candidates", shard)
    try:
        candidates = pq.read_table(path, columns=["query_id", "candidate_idx", "thought"])
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read candidates shard: {exc}", file=str(path)) from exc
    items, errors = build_items(
        query_ids, inputs.query_text, inputs.positives, candidates, inputs.corpus, shard
    )
    result = judge_items(items, members, config, inputs.corpus, shard)
    errors += result.errors
    if errors:
        dv.write_shard("errors", f"committee-{shard}", pa.Table.from_pylist(errors, schema=SCHEMAS["errors"]))
    dv.write_shard("judgements", shard, result.judgements)
    dv.write_shard("examples", shard, result.examples)
    log.info(
        "committee %s: %d queries, %d candidates, %d examples, %d errors in %.1fs",
        shard,
        len(query_ids),
        result.n_candidates,
        result.examples.num_rows,
        len(errors),
        result.seconds,
    )
    return JudgedShard(
        shard,
        len(query_ids),
        result.examples.num_rows,
        len(errors),
        result.n_candidates,
        result.seconds,
        result.member_seconds,
    )


def report_paths(dv: DatasetVersion, revision: int) -> tuple[Path, Path]:
    """Where the vote statistics (JSON) and the gain histogram (PNG) of a revision go."""
    return (
        dv.meta_dir / f"committee-stats-{revision:04d}.json",
        dv.meta_dir / f"committee-gain-{revision:04d}.png",
    )


def finalize(
    dv: DatasetVersion, config: CommitteeConfig, member_info: list[dict], shard_summaries: list[JudgedShard]
) -> CommitteeResult:
    """Write the statistics, the histogram and the manifest's ``committee`` section (over the current examples)."""
    examples, judgements, errors = read_current_examples(dv), read_current_judgements(dv), dv.read("errors")
    stats = vote_statistics(examples, judgements, errors)
    planned = planned_shards(dv)
    stats["planned_queries"] = sum(len(v) for v in planned.values())
    manifest = dv.manifest() or {}
    plans = dv.plans()
    revision = int(manifest.get("revision", max(plans) if plans else 1))
    stats_path, png_path = report_paths(dv, revision)
    write_json_atomic(stats_path, stats)
    gain_histogram_png(examples, png_path)
    secs = sum(s.seconds for s in shard_summaries)
    cands = sum(s.candidates for s in shard_summaries)
    section = {
        "config": config.model_dump(mode="json"),
        "fingerprint": config.fingerprint(),
        "members": [{k: v for k, v in i.items() if k != "spec"} for i in member_info],
        "shards_judged_now": [s.shard for s in shard_summaries],
        "seconds_per_1000_candidates": (1000 * secs / cands) if cands else None,
        "stats": {
            k: stats[k]
            for k in (
                "examples",
                "errors",
                "policy",
                "vote_distribution",
                "member_agreement",
                "mean_gain_winner",
                "beats_query_fraction",
                "planned_queries",
            )
        },
        "stats_path": str(stats_path.relative_to(Path(dv.root))),
        "histogram_path": str(png_path.relative_to(Path(dv.root))),
    }
    body = {
        k: v for k, v in manifest.items() if k not in ("revision", "dataset", "split", "version", "tables")
    }
    body["committee"] = section
    manifest_path = dv.write_manifest(revision, body)
    return CommitteeResult(
        stats, str(stats_path), str(png_path), str(manifest_path), revision, shard_summaries
    )


JudgeShard = Callable[[str, list[str]], JudgedShard]
"""Judges one shard (name, query ids) with the run's inputs and members."""

ShardRunner = Callable[[dict[str, list[str]], JudgeShard], list[JudgedShard]]
"""Runs ``judge`` over every pending shard (name -> query ids) and returns what each wrote."""


def run_in_order(todo: dict[str, list[str]], judge: JudgeShard) -> list[JudgedShard]:
    """The plain :data:`ShardRunner`: one shard after another, in this process."""
    return [judge(shard, qids) for shard, qids in todo.items()]


def run_committee(
    dv: DatasetVersion,
    config: CommitteeConfig | None = None,
    members: Members | None = None,
    run_shards: ShardRunner = run_in_order,
) -> CommitteeResult:
    """Judge every pending shard of ``dv``, then finalize: the stage's one driver (the caller holds the lock).

    Args:
        dv: the dataset version.
        config: committee configuration (defaults: BM25 + MiniLM, Ray actors).
        members: already started members (else started here, only when there is work, and stopped at the end).
        run_shards: how the shards are run: :func:`run_in_order`, or the flow's one Prefect task per shard.

    Raises:
        ConfigError: the version's examples were judged under another committee configuration.
    """
    config = config or CommitteeConfig()
    local_path("output_root", dv.root)
    check_config_matches(dv, config)
    todo, done, waiting = pending_shards(dv)
    log.info(
        "%s: %d shards to judge, %d done, %d waiting for candidates",
        dv.partition,
        len(todo),
        len(done),
        len(waiting),
    )
    if waiting:
        log.warning("%d planned shards have no candidates yet: %s", len(waiting), waiting[:5])
    inputs = load_inputs(dv)
    own = members is None
    t0 = time.perf_counter()
    summaries: list[JudgedShard] = []
    if todo:
        members = members or start_members(config, inputs.corpus.doc_ids, inputs.corpus.texts)
    try:
        if todo:
            summaries = run_shards(
                todo, lambda shard, qids: run_shard(dv, shard, qids, inputs, members, config)
            )
        info = (
            members.info()
            if members is not None
            else (dv.manifest() or {}).get("committee", {}).get("members", [])
        )
    finally:
        if own and members is not None:
            members.stop()
    out = finalize(dv, config, info, summaries)
    return replace(out, skipped=done, waiting=waiting, seconds=time.perf_counter() - t0)
