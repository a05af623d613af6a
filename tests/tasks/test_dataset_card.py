"""The dataset card of a real synthesized and judged version: ``datasets.load_dataset`` loads every table."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from o1embed.flows.synthesize import synthesize
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.dataset_card import TABLES, source_licence
from o1embed.tasks.retrievers.spec import RetrieverSpec
from o1embed.tasks.shards import list_versions
from o1embed.tasks.synthesis import SynthesisConfig
from o1embed.tasks.testing.beir import make_beir
from o1embed.tasks.testing.server_process import fake_openai_server

datasets = pytest.importorskip("datasets")


def front_matter(card: Path) -> dict:
    text = card.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


@pytest.fixture(scope="module")
def judged_version(tmp_path_factory, prefect_api, ray_session):
    tmp = tmp_path_factory.mktemp("card")
    src = make_beir(tmp / "beir" / "toyset", 40, n_docs=60)
    (tmp / "beir" / "README.md").write_text("## toyset (a toy)\n\n- **License**: CC BY-NC 4.0 (the toy's).\n")
    committee = CommitteeConfig(
        members=[RetrieverSpec(kind="bm25s"), RetrieverSpec(kind="bm25s", name="bm25-plain", stemmer=None)],
        negatives_count=3,
        negatives_skip=1,
        negatives_depth=20,
        actor_num_cpus=0.5,
    )
    with fake_openai_server(fail_rate=0.2, timeout_sleep=0.5, seed=1) as url:  # some errors rows too
        cfg = SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(tmp / "out"),
            cache_dir=str(tmp / "cache"),
            shard_size=16,
            llm={"base_url": url, "concurrency": 8, "max_attempts": 1, "timeout_s": 0.3},
        )
        synthesize(cfg, committee=committee)
    (dv,) = list_versions(tmp / "out")
    return dv


def test_every_table_loads_with_datasets(judged_version, tmp_path):
    dv = judged_version
    card = dv.meta_dir / "README.md"
    meta = front_matter(card)
    assert [c["config_name"] for c in meta["configs"]] == list(TABLES)
    assert meta["license"] == "cc-by-nc-4.0"
    assert all(dv.manifest()["tables"][t]["rows"] > 0 for t in TABLES)
    for table in TABLES:
        loaded = datasets.load_dataset(str(dv.meta_dir), table, cache_dir=str(tmp_path / "hf"))
        on_disk = sum(pq.ParquetFile(f).metadata.num_rows for f in dv.files(table))
        assert list(loaded) == [dv.split]
        assert loaded[dv.split].num_rows == on_disk == dv.manifest()["tables"][table]["rows"], table
    examples = datasets.load_dataset(str(dv.meta_dir), "examples", cache_dir=str(tmp_path / "hf"))[dv.split]
    assert {"query_id", "thought", "positive_ids", "negative_ids"} <= set(examples.column_names)


def test_card_body_holds_lineage_counts_votes_and_gain_histogram(judged_version):
    dv = judged_version
    text = (dv.meta_dir / "README.md").read_text()
    manifest = dv.manifest()
    for needle in (
        manifest["llm"]["model"],
        manifest["llm"]["prompt_template_hash"],
        manifest["code_version"],
        "bm25-plain",
        "## Vote statistics",
        "vote_distribution",
        "## Thought gain",
        "| committee winner |",
    ):
        assert needle in text, needle
    png = Path(manifest["committee"]["histogram_path"]).name
    assert f"]({png})" in text and (dv.meta_dir / png).exists()  # the PNG lies beside the card
    assert f"| `examples` | {manifest['tables']['examples']['rows']} |" in text


def test_card_is_rewritten_with_each_manifest(judged_version):
    dv = judged_version
    manifest = dv.manifest()
    body = {k: v for k, v in manifest.items() if k not in ("revision", "dataset", "split", "version", "tables")}
    body["code_version"] = "rewritten-now"
    dv.write_manifest(manifest["revision"], body)
    assert "rewritten-now" in (dv.meta_dir / "README.md").read_text()
    assert not [p for p in dv.meta_dir.iterdir() if p.name.startswith(".") and "README" in p.name]


def test_an_empty_table_gets_no_config_and_the_card_says_so(judged_version, tmp_path):
    from o1embed.tasks.dataset_card import build_dataset_card
    from o1embed.tasks.manifest import Manifest
    from o1embed.tasks.schemas import SCHEMAS
    from o1embed.tasks.shards import DatasetVersion

    dv = DatasetVersion(tmp_path, "x", "train", "v0")
    dv.write_shard("errors", "llm-part-r0001-00000", SCHEMAS["errors"].empty_table())
    text = build_dataset_card(dv, Manifest(revision=1, dataset="x", split="train", version="v0"))
    assert "config_name: errors" not in text and "cannot load an empty split" in text
    assert "| `errors` | 0 | 1 |" in text


def test_licence_of_the_bundled_sets():
    from o1embed.tasks.paths import REPO_ROOT

    scifact = source_licence(REPO_ROOT / "data" / "beir" / "scifact")
    assert scifact == ("cc-by-nc-2.0", "CC BY-NC 2.0 (SciFact, allenai).")
    assert source_licence(REPO_ROOT / "data" / "beir" / "birco_relic")[0] == "cc-by-nc-4.0"
    assert source_licence(None)[0] == "unknown"
