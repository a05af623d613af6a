"""One mechanism decides what is hashed into a version: fields declared RUN_ONLY are not."""

from __future__ import annotations

import hashlib
import json

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.retrievers.spec import LATER_SPEC_FIELDS, RetrieverSpec
from o1embed.tasks.shards import DatasetVersion
from o1embed.tasks.synthesis import SynthesisConfig, legacy_version_id, prepare_version, version_id
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.versioning import rows_dump, run_only_fields
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.loop import config_hash


def _old_hash(body, n):
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:n]


def test_shard_size_and_parallelism_do_not_change_the_dataset_version(tmp_path):
    src = make_beir(tmp_path / "src", 5)
    base = SynthesisConfig(dataset_dir=str(src), output_dir=str(tmp_path / "out"))
    moved = base.model_copy(
        update={"shard_size": 7, "parallel_shards": 9, "use_cache": False, "output_dir": str(tmp_path / "o2")}
    )
    assert version_id(base, "m") == version_id(moved, "m")
    assert version_id(base, "m") != version_id(base.model_copy(update={"candidates_per_query": 5}), "m")


def test_a_version_written_with_the_legacy_id_still_resumes(tmp_path):
    src = make_beir(tmp_path / "src", 5)
    cfg = SynthesisConfig(dataset_dir=str(src), output_dir=str(tmp_path / "out"), shard_size=16)
    old = legacy_version_id(cfg, "m")
    assert old != version_id(cfg, "m")
    DatasetVersion(tmp_path / "out", cfg.dataset_name, cfg.split, old).write_plan(1, {"shards": {}})
    dv, _ = prepare_version(cfg, "m")
    assert dv.version == old
    fresh = cfg.model_copy(update={"output_dir": str(tmp_path / "new")})
    assert prepare_version(fresh, "m")[0].version == version_id(cfg, "m")


def test_committee_fingerprints_are_the_ones_written_before():
    cfg = CommitteeConfig(members=[RetrieverSpec(kind="bm25s"), RetrieverSpec(kind="dense", batch_size=8)])
    execution = {"use_ray", "actor_num_cpus", "actor_num_gpus", "max_parallel_shards", "batch_queries"}
    assert run_only_fields(cfg) == execution
    later = set(LATER_SPEC_FIELDS)  # the specs had no such fields when those fingerprints were written
    body = cfg.model_dump(exclude=execution)
    body["members"] = [m.model_dump(exclude=later) for m in cfg.members]
    assert cfg.legacy_fingerprint() == _old_hash(body, 16)
    run_only = {"batch_size", "num_threads", "device", "cache"}
    body["members"] = [m.model_dump(exclude=run_only | later) for m in cfg.members]
    assert cfg.fingerprint() == _old_hash(body, 16) and rows_dump(cfg) == body


def test_a_field_added_later_changes_the_fingerprint_only_when_set():
    base = CommitteeConfig(members=[RetrieverSpec(kind="bm25s"), RetrieverSpec(kind="dense")])
    pruned = CommitteeConfig(members=[RetrieverSpec(kind="bm25s", search_postings=5000), RetrieverSpec(kind="dense")])
    ivf = CommitteeConfig(members=[RetrieverSpec(kind="bm25s"), RetrieverSpec(kind="dense", search_index="IVF64,Flat")])
    assert len({base.fingerprint(), pruned.fingerprint(), ivf.fingerprint()}) == 3
    assert len({base.legacy_fingerprint(), pruned.legacy_fingerprint(), ivf.legacy_fingerprint()}) == 3
    assert "search_postings" not in rows_dump(base)["members"][0]
    assert rows_dump(pruned)["members"][0]["search_postings"] == 5000


def test_training_config_hash_is_the_one_written_before(tmp_path):
    cfg = TrainConfig(output_dir=str(tmp_path / "run"), data={"root": "r", "dataset": "d"})
    run_only = {
        "output_dir",
        "use_ray",
        "num_workers",
        "use_gpu",
        "cpus_per_worker",
        "max_failures",
        "resume",
        "log_every",
        "keep_checkpoints",
        "checkpoint_every",
    }
    assert run_only_fields(cfg) == run_only
    assert config_hash(cfg) == _old_hash(cfg.model_dump(mode="json", exclude=run_only), 16)
    assert config_hash(cfg) == config_hash(cfg.model_copy(update={"num_workers": 1, "log_every": 50}))
