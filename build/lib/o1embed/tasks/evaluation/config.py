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

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from o1embed.tasks.errors import ConfigError

SystemKind = Literal["bm25", "dense", "encoder", "expansion"]

# Model roles a SystemSpec.model may name instead of a path.
MODEL_ROLES = ("trained", "backbone", "minilm")


class SystemSpec(BaseModel):
    """One system of the report.

    Kinds:
        ``bm25``: a lexical retriever from :mod:`tasks.retrievers` over ``title text``.
        ``dense``: a sentence-transformers retriever from :mod:`tasks.retrievers` (``model`` is a path or ``minilm``).
        ``encoder``: a :class:`QueryDocEncoder` (``trainer.encoder.O1Encoder``) with exact or FAISS search;
        ``think`` and ``num_thoughts`` choose bare-query or think-then-embed query vectors.
        ``expansion``: BM25 over ``query + thought``, the thought written by the encoder named by ``model``
        (thinking as query expansion).

    Example:
        >>> SystemSpec(name="o1-m3", kind="encoder", model="trained", think=True, num_thoughts=3).think
        True
    """

    name: str = Field(description="Label of the system in the report; unique within a run.")
    kind: SystemKind = Field(description="bm25 | dense | encoder | expansion (see the class docstring).")
    model: str | None = Field(
        default=None,
        description="A model path, or a role: 'trained' (EvalConfig.model_path), 'backbone' (EvalConfig.backbone_path), "
        "'minilm' (the packaged all-MiniLM-L6-v2). Required for dense, encoder and expansion.",
    )
    think: bool = Field(default=False, description="encoder: write thoughts and embed query + thought.")
    num_thoughts: int = Field(
        default=1, ge=1, description="encoder/expansion: thoughts per query (m); vectors averaged."
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
        if self.kind == "expansion" and not self.think:
            self.think = True  # an expansion system always uses the model's thoughts
        return self


def preset_systems() -> dict[str, SystemSpec]:
    """The systems a report compares, by preset name.

    ``bm25``, ``minilm``, ``backbone`` (the model before training, bare queries), ``trained`` (bare queries),
    ``trained-think-m1``, ``trained-think-m3`` and ``bm25-thought`` (BM25 over query + the trained model's thought).
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
    out_dir: str | None = Field(
        default=None, description="Report folder; default <runs_root>/reports/<timestamp>."
    )
    max_queries: int | None = Field(
        default=None, ge=1, description="Evaluate only the first N judged queries."
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
    top_k: int = Field(
        default=100, ge=10, description="Documents retrieved per query (Recall@100 needs >= 100)."
    )
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
    batch_size: int = Field(
        default=32, ge=1, description="Encoding batch size for dense and encoder systems."
    )
    device: str | None = Field(
        default=None, description="Device for dense and encoder systems (None: their default)."
    )
    dtype: str | None = Field(
        default=None,
        description="Weights dtype of encoder systems (float32, bfloat16, ...; None: the encoder's auto, fp32 on "
        "CPU). bfloat16 forward passes are ~3x faster than float32 on CPUs with avx512_bf16 or AMX.",
    )
    cache_dir: str | None = Field(
        default=None,
        description="Folder for cached document vectors; default <cache_root>/eval_doc_vectors; '' disables.",
    )
    doc_chunk_size: int = Field(
        default=512,
        ge=1,
        description="Documents per cached chunk: an interrupted corpus encoding resumes from its last whole "
        "chunk.",
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
    presets = preset_systems()
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
                raise ConfigError(
                    f"unknown system {item!r}; presets: {', '.join(presets)} (or give a SystemSpec)"
                )
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
        s if s.baseline is None or s.baseline in present else s.model_copy(update={"baseline": None})
        for s in specs
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
        from o1embed.tasks.models import minilm_path

        return str(minilm_path())
    return spec.model
