"""Training data: deterministic per-step plan, negatives, dropout, refused rows."""

from __future__ import annotations

import pyarrow as pa
import pytest

from o1embed.tasks.errors import ConfigError
from o1embed.trainer.config import DataConfig
from o1embed.trainer.data import TrainingSet, load_tables
from tests.trainer.tiny import toy_tables


def make(**kw) -> TrainingSet:
    examples, corpus = toy_tables()
    args = {"negatives": 3, "seed": 0, "thought_dropout": 0.0} | kw
    return TrainingSet(examples, corpus, **args)


def test_plan_is_a_pure_function_of_the_step():
    a, b = make(), make()
    assert [i.doc_ids for i in a.global_batch(5, 4)] == [i.doc_ids for i in b.global_batch(5, 4)]
    assert [i.query_id for i in a.global_batch(0, 4)] != [i.query_id for i in a.global_batch(1, 4)]
    epoch0 = {i.query_id for s in range(4) for i in a.global_batch(s, 4)}
    assert len(epoch0) == 16  # one epoch covers every example once


def test_each_item_has_one_positive_and_n_distinct_negatives():
    ts = make(negatives=5)  # more than the 2-3 hard negatives in the table: filled from the corpus
    for item in ts.global_batch(0, 8):
        pos, *negs = item.doc_ids
        assert pos in item.positives
        assert len(negs) == 5 and len(set(negs)) == 5 and not set(negs) & item.positives


def test_thought_dropout_share():
    ts = make(thought_dropout=0.5)
    items = [i for s in range(40) for i in ts.global_batch(s, 4)]
    share = sum(i.dropped for i in items) / len(items)
    assert 0.3 < share < 0.7
    assert all(i.thought == "" for i in items if i.dropped)


def test_rows_without_a_positive_in_the_corpus_are_reported():
    examples, corpus = toy_tables()
    bad = pa.Table.from_pylist(
        [
            {
                "query_id": "x",
                "query": "lost",
                "thought": "",
                "positive_ids": ["nope"],
                "negative_ids": ["cell-0", "zz"],
            }
        ]
    )
    ts = TrainingSet(pa.concat_tables([examples, bad.cast(examples.schema)]), corpus, 3, 0, 0.0)
    assert len(ts) == 16
    reasons = [e["reason"] for e in ts.errors]
    assert any("no positive id" in r for r in reasons)
    assert ts.errors_table().num_rows == 1 and ts.errors[0]["line"] == 17


def test_too_few_examples_for_a_batch_is_a_clear_error():
    with pytest.raises(ConfigError, match="cannot fill one batch"):
        make().steps_per_epoch(64)


def test_load_tables_from_a_dataset_version(tmp_path):
    from o1embed.tasks.shards import DatasetVersion

    examples, corpus = toy_tables()
    dv = DatasetVersion(tmp_path, "toy", "train", "v1")
    from o1embed.tasks.schemas import EXAMPLES

    rows = [{**dict.fromkeys(EXAMPLES.names), **r, "shard": "part-r0001-00000"} for r in examples.to_pylist()]
    dv.write_shard("examples", "part-r0001-00000", pa.Table.from_pylist(rows, schema=EXAMPLES))
    dv.write_snapshot("corpus", corpus)
    dv.write_manifest(1, {})
    ex, co, source = load_tables(DataConfig(root=str(tmp_path), dataset="toy", split="train"))
    assert ex.num_rows == 16 and co.num_rows == 16 and source["version"] == "v1"


def test_an_edited_query_keeps_only_its_newest_example(tmp_path):
    from o1embed.tasks.schemas import EXAMPLES
    from o1embed.tasks.shards import DatasetVersion

    examples, corpus = toy_tables()
    dv = DatasetVersion(tmp_path, "toy", "train", "v1")
    rows = [{**dict.fromkeys(EXAMPLES.names), **r, "shard": "part-r0001-00000"} for r in examples.to_pylist()]
    edited = {**rows[0], "query": "the edited text", "shard": "part-r0002-00000"}
    dv.write_shard("examples", "part-r0001-00000", pa.Table.from_pylist(rows, schema=EXAMPLES))
    dv.write_shard("examples", "part-r0002-00000", pa.Table.from_pylist([edited], schema=EXAMPLES))
    dv.write_snapshot("corpus", corpus)
    dv.write_manifest(2, {})
    ex, _, _ = load_tables(DataConfig(root=str(tmp_path), dataset="toy", split="train"))
    assert ex.num_rows == 16 and ex["query_id"].to_pylist().count(rows[0]["query_id"]) == 1
    assert "the edited text" in ex["query"].to_pylist() and rows[0]["query"] not in ex["query"].to_pylist()
