"""Ingest: every bad-input case gives a clear fatal message or an errors-table row; good rows go on."""

from __future__ import annotations

import json
import shutil

import pyarrow.compute as pc
import pytest

from o1embed.tasks.errors import InputError
from o1embed.tasks.ingest import load_beir
from o1embed.tasks.paths import bundled_dataset
from o1embed.tasks.testing.beir import make_beir


@pytest.fixture
def beir(tmp_path):
    return make_beir(tmp_path / "ds", n_queries=5, n_docs=8)


def errors_of(result):
    return result.errors.to_pylist()


def test_clean_folder_has_no_errors(beir):
    r = load_beir(beir, "train")
    assert (r.corpus.num_rows, r.queries.num_rows, r.pairs.num_rows, r.errors.num_rows) == (8, 5, 5, 0)
    assert set(r.checksums) == {"corpus.jsonl", "queries.jsonl", "qrels/train.tsv"}


def test_bundled_scifact_loads_cleanly():
    r = load_beir(bundled_dataset("scifact"), "train")
    assert (r.corpus.num_rows, r.queries.num_rows, r.pairs.num_rows, r.errors.num_rows) == (
        5183,
        1109,
        919,
        0,
    )
    assert len(r.positives()) == 809


def test_missing_file_is_fatal(beir):
    (beir / "queries.jsonl").unlink()
    with pytest.raises(InputError, match=r"queries\.jsonl: file not found"):
        load_beir(beir, "train")


def test_missing_folder_and_split_are_fatal(beir, tmp_path):
    with pytest.raises(InputError, match="dataset folder not found"):
        load_beir(tmp_path / "nope", "train")
    with pytest.raises(InputError, match=r"test\.tsv: file not found \(split 'test'; splits here: train\)"):
        load_beir(beir, "test")


def test_invalid_json_line_goes_to_errors(beir):
    with open(beir / "corpus.jsonl", "a") as f:
        f.write('{"_id": "bad", "text": \n')
    r = load_beir(beir, "train")
    (e,) = errors_of(r)
    assert e["file"].endswith("corpus.jsonl") and e["line"] == 9 and "invalid JSON" in e["reason"]
    assert r.corpus.num_rows == 8


