"""Arrow schemas of every table o1embed writes.

Tables are id-based in the style of tevatron: examples name documents by id, text lives once in ``corpus``.
Every table is stored hive-partitioned by ``dataset``, ``split`` and ``version`` (see :mod:`tasks.shards`);
those three columns come from the folder names, not from the files.

Example:
    >>> from o1embed.tasks.schemas import SCHEMAS
    >>> SCHEMAS["candidates"].names[:2]
    ['query_id', 'candidate_idx']
"""

from __future__ import annotations

import pyarrow as pa

CORPUS = pa.schema([("doc_id", pa.string()), ("title", pa.string()), ("text", pa.string())])

QUERIES = pa.schema([("query_id", pa.string()), ("text", pa.string()), ("text_sha256", pa.string())])

# One row per judged (query, document) pair with score > 0.
PAIRS = pa.schema([("query_id", pa.string()), ("doc_id", pa.string()), ("score", pa.int32())])

# Rows that could not be used, with where and why. `stage` says which step refused them.
ERRORS = pa.schema(
    [
        ("stage", pa.string()),  # ingest | llm | committee | ...
        ("file", pa.string()),
        ("line", pa.int64()),
        ("field", pa.string()),
        ("query_id", pa.string()),
        ("candidate_idx", pa.int32()),
        ("reason", pa.string()),
        ("attempts", pa.int32()),
        ("raw", pa.string()),
        ("prompt_tokens", pa.int64()),  # tokens spent on this key over all attempts (llm rows; null: unknown)
        ("completion_tokens", pa.int64()),
    ]
)

# One row per kept candidate thought, keyed by (query_id, candidate_idx). Tokens are those spent on the key over
# all its attempts (an n=K request's usage divided among its choices); finish_reason "length": cut at max_tokens.
CANDIDATES = pa.schema(
    [
        ("query_id", pa.string()),
        ("candidate_idx", pa.int32()),
        ("thought", pa.string()),
        ("demo_query_ids", pa.list_(pa.string())),
        (
            "style",
            pa.string(),
        ),  # the prompt style (PromptConfig.styles); null in shards written before styles
        ("seed", pa.int64()),
        ("model", pa.string()),
        ("finish_reason", pa.string()),
        ("completion_tokens", pa.int32()),
        ("attempts", pa.int32()),
        ("cached", pa.bool_()),
        ("shard", pa.string()),
        ("prompt_tokens", pa.int64()),
        ("mean_logprob", pa.float32()),  # mean token log-prob of the kept output (null unless requested)
    ]
)

# Committee: one row per (query, candidate, member). candidate_idx = -1 is the query-only baseline.
JUDGEMENTS = pa.schema(
    [
        ("query_id", pa.string()),
        ("candidate_idx", pa.int32()),
        ("member", pa.string()),
        ("best_positive_id", pa.string()),
        ("rank", pa.int32()),  # 1-based rank of the best positive in the member's pool
        ("score", pa.float32()),  # the member's score of that positive
        ("reciprocal_rank", pa.float32()),
        ("gain", pa.float32()),  # reciprocal_rank - query-only reciprocal_rank (0 for the baseline row)
        ("vote", pa.bool_()),  # this member voted for this candidate
        (
            "pool_size",
            pa.int32(),
        ),  # documents the positive was ranked among (the corpus, or top-N + positives)
        ("shard", pa.string()),
    ]
)

# Training examples: what the trainer reads. Join with corpus on doc_id for text.
EXAMPLES = pa.schema(
    [
        ("query_id", pa.string()),
        ("query", pa.string()),
        ("positive_ids", pa.list_(pa.string())),
        ("thought", pa.string()),  # "" means a query-only example (policy or no usable candidate)
        ("candidate_idx", pa.int32()),  # -1 when thought == ""
        ("winner_idx", pa.int32()),  # the committee's winner before the no-gain policy; -1: no candidates
        ("votes", pa.int32()),  # the winner's votes
        ("margin", pa.float32()),  # winner's votes minus runner-up's votes (soft vote: soft totals)
        ("gain", pa.float32()),  # mean thought gain across members of the chosen candidate (0 for query-only)
        ("beats_query", pa.bool_()),  # the winner beats the bare query for the committee (mean gain > 0)
        # kept | kept_no_gain (policy keep) | query_only (no gain) | no_candidates; dropped queries are errors rows
        ("policy", pa.string()),
        ("negative_ids", pa.list_(pa.string())),
        (
            "negative_scores",
            pa.list_(pa.float32()),
        ),  # reciprocal-rank-fusion scores of the committee's search
        ("candidate_idxs", pa.list_(pa.int32())),  # every judged candidate (details: judgements table)
        ("candidate_votes", pa.list_(pa.int32())),
        ("candidate_gains", pa.list_(pa.float32())),  # mean gain across members per candidate
        ("shard", pa.string()),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "corpus": CORPUS,
    "queries": QUERIES,
    "pairs": PAIRS,
    "errors": ERRORS,
    "candidates": CANDIDATES,
    "judgements": JUDGEMENTS,
    "examples": EXAMPLES,
}


def error_row(stage: str, reason: str, **fields) -> dict:
    """Build one ``errors`` row; every column not given is null.

    Example:
        >>> error_row("ingest", "duplicate _id", file="corpus.jsonl", line=7)["line"]
        7
    """
    row = dict.fromkeys(ERRORS.names)
    row.update(stage=stage, reason=reason, **fields)
    return row
