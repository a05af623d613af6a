from __future__ import annotations

import sys

import numpy as np
import pytest

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import EvalConfig, SystemSpec, resolve_systems
from o1embed.tasks.evaluation.encoders import encode_queries
from o1embed.tasks.evaluation.harness import evaluate_folder
from o1embed.tasks.evaluation.resources import Resources
from o1embed.tasks.evaluation.systems import build_systems
from tests.tasks.evaluation.toy import FakeEncoder, FakeRetriever, write_toy_beir

ALL = ["bm25", "minilm", "backbone", "trained", "trained-think-m1", "trained-think-m3", "bm25-thought"]


class Doubles:
    """Factories that hand out fakes and remember them."""

    def __init__(self):
        self.retrievers: list[FakeRetriever] = []
        self.encoders: dict[str, FakeEncoder] = {}

    def retriever(self, spec, path, config):
        r = FakeRetriever(f"{spec.kind}:{path}")
        self.retrievers.append(r)
        return r

    def encoder(self, path, spec, config):
        self.encoders[path] = FakeEncoder(path)
        return self.encoders[path]


def _resources(config, doubles):
    return Resources(config, retriever_factory=doubles.retriever, encoder_loader=doubles.encoder)


def test_presets_and_defaults():
    assert [s.name for s in resolve_systems(EvalConfig())] == ["bm25", "minilm"]
    full = resolve_systems(EvalConfig(model_path="/m", backbone_path="/b"))
    assert [s.name for s in full] == ALL
    by = {s.name: s for s in full}
    assert by["trained-think-m3"].num_thoughts == 3 and by["trained-think-m3"].baseline == "trained"
    assert by["bm25-thought"].baseline == "bm25" and by["bm25-thought"].think
    # without a backbone, 'trained' loses its baseline rather than failing
    assert {s.name: s for s in resolve_systems(EvalConfig(model_path="/m"))}["trained"].baseline is None
    with pytest.raises(ConfigError, match="model_path"):
        resolve_systems(EvalConfig(systems=["trained"]))
    with pytest.raises(ConfigError, match="unknown system"):
        resolve_systems(EvalConfig(systems=["bm26"]))
    with pytest.raises(ConfigError, match="unique"):
        resolve_systems(EvalConfig(systems=["bm25", {"name": "bm25", "kind": "bm25"}]))
    custom = resolve_systems(EvalConfig(systems=[{"name": "x", "kind": "encoder", "model": "/p", "think": True}]))
    assert custom[0].model == "/p"
    with pytest.raises(ValueError, match="needs a model"):
        SystemSpec(name="d", kind="dense")


def test_all_systems_share_models_vectors_and_thoughts(tmp_path):
    folder = write_toy_beir(tmp_path)
    config = EvalConfig(model_path="/trained", backbone_path="/backbone", cache_dir="")
    doubles = Doubles()
    result = evaluate_folder(folder, config, resources=_resources(config, doubles))
    table = result.per_query.to_pylist()
    assert len(table) == len(ALL) * 8
    assert {r["system"] for r in table} == set(ALL)
    trained = doubles.encoders["/trained"]
    assert trained.doc_calls == 1  # corpus encoded once for trained, think-m1 and think-m3
    assert trained.query_calls == [(False, 1), (True, 1), (True, 3)]  # bm25-thought reused the m=1 thoughts
    assert doubles.encoders["/backbone"].query_calls == [(False, 1)]
    # one BM25 fitted (shared by bm25 and bm25-thought) and one dense retriever
    assert sorted(r.name.split(":")[0] for r in doubles.retrievers) == ["bm25", "dense"]
    assert all(r.fit_calls == 1 for r in doubles.retrievers)
    bm25 = next(r for r in doubles.retrievers if r.name.startswith("bm25"))
    assert bm25.queries_seen[1][0] == "tell me about the apple tell me about the apple facts 0"
    rows = {(r["system"], r["query_id"]): r for r in table}
    assert rows[("trained-think-m3", "q0")]["thoughts"] == [f"tell me about the apple facts {j}" for j in range(3)]
    assert rows[("trained", "q0")]["thoughts"] is None
    assert rows[("bm25", "q0")]["top_doc_ids"][0] == "d0a"
    assert rows[("bm25", "q0")]["n_relevant"] == 2
    assert all(0.0 <= r["ndcg_at_10"] <= 1.0 for r in table)
    assert {t["system"] for t in result.timing} == set(ALL)