def test_non_utf8_bytes_go_to_errors(beir):
    with open(beir / "queries.jsonl", "ab") as f:
        f.write(b'{"_id": "qx", "text": "caf\xe9"}\n')
    r = load_beir(beir, "train")
    (e,) = errors_of(r)
    assert e["line"] == 6 and "not valid UTF-8" in e["reason"]


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ({"text": "no id"}, "_id", "missing field '_id'"),
        ({"_id": "qx", "text": "   "}, "text", "field 'text' is empty"),
        ({"_id": "qx"}, "text", "missing field 'text'"),
        ({"_id": "qx", "text": ["list"]}, "text", "must be a string"),
    ],
)
def test_missing_or_empty_fields_go_to_errors(beir, line, field, reason):
    with open(beir / "queries.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
    (e,) = errors_of(load_beir(beir, "train"))
    assert e["field"] == field and reason in e["reason"] and e["line"] == 6


def test_duplicate_ids_keep_the_first(beir):
    with open(beir / "corpus.jsonl", "a") as f:
        f.write(json.dumps({"_id": "d00001", "title": "again", "text": "dup"}) + "\n")
    r = load_beir(beir, "train")
    (e,) = errors_of(r)
    assert "duplicate _id 'd00001' (first on line 2)" in e["reason"] and e["line"] == 9
    assert r.corpus.filter(pc.equal(r.corpus["doc_id"], "d00001"))["title"].to_pylist() == ["Doc 1"]


def test_qrels_rows_that_do_not_resolve_go_to_errors(beir):
    with open(beir / "qrels" / "train.tsv", "a") as f:
        f.write("q99999\td00001\t1\n")  # unknown query
        f.write("q00001\tdXXXX\t1\n")  # unknown document
        f.write("q00001\td00001\tyes\n")  # not an integer
        f.write("q00001\td00001\t1\n")  # duplicate
        f.write("q00001\td00001\n")  # wrong column count
    errs = errors_of(load_beir(beir, "train"))
    reasons = [e["reason"] for e in errs]
    assert [e["line"] for e in errs] == [7, 8, 9, 10, 11]
    assert "query 'q99999' is not in queries.jsonl" in reasons[0]
    assert "document 'dXXXX' is not in corpus.jsonl" in reasons[1]
    assert "score 'yes' is not an integer" in reasons[2]
    assert "duplicate judgement" in reasons[3]
    assert "expected 3 tab-separated columns" in reasons[4]


def test_missing_qrels_header_is_fatal(beir):
    p = beir / "qrels" / "train.tsv"
    p.write_text("\n".join(p.read_text().splitlines()[1:]) + "\n")
    with pytest.raises(InputError, match=r"train\.tsv:1: missing or wrong header"):
        load_beir(beir, "train")


def test_no_usable_rows_is_fatal(beir):
    (beir / "corpus.jsonl").write_text("not json\n")
    with pytest.raises(InputError, match=r"corpus\.jsonl: no usable document"):
        load_beir(beir, "train")


def test_rejected_document_makes_its_judgement_an_error_not_a_silent_drop(tmp_path):
    d = make_beir(tmp_path / "x", n_queries=3, n_docs=3)
    shutil.copy(d / "corpus.jsonl", d / "c.bak")
    lines = (d / "corpus.jsonl").read_text().splitlines()
    lines[1] = json.dumps({"_id": "d00001", "title": "", "text": ""})
    (d / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    errs = errors_of(load_beir(d, "train"))
    assert any("neither title nor text" in e["reason"] for e in errs)
    assert any("document 'd00001' is not in corpus.jsonl" in e["reason"] for e in errs)


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("name", ["corpus.jsonl", "queries.jsonl", "qrels/train.tsv"])
def test_a_byte_order_mark_loses_no_row(beir, name):
    p = beir / name
    p.write_bytes(BOM + p.read_bytes())
    r = load_beir(beir, "train")
    assert (r.corpus.num_rows, r.queries.num_rows, r.pairs.num_rows, r.errors.num_rows) == (8, 5, 5, 0)
    assert r.corpus["doc_id"][0].as_py() == "d00000" and r.queries["query_id"][0].as_py() == "q00000"


def test_crlf_line_ends_are_accepted(beir):
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/train.tsv"):
        p = beir / name
        p.write_bytes(BOM + p.read_bytes().replace(b"\n", b"\r\n"))
    r = load_beir(beir, "train")
    assert (r.corpus.num_rows, r.queries.num_rows, r.pairs.num_rows, r.errors.num_rows) == (8, 5, 5, 0)
    assert not any(t.endswith("\r") for t in r.queries["text"].to_pylist())
    assert r.pairs["score"].to_pylist() == [1] * 5


def test_integral_float_scores_are_integers_and_others_are_rejected_per_row(beir):
    p = beir / "qrels" / "train.tsv"
    lines = p.read_text().splitlines()
    lines[1:3] = [lines[1].replace("\t1", "\t1.0"), lines[2].replace("\t1", "\t2.0")]
    lines += ["q00003\td00000\t0.5", "q00004\td00000\tabc"]
    p.write_text("\n".join(lines) + "\n")
    r = load_beir(beir, "train")
    assert r.pairs["score"].to_pylist() == [1, 2, 1, 1, 1] and str(r.pairs["score"].type).startswith("int")
    errs = errors_of(r)
    assert [(e["line"], e["field"]) for e in errs] == [(7, "score"), (8, "score")]
    assert all(e["file"].endswith("train.tsv") for e in errs)
    assert "score '0.5' is not an integer" in errs[0]["reason"]
    assert "score 'abc' is not an integer" in errs[1]["reason"]


def test_no_usable_rows_message_lists_the_first_reasons(beir):
    p = beir / "qrels" / "train.tsv"
    p.write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q0000{i}\td0000{i}\t0.{i + 1}\n" for i in range(5)))
    with pytest.raises(InputError) as info:
        load_beir(beir, "train")
    msg = str(info.value)
    assert "train.tsv: no usable judgement; rejected rows: line 2 [score]: score '0.1' is not an integer" in msg
    assert "line 4 [score]: score '0.3'" in msg and "'0.4'" not in msg and "(and 2 more rejected rows)" in msg
    (beir / "queries.jsonl").write_text('{"_id": "q1"}\n')
    with pytest.raises(InputError, match=r"no usable query; rejected rows: line 1 \[text\]: missing field 'text'"):
        load_beir(beir, "train")
