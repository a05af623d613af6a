"""The committee's report reads the judgements one shard at a time and gives the figures of the whole table."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet  # noqa: F401 - pa.parquet
import pytest

from o1embed.tasks.committee.finalize import _STATS_COLUMNS
from o1embed.tasks.committee.report import vote_statistics
from o1embed.tasks.committee.stage import run_committee
from o1embed.tasks.current_rows import current_parts, newest_per_query, read_current_examples
from tests.tasks.committee.toy import SHARD0, SHARD1


def whole_table_statistics(dv) -> dict:
    examples = read_current_examples(dv, columns=_STATS_COLUMNS["examples"])
    judgements = newest_per_query(dv.read("judgements", columns=[*_STATS_COLUMNS["judgements"], "shard"]))
    return vote_statistics(examples, judgements, dv.read("errors", columns=_STATS_COLUMNS["errors"]))


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict) and k == "per_member":
            for m in a[k]:
                assert a[k][m] == pytest.approx(b[k][m])
        elif isinstance(a[k], float | dict):
            assert a[k] == pytest.approx(b[k]), k
        else:
            assert a[k] == b[k], k


def test_statistics_by_shard_equal_the_whole_tables(toy_dv, bm25_config):
    out = run_committee(toy_dv, bm25_config)
    assert [f.stem for f in toy_dv.files("judgements")] == [SHARD0, SHARD1]
    assert out.stats["per_member"] and out.stats["member_agreement"] is not None
    stats = {k: v for k, v in out.stats.items() if k != "planned_queries"}  # added by finalize
    assert_same(stats, whole_table_statistics(toy_dv))


def test_a_superseded_shard_is_left_out(toy_dv, bm25_config):
    run_committee(toy_dv, bm25_config)
    # SHARD0's queries judged again in a newer shard: only the newer rows are current
    old = pa.parquet.read_table(toy_dv.shard_path("judgements", SHARD0))
    newer = "part-r9999-00000"
    assert newer > SHARD0 and newer > SHARD1
    toy_dv.write_shard("judgements", newer, old.set_column(old.schema.get_field_index("shard"), "shard",
                                                          pa.array([newer] * old.num_rows)))  # fmt: skip
    parts = list(current_parts(toy_dv, "judgements", _STATS_COLUMNS["judgements"]))  # newest shard first
    shard1_rows = pa.parquet.read_table(toy_dv.shard_path("judgements", SHARD1)).num_rows
    assert [p.num_rows for p in parts] == [old.num_rows, shard1_rows, 0]
    assert parts[0].column_names == _STATS_COLUMNS["judgements"]