def test_document_vectors_are_cached_on_disk(tmp_path):
    folder = write_toy_beir(tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    config = EvalConfig(model_path=str(tmp_path / "model"), systems=["trained"], cache_dir=str(tmp_path / "cache"))
    first, second = Doubles(), Doubles()
    a = evaluate_folder(folder, config, resources=_resources(config, first))
    b = evaluate_folder(folder, config, resources=_resources(config, second))
    assert first.encoders[config.model_path].doc_calls == 1
    assert second.encoders[config.model_path].doc_calls == 0  # read from the cache
    assert a.per_query.column("ndcg_at_10").to_pylist() == b.per_query.column("ndcg_at_10").to_pylist()
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1
    # a gate fitted into the model folder (o1embed model fit-gate) changes no document vector: still cached
    (tmp_path / "model" / "think_gate.json").write_text('{"threshold": 0.5}')
    gated = Doubles()
    evaluate_folder(folder, config, resources=_resources(config, gated))
    assert gated.encoders[config.model_path].doc_calls == 0
    # a changed model invalidates the cache
    (tmp_path / "model" / "config.json").write_text('{"changed": 1}')
    third = Doubles()
    evaluate_folder(folder, config, resources=_resources(config, third))
    assert third.encoders[config.model_path].doc_calls == 1


def test_interrupted_corpus_encoding_resumes_from_its_last_chunk(tmp_path):
    folder = write_toy_beir(tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    config = EvalConfig(
        model_path=str(tmp_path / "model"),
        systems=["trained"],
        cache_dir=str(tmp_path / "cache"),
        doc_chunk_size=3,
    )

    class Interrupted(Exception):
        pass

    class DiesOnThirdChunk(FakeEncoder):
        def encode_documents(self, titles, texts):
            if self.doc_calls == 2:
                raise Interrupted
            return super().encode_documents(titles, texts)

    dying = Doubles()
    dying.encoder = lambda path, spec, cfg: dying.encoders.setdefault(path, DiesOnThirdChunk(path))
    with pytest.raises(Interrupted):
        evaluate_folder(folder, config, resources=_resources(config, dying))
    assert len(list((tmp_path / "cache").glob("*.parts/*.npy"))) == 2  # two whole chunks kept

    resumed = Doubles()
    got = evaluate_folder(folder, config, resources=_resources(config, resumed))
    n_docs = sum(1 for _ in (folder / "corpus.jsonl").open())
    n_chunks = -(-n_docs // 3)
    assert resumed.encoders[config.model_path].doc_calls == n_chunks - 2  # only the missing chunks
    assert list((tmp_path / "cache").glob("*.parts")) == []  # parts folded into one file
    fresh_cfg = config.model_copy(update={"cache_dir": ""})
    fresh = evaluate_folder(folder, fresh_cfg, resources=_resources(fresh_cfg, Doubles()))
    assert got.per_query.column("top_doc_ids").to_pylist() == fresh.per_query.column("top_doc_ids").to_pylist()


def test_identical_ids_are_dropped_on_arguana_like_sets(tmp_path):
    folder = write_toy_beir(tmp_path, "toy_arguana", identical=True)
    config = EvalConfig(systems=["bm25"])
    on = evaluate_folder(folder, config, resources=_resources(config, Doubles())).per_query.to_pylist()
    off_cfg = EvalConfig(systems=["bm25"], ignore_identical_ids=False)
    off = evaluate_folder(folder, off_cfg, resources=_resources(off_cfg, Doubles())).per_query.to_pylist()
    assert all(r["query_id"] not in r["top_doc_ids"] for r in on)
    assert off[0]["top_doc_ids"][0] == "q0"  # the query itself ranks first when kept
    assert np.mean([r["mrr_at_10"] for r in on]) > np.mean([r["mrr_at_10"] for r in off])


def test_bm25_only_run_does_not_import_the_trainer(tmp_path):
    sys.modules.pop("o1embed.trainer.encoder", None)
    config = EvalConfig(systems=["bm25"])
    evaluate_folder(write_toy_beir(tmp_path), config, resources=_resources(config, Doubles()))
    assert "o1embed.trainer.encoder" not in sys.modules


def test_num_thoughts_and_the_mode_reach_the_encoder_as_arguments():
    enc = FakeEncoder()
    spec = SystemSpec(name="x", kind="encoder", model="/m", think=True, num_thoughts=3)
    out = encode_queries(enc, ["a b"], spec)
    assert enc.query_calls == [(True, 3)] and out.thoughts == [[f"a b facts {j}" for j in range(3)]]
    assert out.costs[0].thought and out.costs[0].thought_tokens is None  # no records: read off the thoughts
    encode_queries(enc, ["a b"], spec.model_copy(update={"think": "auto", "close_threshold": 0.2}))
    assert enc.query_calls[-1] == ("auto", 3)

    class Plain:  # an encoder without the contract's arguments: a clear error, not a silent m = 1
        def encode_queries(self, queries, think=True):
            return np.ones((len(queries), 2), np.float32)

    with pytest.raises(ConfigError, match="does not take"):
        encode_queries(Plain(), ["a"], spec)


def test_thinking_mode_presets_and_their_baseline():
    by = {
        s.name: s
        for s in resolve_systems(
            EvalConfig(
                model_path="/m",
                systems=[
                    "trained-never",
                    "trained-always",
                    "trained-auto",
                    "trained-auto-fused",
                    "bm25",
                    "bm25-thought-auto",
                ],
            )
        )
    }
    assert [by[n].mode for n in ("trained-never", "trained-always", "trained-auto")] == [
        "never",
        "always",
        "auto",
    ]
    assert all(by[n].baseline == "trained-never" for n in ("trained-always", "trained-auto", "trained-auto-fused"))
    assert by["trained-auto-fused"].fusion_alpha == 0.5 and by["trained-auto"].fusion_alpha is None
    assert by["bm25-thought-auto"].mode == "auto" and by["bm25-thought-auto"].baseline == "bm25"
    fused = resolve_systems(EvalConfig(model_path="/m", systems=["trained-auto-fused"], fusion_alpha=0.3))
    assert fused[0].fusion_alpha == 0.3
    assert by["trained-auto"].close_threshold is None  # the encoder's default
    auto = ["trained-auto", "trained-auto-fused", "trained-auto-query", "bm25-thought-auto", "trained-always"]
    chosen = resolve_systems(EvalConfig(model_path="/m", systems=auto, close_threshold=0.8))
    assert [s.close_threshold for s in chosen] == [0.8, 0.8, 0.8, 0.8, None]


def test_the_gate_preset_asks_the_encoder_for_the_gate_and_keeps_its_own_threshold():
    systems = ["trained-never", "trained-auto-gate"]
    gate = resolve_systems(EvalConfig(model_path="/m", systems=systems, close_threshold=0.8))[1]
    assert (gate.mode, gate.decider, gate.baseline) == ("auto", "gate", "trained-never")
    assert gate.close_threshold is None  # 0.8 is a threshold on p_close, not on the gate's probability
    assert gate.encoder_call() == {"think": "auto", "num_thoughts": 1, "decider": "gate"}

    class Gated(FakeEncoder):  # states its own threshold per decider, as trainer.encoder.O1Encoder does
        def encode_queries(self, queries, think="always", num_thoughts=1, decider=None, **options):
            self.deciders = [*getattr(self, "deciders", []), decider]
            return super().encode_queries(queries, think, num_thoughts, **options)

        def auto_threshold(self, decider=None):
            return 0.35 if decider == "gate" else 0.5

    enc = Gated()
    out = encode_queries(enc, ["a b"], gate)
    assert enc.deciders == ["gate"]
    assert out.details["decider"] == "gate" and out.details["close_threshold"] == 0.35


def test_build_systems_is_lazy():
    config = EvalConfig(model_path="/m", systems=["trained"])
    doubles = Doubles()
    systems = build_systems(resolve_systems(config), _resources(config, doubles))
    assert [type(s).__name__ for s in systems] == ["EncoderSystem"]
    assert doubles.encoders == {}  # nothing is loaded before a system runs


def test_default_retriever_factory_builds_tasks_retrievers():
    from o1embed.tasks.evaluation.resources import default_retriever_factory
    from o1embed.tasks.retrievers import BM25sRetriever, RankBM25Retriever

    cfg = EvalConfig()
    r = default_retriever_factory(SystemSpec(name="bm25", kind="bm25"), None, cfg)
    assert isinstance(r, BM25sRetriever) and r.name == "bm25"
    r = default_retriever_factory(SystemSpec(name="r", kind="bm25", options={"kind": "rank_bm25"}), None, cfg)
    assert isinstance(r, RankBM25Retriever)
    exp = SystemSpec(name="x", kind="expansion", model="trained", options={"bm25": {"k1": 0.9}})
    assert default_retriever_factory(exp, None, cfg).k1 == 0.9
    with pytest.raises(ConfigError, match="bad retriever options"):
        default_retriever_factory(SystemSpec(name="b", kind="bm25", options={"k2": 1}), None, cfg)
