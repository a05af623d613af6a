"""The committee stage of a dataset version: find pending shards, judge one shard, write the stage's report.

Reads what the synthesis stage wrote (``corpus``, ``queries``, ``pairs`` snapshots, plans, ``candidates`` shards)
and writes, per shard and under the same shard name, ``errors`` (``committee-<shard>``, only when there are some),
``judgements`` and, last, ``examples`` — the completion table: a shard whose ``examples`` file exists is done and
is skipped on a rerun. After all shards: vote statistics (JSON), the thought-gain histogram (PNG) and a
``committee`` section in the latest manifest.

Example:
    >>> dv = DatasetVersion(Path("data/runs/scifact"), "scifact", "train", "abc123")  # doctest: +SKIP
    >>> summary = run_committee(dv, CommitteeConfig(use_ray=False))                      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.examples import judge_items
from o1embed.tasks.committee.inputs import CorpusIndex, build_items, positives_by_query
from o1embed.tasks.committee.members import Members, start_members
from o1embed.tasks.committee.report import gain_histogram_png, vote_statistics
from o1embed.tasks.errors import ConfigError, InputError
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


def run_shard(
    dv: DatasetVersion,
    shard: str,
    query_ids: list[str],
    inputs: StageInputs,
    members: Members,
    config: CommitteeConfig,
) -> dict:
    """Judge one shard and write its errors, judgements and examples (in that order).

    Returns:
        ``{"shard", "queries", "examples", "errors", "candidates", "seconds", "member_seconds"}``.
    """
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
    return {
        "shard": shard,
        "queries": len(query_ids),
        "examples": result.examples.num_rows,
        "errors": len(errors),
        "candidates": result.n_candidates,
        "seconds": result.seconds,
        "member_seconds": result.member_seconds,
    }


def report_paths(dv: DatasetVersion, revision: int) -> tuple[Path, Path]:
    """Where the vote statistics (JSON) and the gain histogram (PNG) of a revision go."""
    return (
        dv.meta_dir / f"committee-stats-{revision:04d}.json",
        dv.meta_dir / f"committee-gain-{revision:04d}.png",
    )


def finalize(
    dv: DatasetVersion, config: CommitteeConfig, member_info: list[dict], shard_summaries: list[dict]
) -> dict:
    """Write the statistics, the histogram and the manifest's ``committee`` section.

    Returns:
        ``{"stats", "stats_path", "histogram_path", "manifest_path", "revision"}``.
    """
    from o1embed.tasks.atomic import write_json_atomic

    examples, judgements, errors = dv.read("examples"), dv.read("judgements"), dv.read("errors")
    stats = vote_statistics(examples, judgements, errors)
    planned = planned_shards(dv)
    stats["planned_queries"] = sum(len(v) for v in planned.values())
    manifest = dv.manifest() or {}
    plans = dv.plans()
    revision = int(manifest.get("revision", max(plans) if plans else 1))
    stats_path, png_path = report_paths(dv, revision)
    write_json_atomic(stats_path, stats)
    gain_histogram_png(examples, png_path)
    secs = sum(s["seconds"] for s in shard_summaries)
    cands = sum(s["candidates"] for s in shard_summaries)
    section = {
        "config": config.model_dump(mode="json"),
        "fingerprint": config.fingerprint(),
        "members": [{k: v for k, v in i.items() if k != "spec"} for i in member_info],
        "shards_judged_now": [s["shard"] for s in shard_summaries],
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
    return {
        "stats": stats,
        "stats_path": str(stats_path),
        "histogram_path": str(png_path),
        "manifest_path": str(manifest_path),
        "revision": revision,
    }


def run_committee(
    dv: DatasetVersion, config: CommitteeConfig | None = None, members: Members | None = None
) -> dict:
    """Judge every pending shard of ``dv`` in this process, one after another (no Prefect), then finalize.

    The Prefect flow ``committee`` (``flows/committee.py``) does the same with one Prefect task per shard.

    Args:
        dv: the dataset version.
        config: committee configuration (defaults: BM25 + MiniLM, Ray actors).
        members: already started members (else started here and stopped at the end).

    Returns:
        :func:`finalize`'s dict plus ``shards`` (per-shard summaries), ``skipped`` and ``waiting``.
    """
    config = config or CommitteeConfig()
    check_config_matches(dv, config)
    todo, done, waiting = pending_shards(dv)
    if waiting:
        log.warning("%d planned shards have no candidates yet: %s", len(waiting), waiting[:5])
    inputs = load_inputs(dv)
    own = members is None
    t0 = time.perf_counter()
    summaries = []
    if todo:
        members = members or start_members(config, inputs.corpus.doc_ids, inputs.corpus.texts)
    try:
        for shard, qids in todo.items():
            summaries.append(run_shard(dv, shard, qids, inputs, members, config))
        info = (
            members.info()
            if members is not None
            else (dv.manifest() or {}).get("committee", {}).get("members", [])
        )
    finally:
        if own and members is not None:
            members.stop()
    out = finalize(dv, config, info, summaries)
    out.update(shards=summaries, skipped=done, waiting=waiting, seconds=time.perf_counter() - t0)
    return out
