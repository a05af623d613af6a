"""The typed manifest: old manifests still read, a wrong-shaped section fails before anything is written."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from o1embed.tasks.manifest import CommitteeSection, LLMSection, Manifest
from o1embed.tasks.shards import DatasetVersion

# A manifest as written before the typed models and the committee stage: no request modes, no committee section,
# and a key no model names.
OLD = {
    "created_at": "2026-11-20T10:00:00+00:00",
    "code_version": "0123456789ab",
    "source": {"dir": "/data/beir/toy", "checksums": {"corpus.jsonl": "0" * 64}},
    "llm": {
        "model": "fake-expert",
        "endpoint": "http://127.0.0.1:8000/v1",
        "prompt_template_hash": "ab" * 32,
        "prompt": {"num_demos": 2},
        "sampling": {"temperature": 0.7},
        "candidates_per_query": 3,
    },
    "shard_size": 256,
    "revisions": [1],
    "retired_field": {"kept": True},
    "revision": 1,
    "dataset": "toy",
    "split": "train",
    "version": "v1",
    "tables": {"candidates": {"rows": 3, "shards": [{"file": "x", "rows": 3, "sha256": "1" * 64}]}},
}


def test_an_old_manifest_reads_with_missing_sections_none_and_extra_keys_kept():
    m = Manifest.model_validate(OLD)
    assert isinstance(m.llm, LLMSection) and m.llm.candidates_per_query == 3 and m.llm.request_modes is None
    assert m.committee is None and m.usage == {} and m.tables["candidates"].rows == 3
    assert m.model_extra == {"retired_field": {"kept": True}}


def test_manifest_model_validates_what_is_on_disk_and_the_json_is_the_writers_dict(tmp_path):
    dv = DatasetVersion(tmp_path, "toy", "train", "v1")
    assert dv.manifest_model() is None
    body = {k: v for k, v in OLD.items() if k not in ("revision", "dataset", "split", "version", "tables")}
    body["committee"] = {"config": {"policy": "majority"}, "fingerprint": "f" * 12, "stats": {"examples": 3}}
    dv.write_manifest(1, body)
    written = json.loads(dv.manifest_path().read_text())
    assert written["retired_field"] == {"kept": True} and "request_modes" not in written["llm"]  # nothing added
    m = dv.manifest_model()
    assert isinstance(m.committee, CommitteeSection) and m.committee.stats == {"examples": 3}
    assert m.revision == 1 and m.version == "v1" and dv.manifest_model(1) == m


def test_a_section_of_the_wrong_shape_is_refused_before_writing(tmp_path):
    dv = DatasetVersion(tmp_path, "toy", "train", "v1")
    with pytest.raises(ValidationError, match="committee"):
        dv.write_manifest(1, {"committee": {"members": "not a list"}})
    assert not dv.manifest_path().exists() and not dv.manifest_path(1).exists()
