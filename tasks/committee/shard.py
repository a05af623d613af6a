"""Judge one committee shard: the stage's inputs (loaded once per run) and the work of one shard.

A shard's ``errors`` (``committee-<shard>``, only when there are some), ``judgements`` and, last, ``examples`` are
written under the synthesis stage's shard name; ``examples`` is the completion table (a shard whose ``examples``
file exists is done).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.examples import judge_items
from o1embed.tasks.committee.inputs import STAGE, CorpusIndex, build_items
from o1embed.tasks.committee.members import Members
from o1embed.tasks.errors import InputError
from o1embed.tasks.positives import positives_by_query
from o1embed.tasks.schemas import SCHEMAS
from o1embed.tasks.shard_progress import ProgressWriter, progress_path
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
        raise InputError("no corpus snapshot (run the synthesis stage first)", file=str(dv.table_dir("corpus")))
    queries = dv.read("queries", columns=["query_id", "text"]).to_pydict()
    if not queries["query_id"]:
        raise InputError("no queries snapshot (run the synthesis stage first)", file=str(dv.table_dir("queries")))
    return StageInputs(
        corpus=CorpusIndex.from_table(corpus),
        query_text=dict(zip(queries["query_id"], queries["text"], strict=True)),
        positives=positives_by_query(dv.read("pairs")),
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
    items, errors = build_items(query_ids, inputs.query_text, inputs.positives, candidates, inputs.corpus, shard)
    # Live counters for the flow that waits on this shard (it may run in a Ray task on another machine).
    progress = ProgressWriter(progress_path(dv, STAGE, shard), total=len(query_ids))
    progress.update(force=True, errors=len(errors))

    def on_batch(queries: int, candidates: int) -> None:
        progress.update(done=queries, candidates=candidates)

    result = judge_items(items, members, config, inputs.corpus, shard, on_batch)
    progress.update(force=True, done=len(query_ids), errors=len(errors) + len(result.errors))
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
