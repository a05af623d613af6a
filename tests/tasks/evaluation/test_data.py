from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from o1embed.tasks.errors import ConfigError, InputError
from o1embed.tasks.evaluation.data import list_bundled, load_eval_data, read_query_ids, resolve_datasets
from tests.tasks.evaluation.toy import write_toy_beir


def test_loads_judged_queries_in_file_order(tmp_path):
    data = load_eval_data(write_toy_beir(tmp_path), "test")
    assert data.query_ids == [f"q{i}" for i in range(8)]  # q8, q9 are unjudged
    assert data.qrels["q0"] == {"d0a": 2, "d0b": 1, "d1a": 0}
    assert len(data.doc_ids) == data.n_docs_full == 20
    assert data.doc_strings()[1] == "a passing mention of a apple among other things"  # empty title stripped
    assert data.ignore_identical_ids is False


def test_max_queries_and_corpus_sample_keep_positives(tmp_path):
    folder = write_toy_beir(tmp_path)
    data = load_eval_data(folder, "test", max_queries=3, corpus_sample=4, seed=1)
    assert data.query_ids == ["q0", "q1", "q2"] and data.n_queries_full == 8
    positives = {d for q in data.query_ids for d, g in data.qrels[q].items() if g > 0}
    assert positives <= set(data.doc_ids)
    assert len(data.doc_ids) == len(positives) + 4
    again = load_eval_data(folder, "test", max_queries=3, corpus_sample=4, seed=1)
    assert again.doc_ids == data.doc_ids  # seeded


def test_listed_query_ids_choose_the_evaluated_queries(tmp_path):
    folder = write_toy_beir(tmp_path)
    ids = tmp_path / "holdout.parquet"
    pq.write_table(pa.table({"query_id": ["q5", "q2"], "query": ["x", "y"]}), ids)
    data = load_eval_data(folder, "test", query_ids=read_query_ids(ids))
    assert data.query_ids == ["q2", "q5"] and set(data.qrels) == {"q2", "q5"}  # file order of queries.jsonl
    with pytest.raises(ConfigError, match=r"1 listed query ids are not judged.*'q9'"):
        load_eval_data(folder, "test", query_ids=["q1", "q9"])  # q9 has no judgement
    pq.write_table(pa.table({"id": ["q1"]}), tmp_path / "bad.parquet")
    with pytest.raises(InputError, match="bad.parquet.*no query_id column"):
        read_query_ids(tmp_path / "bad.parquet")
    with pytest.raises(InputError, match="missing.parquet"):
        read_query_ids(tmp_path / "missing.parquet")


def test_identical_ids_default_on_for_arguana_names(tmp_path):
    assert load_eval_data(write_toy_beir(tmp_path, "my_arguana", identical=True), "test").ignore_identical_ids
    assert not load_eval_data(tmp_path / "my_arguana", "test", ignore_identical_ids=False).ignore_identical_ids


def test_resolve_datasets(tmp_path):
    folder = write_toy_beir(tmp_path)
    assert resolve_datasets([str(folder)], "test") == [folder]
    assert [p.name for p in resolve_datasets(["scifact"], "test")] == ["scifact"]
    assert {p.name for p in resolve_datasets(None, "test")} == {p.name for p in list_bundled()}
    assert "scifact" in {p.name for p in list_bundled()}
    with pytest.raises(ConfigError, match="neither a BEIR folder"):
        resolve_datasets(["no-such-set"], "test")
    with pytest.raises(ConfigError, match="qrels/dev.tsv"):
        resolve_datasets([str(folder)], "dev")


def test_bad_folder_is_an_input_error(tmp_path):
    folder = write_toy_beir(tmp_path)
    (folder / "qrels" / "test.tsv").write_text("qid\tdoc\tscore\nq0\td0a\t1\n")
    with pytest.raises(InputError, match="header"):
        load_eval_data(folder, "test")
