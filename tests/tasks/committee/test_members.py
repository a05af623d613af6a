"""Members in Ray actors (loaded once, batched) give exactly the rows of members in this process."""

from __future__ import annotations

import numpy as np

from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.examples import judge_items
from o1embed.tasks.committee.inputs import CorpusIndex, build_items
from o1embed.tasks.committee.members import LocalMembers, RayMembers
from o1embed.tasks.positives import positives_by_query
from o1embed.tasks.retrievers.spec import RetrieverSpec
from o1embed.tasks.testing.tiny_models import build_tiny_dense_model
from tests.tasks.committee.toy import SHARD0


def test_ray_actors_match_local_members(toy_dv, ray_session, tmp_path):
    model = build_tiny_dense_model(tmp_path / "tiny")
    cfg = CommitteeConfig(
        members=[
            RetrieverSpec(kind="bm25s"),
            RetrieverSpec(kind="dense", model_path=model, name="tiny", cache=False),
        ],
        negatives_count=5,
        negatives_skip=1,
        negatives_depth=30,
        batch_queries=3,
        actor_num_cpus=0.5,
    )
    corpus = CorpusIndex.from_table(toy_dv.read("corpus"))
    q = toy_dv.read("queries").to_pydict()
    items, _ = build_items(
        toy_dv.plans()[1]["shards"][SHARD0],
        dict(zip(q["query_id"], q["text"], strict=True)),
        positives_by_query(toy_dv.read("pairs")),
        toy_dv.read("candidates"),
        corpus,
        SHARD0,
    )
    local = judge_items(items, LocalMembers.start(cfg, corpus.doc_ids, corpus.texts), cfg, corpus, SHARD0)
    remote_members = RayMembers.start(cfg, corpus.doc_ids, corpus.texts)
    try:
        info = remote_members.info()
        assert [i["name"] for i in info] == ["bm25", "tiny"] and all(i["node_id"] for i in info)
        remote = judge_items(items, remote_members, cfg, corpus, SHARD0)
    finally:
        remote_members.stop()
    # float sums may differ in the last bits with the actor's thread count: scores are compared with a tolerance
    cols = [c for c in local.judgements.column_names if c != "score"]
    assert remote.judgements.select(cols).equals(local.judgements.select(cols))
    np.testing.assert_allclose(remote.judgements["score"].to_numpy(), local.judgements["score"].to_numpy(), rtol=1e-5)
    # the random tiny model's cosines are nearly equal far down the ranking, where the actor's thread count can
    # reorder float ties: everything but the deep negatives is equal
    rest = [c for c in local.examples.column_names if not c.startswith("negative_")]
    assert remote.examples.select(rest).equals(local.examples.select(rest))
    for a, b in zip(
        local.examples["negative_ids"].to_pylist(), remote.examples["negative_ids"].to_pylist(), strict=True
    ):
        assert len(set(a) & set(b)) >= len(a) - 1
