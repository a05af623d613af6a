"""``o1embed llm cache-export`` / ``cache-import``: a data root's expert responses move to another as one file."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from o1embed.flows.cli.llm import register
from o1embed.tasks.llm_cache import ResponseCache
from tests.typer_app import app_with


def test_export_from_one_data_root_and_import_into_another(tmp_path, monkeypatch):
    monkeypatch.setenv("O1EMBED_DATA", str(tmp_path / "old"))
    cache = ResponseCache(ResponseCache.default_dir())
    key = cache.key("m", [{"role": "user", "content": "q"}], {"seed": 0})
    cache.put(key, {"content": "a thought"})
    out = tmp_path / "responses.parquet"
    result = CliRunner().invoke(app_with(register), ["llm", "cache-export", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 1

    monkeypatch.setenv("O1EMBED_DATA", str(tmp_path / "new"))
    result = CliRunner().invoke(app_with(register), ["llm", "cache-import", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 1
    assert ResponseCache(tmp_path / "new" / "cache" / "llm").get(key) == {"content": "a thought"}


def test_a_bad_file_is_an_error_naming_the_row(tmp_path):
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"key": ["not-a-key"], "response": ["{}"]}), bad)
    result = CliRunner().invoke(
        app_with(register), ["llm", "cache-import", str(bad), "--cache-dir", str(tmp_path / "c")]
    )
    assert result.exit_code == 2
    assert f"{bad}:1 [key]" in result.output
    assert not (tmp_path / "c").exists()
