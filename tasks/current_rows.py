"""The current rows of a dataset version: per query, only those of its newest shard.

A refresh re-synthesizes a query whose text changed (same id) in a later revision, whose shard names sort after
the earlier ones (``part-r<rev>-<idx>``). The earlier rows (candidates, judgements, the example) hold the old text
and are *superseded*: they stay on disk (shards are never rewritten) but no reader may count them. Every reader
of ``examples`` (vote statistics, the outside check, ``inspect``, the export, the trainer) goes through
:func:`read_current_examples`; readers of the per-candidate tables key their rows by shard as well, or read them
one shard at a time through :func:`current_parts`.

Example:
    >>> import pyarrow as pa
    >>> t = pa.table({"query_id": ["a", "b", "a"], "shard": ["part-r0001-00000"] * 2 + ["part-r0002-00000"]})
    >>> newest_per_query(t)["shard"].to_pylist()
    ['part-r0001-00000', 'part-r0002-00000']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:  # only annotations: shards writes the dataset card, which reads current rows
    from o1embed.tasks.shards import DatasetVersion


def newest_per_query(table: pa.Table) -> pa.Table:
    """Keep the rows whose shard is the newest shard of their query id, in their original order.

    Args:
        table: any table with ``query_id`` and ``shard`` columns (examples: one row per query and shard;
            judgements and candidates: several).

    Returns:
        ``table`` without superseded rows (the same object when nothing is superseded).
    """
    if table.num_rows == 0:
        return table
    keys = pl.from_arrow(table.select(["query_id", "shard"]))
    keep = keys.select((pl.col("shard") == pl.col("shard").max().over("query_id")).alias("keep"))["keep"]
    if keep.all():
        return table
    return table.filter(keep.to_arrow())


def current_parts(dv: DatasetVersion, table: str, columns: list[str]) -> Iterator[pa.Table]:
    """The current rows of a per-shard table of ``dv`` (as :func:`newest_per_query` keeps them), one shard file
    at a time, newest shard first.

    One pass over the files, newest first: a file's rows are current unless their query already had rows in a newer
    file. Each file holds one shard (:meth:`~o1embed.tasks.shards.DatasetVersion.write_shard`), named after it, so
    file order is shard order. The reader holds one file's rows and the ids of the queries met so far: its memory
    grows with the shard size, not with the rows of every query (a ``judgements`` table has 8 rows a query with two
    members and K = 3).

    Args:
        dv: the dataset version.
        table: a table written by shard (``judgements``, ``candidates``, ``examples``).
        columns: columns to return (``query_id`` is read in any case, returned only when asked for).
    """
    seen: set[str] = set()  # one membership test per row: linear in all rows, not files x queries
    wanted = list(dict.fromkeys([*columns, "query_id"]))
    for f in reversed(dv.files(table)):
        part = dv.read(table, columns=wanted, files=[f])
        ids = part.column("query_id").to_pylist()
        yield part.filter(pa.array([q not in seen for q in ids], type=pa.bool_())).select(columns)
        seen.update(ids)


def read_current_examples(dv: DatasetVersion, columns: list[str] | None = None) -> pa.Table:
    """Read the examples of ``dv``: the newest per query.

    Args:
        dv: the dataset version.
        columns: columns to return (``shard`` is read in any case, returned only when asked for).
    """
    wanted = None if columns is None else list(dict.fromkeys([*columns, "query_id", "shard"]))
    examples = newest_per_query(dv.read("examples", columns=wanted))
    return examples if columns is None else examples.select(columns)


def candidate_thoughts(dv: DatasetVersion) -> dict[tuple[str, str, int], str]:
    """Every candidate thought of ``dv`` keyed by ``(query_id, shard, candidate_idx)``.

    The shard is part of the key: after an edit the same ``(query_id, candidate_idx)`` names one thought in the
    old shard and another in the new one; an example (which carries its shard) must meet its own.
    """
    c = dv.read("candidates", columns=["query_id", "shard", "candidate_idx", "thought"]).to_pydict()
    keys = zip(c["query_id"], c["shard"], c["candidate_idx"], strict=True)
    return dict(zip(keys, c["thought"], strict=True))
