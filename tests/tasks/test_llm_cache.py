"""The expert's response cache travels as one Parquet file: export, import into a fresh folder, and bad files."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from o1embed.tasks.errors import InputError
from o1embed.tasks.llm_cache import ResponseCache


def filled(folder, n=3):
    cache = ResponseCache(folder)
    keys = []
    for i in range(n):
        key = cache.key("m", [{"role": "user", "content": f"q{i}"}], {"seed": i, "temperature": 0.7})
        cache.put(key, {"content": f"thought {i}", "finish_reason": "stop", "completion_tokens": i})
        keys.append(key)
    return cache, keys


def test_export_then_import_gives_a_fresh_folder_every_response(tmp_path):
    src, keys = filled(tmp_path / "a")
    out = src.export_parquet(tmp_path / "cache.parquet")
    assert (out.rows, out.unreadable) == (3, [])
    frame = pl.read_parquet(tmp_path / "cache.parquet")  # what a user inspects
    assert frame.columns == ["key", "response"] and frame["key"].to_list() == sorted(keys)

    dst = ResponseCache(tmp_path / "b")
    got = dst.import_parquet(tmp_path / "cache.parquet")
    assert (got.rows, got.added, got.present) == (3, 3, 0)
    for key in keys:
        assert dst.get(key) == src.get(key)
    again = dst.import_parquet(tmp_path / "cache.parquet")  # resumable: nothing doubled, nothing replaced
    assert (again.added, again.present) == (0, 3)


def test_a_large_cache_streams_in_row_groups_sorted_by_key(tmp_path):
    cache = ResponseCache(tmp_path / "a")
    keys = [cache.key("m", [{"role": "user", "content": f"q{i}"}], {"seed": i}) for i in range(300)]
    for i, key in enumerate(keys):
        cache.put(key, {"content": f"thought {i}"})
    out = cache.export_parquet(tmp_path / "cache.parquet", rows_per_group=100)
    assert out.rows == 300
    file = pq.ParquetFile(tmp_path / "cache.parquet")
    assert 2 <= file.num_row_groups <= 4  # whole folders per group, a group once it reaches 100 rows
    assert file.read()["key"].to_pylist() == sorted(keys)
    dst = ResponseCache(tmp_path / "b")
    assert dst.import_parquet(tmp_path / "cache.parquet").added == 300
    assert all(dst.get(k) == cache.get(k) for k in keys)


def test_import_keeps_what_the_folder_has(tmp_path):
    src, keys = filled(tmp_path / "a")
    src.export_parquet(tmp_path / "cache.parquet")
    dst = ResponseCache(tmp_path / "b")
    dst.put(keys[0], {"content": "newer"})
    got = dst.import_parquet(tmp_path / "cache.parquet")
    assert (got.added, got.present) == (2, 1)
    assert dst.get(keys[0]) == {"content": "newer"}


def test_export_names_unreadable_entries_instead_of_dropping_them_silently(tmp_path):
    cache, keys = filled(tmp_path / "a")
    broken = cache.directory / keys[1][:2] / f"{keys[1]}.json"
    broken.write_text("{not json")
    out = cache.export_parquet(tmp_path / "cache.parquet")
    assert out.rows == 2 and out.unreadable == [str(broken)]


def write(path, keys, responses):
    pq.write_table(pa.table({"key": keys, "response": responses}), path)
    return path


GOOD = "a" * 64


@pytest.mark.parametrize(
    ("keys", "responses", "line", "field", "words"),
    [
        ([GOOD, "xyz"], ['{"content": "t"}'] * 2, 2, "key", "not a cache key"),
        ([GOOD, GOOD], ['{"content": "t"}'] * 2, 2, "key", "duplicate key"),
        ([GOOD], ["{oops"], 1, "response", "not JSON"),
        ([GOOD], ['["a list"]'], 1, "response", "not a JSON object"),
        ([GOOD], [None], 1, "response", "not a JSON object"),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_written(tmp_path, keys, responses, line, field, words):
    path = write(tmp_path / "bad.parquet", keys, responses)
    dst = ResponseCache(tmp_path / "b")
    with pytest.raises(InputError, match=words) as err:
        dst.import_parquet(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert not dst.directory.exists()  # checked whole before the first write


def test_a_file_without_the_columns_or_not_parquet_is_named(tmp_path):
    no_column = tmp_path / "cols.parquet"
    pq.write_table(pa.table({"key": [GOOD]}), no_column)
    with pytest.raises(InputError, match="no column 'response'") as err:
        ResponseCache(tmp_path / "b").import_parquet(no_column)
    assert err.value.field == "response"
    junk = tmp_path / "junk.parquet"
    junk.write_text(json.dumps({"not": "parquet"}))
    with pytest.raises(InputError, match="not a readable Parquet file") as err:
        ResponseCache(tmp_path / "b").import_parquet(junk)
    assert err.value.file == str(junk)


def test_the_default_folder_is_the_one_synthesis_uses(tmp_path, monkeypatch):
    from o1embed.tasks.synthesis import SynthesisConfig

    monkeypatch.setenv("O1EMBED_DATA", str(tmp_path))
    assert ResponseCache.default_dir() == tmp_path / "cache" / "llm"
    assert SynthesisConfig(dataset_dir=str(tmp_path / "d")).cache_dir == str(ResponseCache.default_dir())
