"""Real members on real data: BM25 (bm25s) and all-MiniLM-L6-v2 judge stored thoughts for 20 SciFact train queries.

The corpus is the queries' positives plus 1,500 other SciFact documents (to keep the MiniLM encoding short).

The thoughts are written from the data, so the right choice is known: per query, the title of a positive document
(a helpful thought), the title of an unrelated document, and a restatement of the query.
"""

from __future__ import annotations

import random

import polars as pl
import pyarrow as pa
import pytest

from o1embed.tasks.committee.check import outside_check
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.committee.stage import run_committee
from o1embed.tasks.ingest import load_beir
from o1embed.tasks.paths import bundled_dataset
from o1embed.tasks.shards import DatasetVersion
from tests.tasks.committee.toy import candidates_table

SHARD = "part-r0001-00000"


@pytest.mark.slow
@pytest.mark.real
def test_real_committee_on_20_scifact_queries(tmp_path):
    data = load_beir(bundled_dataset("scifact"), "train")
    positives = data.positives()
    qids = sorted(positives)[:20]
    dv = DatasetVersion(tmp_path, "scifact", "train", "real20")
    # the positives of these queries plus 1,500 other SciFact documents: MiniLM encodes this in a minute or two
    keep = {d for q in qids for d in positives[q]} | set(
        random.Random(1).sample(data.corpus["doc_id"].to_pylist(), 1500)
    )
    dv.write_snapshot("corpus", data.corpus.filter(pa.array([d in keep for d in data.corpus["doc_id"].to_pylist()])))
    dv.write_snapshot("queries", data.queries)
    dv.write_snapshot("pairs", data.pairs)
    dv.write_plan(1, {"shards": {SHARD: qids}})
    corpus = dv.read("corpus")
    title = dict(zip(corpus["doc_id"].to_pylist(), corpus["title"].to_pylist(), strict=True))
    qtext = dict(zip(data.queries["query_id"].to_pylist(), data.queries["text"].to_pylist(), strict=True))
    rng = random.Random(0)
    all_docs = sorted(title)
    rows, helpful = [], {}
    for q in qids:
        thoughts = [
            title[positives[q][0]],
            title[rng.choice(all_docs)],
            f"The claim says that {qtext[q].lower()}",
        ]
        order = rng.sample(range(3), 3)
        helpful[q] = order.index(0)
        rows += [(q, k, thoughts[i]) for k, i in enumerate(order)]
    dv.write_shard("candidates", SHARD, candidates_table(rows, SHARD))

    out = run_committee(dv, CommitteeConfig(use_ray=False))
    ex = pl.from_arrow(dv.read("examples"))
    assert ex.height == 20 and set(ex["query_id"]) == set(qids)  # every query has an example
    for r in ex.to_dicts():
        assert len(r["negative_ids"]) == 15 and not set(r["negative_ids"]) & set(positives[r["query_id"]])
    # SciFact is easy for the bare query: only queries that some member ranks below 1 leave room for a gain
    jd = pl.from_arrow(dv.read("judgements")).filter(pl.col("candidate_idx") == -1)
    room = set(jd.filter(pl.col("rank") > 1)["query_id"])
    assert len(room) >= 3
    by = {r["query_id"]: r for r in ex.to_dicts()}
    picked_helpful = sum(by[q]["winner_idx"] == helpful[q] and by[q]["policy"] == "kept" for q in room)
    assert picked_helpful >= 0.8 * len(room)
    assert all(by[q]["policy"] == "query_only" for q in set(qids) - room)  # nothing can beat rank 1
    stats = out.stats
    assert stats["members"] == ["bm25", "minilm"] and stats["mean_gain_winner"] > stats["mean_gain_any_candidate"]
    report = outside_check(dv)
    assert report["queries"] == 20 and report["chosen_beats_random"]
