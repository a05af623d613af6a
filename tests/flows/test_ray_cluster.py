"""Scale-out for real: synthesize (committee included) on a two-node Ray cluster joined through its address."""

from __future__ import annotations

import polars as pl
import pytest
import ray
from ray.cluster_utils import Cluster

from o1embed.flows.synthesize import synthesize
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.ray_runtime import init_ray
from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server

pytestmark = pytest.mark.usefixtures("prefect_api")


def rows(out, table, cols):
    return pl.read_parquet(f"{out}/{table}/**/*.parquet").select(cols).sort(cols[:2])


@pytest.mark.slow
def test_two_node_cluster_gives_the_rows_of_a_single_node_run(tmp_path, monkeypatch):
    src = make_beir(tmp_path / "src", 80, n_docs=120)
    committee = CommitteeConfig(actor_num_cpus=0.25)

    def config(name, url):
        return SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(tmp_path / name),
            cache_dir=str(tmp_path / f"cache-{name}"),
            shard_size=10,
            parallel_shards=4,
            llm={"base_url": url, "concurrency": 4},
        )

    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    try:
        with fake_openai_server(latency=0.05) as url:
            init_ray()
            assert len([n for n in ray.nodes() if n["Alive"]]) == 2
            two = synthesize(config("two", url), committee=committee)
            ray.shutdown()
            cluster.shutdown()
            monkeypatch.delenv("RAY_ADDRESS")
            init_ray(num_cpus=2)
            one = synthesize(config("one", url), committee=committee)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert len({s.node for s in two.shards}) == 2  # shards ran on both nodes
    assert len({s.node for s in one.shards}) == 1
    assert two.tables == one.tables and two.tables["examples"] == 80
    cand = ["query_id", "candidate_idx", "thought", "seed", "demo_query_ids"]
    assert rows(tmp_path / "two", "candidates", cand).equals(rows(tmp_path / "one", "candidates", cand))
    ex = ["query_id", "candidate_idx", "thought", "positive_ids", "negative_ids", "votes"]
    assert rows(tmp_path / "two", "examples", ex).equals(rows(tmp_path / "one", "examples", ex))
