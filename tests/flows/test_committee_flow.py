"""The ``committee`` Prefect flow on a toy dataset version: one task per shard, resume, artifacts, manifest."""

from __future__ import annotations

import polars as pl

from o1embed.flows.committee import committee
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.retrievers.spec import RetrieverSpec
from tests.tasks.committee.toy import SHARD0, SHARD1, build_toy_version


def test_committee_flow_judges_every_shard_and_resumes(tmp_path, prefect_api, ray_session):
    dv = build_toy_version(tmp_path / "out")
    cfg = CommitteeConfig(
        members=[RetrieverSpec(kind="bm25s"), RetrieverSpec(kind="bm25s", name="bm25-plain", stemmer=None)],
        negatives_count=5,
        negatives_skip=1,
        negatives_depth=30,
        actor_num_cpus=0.5,
    )
    out = committee(str(dv.root), dv.dataset, dv.split, dv.version, cfg)
    assert sorted(out.shards_judged) == [SHARD0, SHARD1] and out.skipped == []
    ex = pl.from_arrow(dv.read("examples"))
    errors = pl.from_arrow(dv.read("errors")).filter(pl.col("stage") == "committee")
    assert ex.height == 16 and set(errors["query_id"]) == {"qx", "qn"}
    manifest = dv.manifest()
    assert manifest["committee"]["stats"]["examples"] == 16
    assert manifest["tables"]["examples"]["rows"] == 16
    assert out.stats["vote_distribution"]
    # rerun: every shard has examples -> nothing judged, same rows
    again = committee(str(dv.root), dv.dataset, dv.split, dv.version, cfg)
    assert again.shards_judged == [] and sorted(again.skipped) == [SHARD0, SHARD1]
    assert pl.from_arrow(dv.read("examples")).sort("query_id").equals(ex.sort("query_id"))
