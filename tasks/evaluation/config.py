"""Typed configuration of an evaluation run: which datasets, which systems, how much of each set.

A *system* is one row of the report (BM25, MiniLM, the trained model with thinking, ...). Systems are configuration:
a :class:`SystemSpec` names its kind and model, and :func:`resolve_systems` expands preset names (``"bm25"``,
``"trained-think-m3"``, ...) into specs, so a flow parameter or CLI flag can be a plain list of strings.

Example:
    >>> cfg = EvalConfig(datasets=["scifact"], systems=["bm25", "minilm"], max_queries=50)
    >>> [s.name for s in resolve_systems(cfg)]
    ['bm25', 'minilm']
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.thinking import Decider, SkipVector, ThinkMode, think_mode

SystemKind = Literal["bm25", "dense", "encoder", "expansion"]

# The thinking-mode systems: these names stay the same from run to run, so reports compare across runs.
THINKING_MODE_SYSTEMS = ("trained-never", "trained-always", "trained-auto", "trained-auto-fused")


class SystemSpec(BaseModel):
    """One system of the report.

    Kinds:
        ``bm25``: a lexical retriever from :mod:`tasks.retrievers` over ``title text``.
        ``dense``: a sentence-transformers retriever from :mod:`tasks.retrievers` (``model`` is a path or ``minilm``).
        ``encoder``: a :class:`QueryDocEncoder` (``trainer.encoder.O1Encoder``) with exact or FAISS search;
        ``think`` (``never`` | ``always`` | ``auto``), ``num_thoughts``, ``close_threshold`` and ``fusion_alpha``
        choose how the query vectors are made.
        ``expansion``: BM25 over ``query + thought``, the thought written by the encoder named by ``model``
        (thinking as query expansion); a query without a thought (``auto`` closed it) is searched alone.

    Example:
        >>> SystemSpec(name="o1-m3", kind="encoder", model="trained", think=True, num_thoughts=3).mode
        'always'
    """

    name: str = Field(description="Label of the system in the report; unique within a run.")
    kind: SystemKind = Field(description="bm25 | dense | encoder | expansion (see the class docstring).")
    model: str | None = Field(
        default=None,
        description="A model path, or a role: 'trained' (EvalConfig.model_path), "
        "'backbone' (EvalConfig.backbone_path), 'minilm' (the packaged all-MiniLM-L6-v2). "
        "Required for dense, encoder and expansion.",
    )
    think: bool | ThinkMode = Field(
        default=False,
        description="encoder/expansion: 'never' (bare query), 'always' (every query thinks) or 'auto' (the model "
        "decides); True/False mean always/never.",
    )
    num_thoughts: int = Field(
        default=1, ge=1, description="encoder/expansion: thoughts per query (m); vectors averaged."
    )
    close_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="auto: skip the thought when the model's probability of closing it at once is at least this; "
        "None = the encoder's default.",
    )
    fusion_alpha: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Vector normalize(alpha * query-only + (1 - alpha) * thought); None = the encoder's default.",
    )
    skip_vector: SkipVector | None = Field(
        default=None,
        description="auto: the vector of a query that skips its thought: 'skip' = the <emb> after the empty "
        "thought, 'query' = the bare query's; None = the encoder's default.",
    )
    decider: Decider | None = Field(
        default=None,
        description="auto: 'close' = the model's probability of closing the thought at once decides; 'gate' = the "
        "learned gate in the model folder (think_gate.json); None = the encoder's default.",
    )
    baseline: str | None = Field(
        default=None, description="Name of the system this one is compared against in the delta table."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments for the retriever or encoder constructor."
    )

    @model_validator(mode="after")
    def _check(self) -> SystemSpec:
        if self.kind in ("dense", "encoder", "expansion") and not self.model:
            raise ValueError(f"system {self.name!r} of kind {self.kind!r} needs a model")
        if self.kind == "expansion" and self.mode == "never":
            self.think = True  # an expansion system always uses the model's thoughts
        return self

    @property
    def mode(self) -> ThinkMode:
        """``think`` as a mode name (``True`` = ``always``, ``False`` = ``never``)."""
        return think_mode(self.think)

    def encoder_call(self) -> dict[str, Any]:
        """The keyword arguments of ``encode_queries`` this spec asks for (only the settings it states)."""
        call: dict[str, Any] = {
            "think": self.mode,
            "num_thoughts": self.num_thoughts if self.mode != "never" else 1,
        }
        if self.mode == "auto" and self.close_threshold is not None:
            call["close_threshold"] = self.close_threshold
        if self.mode != "never" and self.fusion_alpha is not None:
            call["fusion_alpha"] = self.fusion_alpha
        if self.mode == "auto" and self.skip_vector is not None:
            call["skip_vector"] = self.skip_vector
        if self.mode == "auto" and self.decider is not None:
            call["decider"] = self.decider
        return call


def preset_systems(fusion_alpha: float = 0.5, close_threshold: float | None = None) -> dict[str, SystemSpec]:
    """The systems a report compares, by preset name.

    ``bm25``, ``minilm``, ``backbone`` (the model before training, bare queries), ``trained`` (bare queries),
    ``trained-think-m1``, ``trained-think-m3`` and ``bm25-thought`` (BM25 over query + the trained model's thought).

    The thinking modes, each compared with ``trained-never``: ``trained-never`` (bare query), ``trained-always``
    (every query thinks), ``trained-auto`` (the model decides, the encoder's default threshold),
    ``trained-auto-fused`` (auto, vector ``normalize(alpha q + (1 - alpha) t)`` with ``fusion_alpha``),
    ``trained-auto-query`` (auto, a query that skips takes the bare query's vector, not the skip vector), and
    ``bm25-thought-auto`` (BM25 over query + thought where auto thought, the bare query elsewhere), and
    ``trained-auto-gate`` (auto, the learned gate decides: ``trainer.think_gate``, fitted with
    ``o1embed model fit-gate``). The auto systems skip at ``close_threshold`` (None: the encoder's default);
    the gate keeps its own threshold, chosen when it was fitted, since ``close_threshold`` is a threshold on
    ``p_close``.
    """
    specs = [
        SystemSpec(name="bm25", kind="bm25"),
        SystemSpec(name="minilm", kind="dense", model="minilm"),
        SystemSpec(name="backbone", kind="encoder", model="backbone", think=False),
        SystemSpec(name="trained", kind="encoder", model="trained", think=False, baseline="backbone"),
        SystemSpec(name="trained-think-m1", kind="encoder", model="trained", think=True, baseline="trained"),
        SystemSpec(
            name="trained-think-m3",
            kind="encoder",
            model="trained",
            think=True,
            num_thoughts=3,
            baseline="trained",
        ),
        SystemSpec(name="bm25-thought", kind="expansion", model="trained", num_thoughts=1, baseline="bm25"),
        SystemSpec(name="trained-never", kind="encoder", model="trained", think="never"),
        SystemSpec(name="trained-always", kind="encoder", model="trained", think="always", baseline="trained-never"),
        SystemSpec(
            name="trained-auto",
            kind="encoder",
            model="trained",
            think="auto",
            baseline="trained-never",
        ),
        SystemSpec(
            name="trained-auto-fused",
            kind="encoder",
            model="trained",
            think="auto",
            fusion_alpha=fusion_alpha,
            baseline="trained-never",
        ),
        SystemSpec(
            name="trained-auto-query",
            kind="encoder",
            model="trained",
            think="auto",
            skip_vector="query",
            baseline="trained-never",
        ),
        SystemSpec(
            name="bm25-thought-auto",
            kind="expansion",
            model="trained",
            think="auto",
            baseline="bm25",
        ),
        SystemSpec(
            name="trained-auto-gate",
            kind="encoder",
            model="trained",
            think="auto",
            decider="gate",
            baseline="trained-never",
        ),
    ]
    specs = [
        s.model_copy(update={"close_threshold": close_threshold}) if s.mode == "auto" and s.decider != "gate" else s
        for s in specs
    ]
    return {s.name: s for s in specs}


class EvalConfig(BaseModel):
    """Everything one evaluation run needs; every field is stated in the report.

    Example:
        >>> EvalConfig(model_path="data/runs/models/o1-smollm2").doc_max_tokens
        256
    """

    datasets: list[str] = Field(
        default_factory=list,
        description="Bundled set names (data/beir/<name>) or BEIR-layout folders; empty means every bundled set.",
    )
    split: str = Field(default="test", description="qrels split to evaluate.")
    model_path: str | None = Field(default=None, description="The trained O1 model folder ('trained' role).")
    backbone_path: str | None = Field(
        default=None,
        description="The backbone before training, prepared with the special tokens ('backbone' role).",
    )
    systems: list[SystemSpec | str] | None = Field(
        default=None,
        description="Systems to compare: preset names or specs. None: bm25 and minilm, plus the trained-model "
        "systems when model_path is set and 'backbone' when backbone_path is set.",
    )
    out_dir: str | None = Field(default=None, description="Report folder; default <runs_root>/reports/<timestamp>.")
    max_queries: int | None = Field(default=None, ge=1, description="Evaluate only the first N judged queries.")
    query_ids_file: str | None = Field(
        default=None,
        description="Evaluate only the judged queries listed in this Parquet's query_id column, e.g. a training "
        "run's holdout.parquet with split=train: queries the model never trained on, to choose close_threshold.",
    )
    corpus_sample: int | None = Field(
        default=None,
        ge=0,
        description="Keep the positives of the evaluated queries plus this many other documents (seeded); "
        "None keeps the full corpus.",
    )
    seed: int = Field(default=0, description="Seed of the corpus sample.")
    doc_max_tokens: int | None = Field(
        default=256, ge=1, description="Documents are cut to this many tokens by dense and encoder systems."
    )
    top_k: int = Field(default=100, ge=10, description="Documents retrieved per query (Recall@100 needs >= 100).")
    ignore_identical_ids: bool | None = Field(
        default=None,
        description="Drop retrieved documents whose id equals the query id (BEIR). None: on for dataset names "
        "containing 'arguana'.",
    )
    faiss_threshold: int = Field(
        default=200_000,
        ge=0,
        description="Corpora with more documents than this are searched with a FAISS index.",
    )
    faiss_index: str = Field(default="Flat", description="faiss.index_factory string (inner-product metric).")
    batch_size: int = Field(default=32, ge=1, description="Encoding batch size for dense and encoder systems.")
    device: str | None = Field(default=None, description="Device for dense and encoder systems (None: their default).")
    dtype: str | None = Field(
        default=None,
        description="Weights dtype of encoder systems (float32, bfloat16, ...; None: the encoder's auto, fp32 on "
        "CPU). bfloat16 forward passes are ~3x faster than float32 on CPUs with avx512_bf16 or AMX.",
    )
    cache_dir: str | None = Field(
        default=None,
        description="Folder for cached document vectors; default <cache_root>/eval_doc_vectors; '' disables.",
    )
    query_max_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Queries are cut to this many tokens by encoder systems; None = each model's own length "
        "(32 for cpu-small). Long-query sets (BIRCO: 150-230 tokens) want 256.",
    )
    fusion_alpha: float = Field(default=0.5, ge=0, le=1, description="alpha of the trained-auto-fused preset.")
    close_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="p_close threshold of the auto presets (a query skips its thought at or above it); None = the "
        "encoder's default. Choose it on held-out training queries (query_ids_file), never on the test sets.",
    )
    cost_quality_system: str | None = Field(
        default="trained-auto",
        description="The auto system whose threshold is swept for the cost-quality plot (skipped when the run "
        "has no such system, or its encoder reports no close probabilities); None = no sweep.",
    )
    cost_quality_thresholds: list[float] = Field(
        default_factory=lambda: [
            0.0,
            0.02,
            0.05,
            0.1,
            0.2,
            0.3,
            0.4,
            0.5,
            0.6,
            0.7,
            0.8,
            0.9,
            0.95,
            0.99,
            1.0,
        ],
        description="Thresholds of the sweep (a query skips its thought when p_close >= threshold).",
    )
    cost_quality_alphas: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        description="Fusion weights swept with every threshold (rows point='fused': normalize(alpha * never + "
        "(1 - alpha) * auto), what trained-auto-fused retrieves with); choose fusion_alpha on held-out training "
        "queries with bench/pick_fusion.py, never on the test sets. [] = none.",
    )
    in_domain: list[str] | None = Field(
        default=None,
        description="Datasets the trained model was trained on, left out of the report's out-of-domain means "
        "(dataset names as in the report); None = the dataset named in the trained model's model_card.json "
        "(none without a trained model or a card).",
    )
    doc_chunk_size: int = Field(
        default=512,
        ge=1,
        description="Documents per cached chunk: an interrupted corpus encoding resumes from its last whole chunk.",
    )

    @model_validator(mode="after")
    def _check(self) -> EvalConfig:
        if self.top_k < 100:
            raise ValueError("top_k must be at least 100: Recall@100 needs 100 retrieved documents")
        return self

    def identical_ids_for(self, dataset: str) -> bool:
        """Whether ``ignore_identical_ids`` applies to ``dataset`` (explicit setting, else 'arguana' in its name)."""
        if self.ignore_identical_ids is not None:
            return self.ignore_identical_ids
        return "arguana" in dataset.lower()


def resolve_systems(config: EvalConfig) -> list[SystemSpec]:
    """Expand ``config.systems`` into specs, checking names and the models they need.

    Raises:
        ConfigError: an unknown preset, a duplicate name, or a role whose path is not configured.

    A baseline that names no system of the run is dropped (its delta rows would have nothing to compare with).
    """
    presets = preset_systems(config.fusion_alpha, config.close_threshold)
    if config.systems is None:
        names = ["bm25", "minilm"]
        if config.backbone_path:
            names.append("backbone")
        if config.model_path:
            names += ["trained", "trained-think-m1", "trained-think-m3", "bm25-thought"]
        items: list[SystemSpec | str] = list(names)
    else:
        items = list(config.systems)
    specs: list[SystemSpec] = []
    for item in items:
        if isinstance(item, str):
            if item not in presets:
                raise ConfigError(f"unknown system {item!r}; presets: {', '.join(presets)} (or give a SystemSpec)")
            specs.append(presets[item])
        elif isinstance(item, dict):
            specs.append(SystemSpec.model_validate(item))
        else:
            specs.append(item)
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"system names must be unique; repeated: {', '.join(dupes)}")
    for s in specs:
        if s.model == "trained" and not config.model_path:
            raise ConfigError(f"system {s.name!r} needs the trained model: set model_path")
        if s.model == "backbone" and not config.backbone_path:
            raise ConfigError(f"system {s.name!r} needs the backbone: set backbone_path")
    present = set(names)
    return [
        s if s.baseline is None or s.baseline in present else s.model_copy(update={"baseline": None}) for s in specs
    ]


def model_location(spec: SystemSpec, config: EvalConfig) -> str | None:
    """Return the model path a spec refers to (roles resolved), or None for BM25."""
    if spec.model is None:
        return None
    if spec.model == "trained":
        return config.model_path
    if spec.model == "backbone":
        return config.backbone_path
    if spec.model == "minilm":
        from o1embed.tasks.packaged_models import minilm_path

        return str(minilm_path())
    return spec.model
