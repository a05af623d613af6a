"""Typed configuration of the O1 model format and of a training run, plus named presets.

Two objects:

- :class:`O1ModelConfig` travels *with a model*: special tokens, per-part lengths, pooling, dtype and the
  ``first_emb`` flag. The trainer writes it as ``o1_config.json`` next to the Hugging Face weights, and the encoder
  reads it back, so training and inference use one set of lengths and one precision.
- :class:`TrainConfig` describes one training run: model, data, loss, optimisation, distribution, checkpoints.

Defaults are the paper's GPU setting (O1 Embedder, arXiv 2502.07555). ``PRESETS["cpu-small"]`` makes the small real run
on a 2-core CPU one flag (``o1embed train --preset cpu-small``).

Example:
    >>> data = {"examples_path": "examples.parquet", "corpus_path": "corpus.parquet"}
    >>> cfg = TrainConfig.from_preset("cpu-small", output_dir="/tmp/run", data=data, max_steps=10)
    >>> cfg.queries_per_step, cfg.negatives_per_query, cfg.model.max_passage_tokens
    (4, 3, 128)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.versioning import RUN_ONLY

O1_CONFIG_FILE = "o1_config.json"

QUERY_START, QUERY_END, THOUGHT, EMB = "<query>", "</query>", "<thought>", "<emb>"
SPECIAL_TOKENS = [QUERY_START, QUERY_END, THOUGHT, EMB]

Dtype = Literal["auto", "float32", "bfloat16", "float16"]


class O1ModelConfig(BaseModel):
    """How sequences are built and vectors read for one model; saved as ``o1_config.json``."""

    model_config = ConfigDict(extra="forbid")

    special_tokens: list[str] = Field(default_factory=lambda: list(SPECIAL_TOKENS), description="The four markers.")
    max_query_tokens: int = Field(32, ge=1, description="Query text tokens kept (between <query> and </query>).")
    max_thought_tokens: int = Field(224, ge=0, description="Thought text tokens kept (before the end token).")
    max_passage_tokens: int = Field(192, ge=1, description="Document 'title text' tokens kept (before <emb>).")
    first_emb: bool = Field(
        False,
        description="Put an <emb> right after </query>: the query-only vector from the same pass, trained with "
        "its own InfoNCE term (averaged with the thought vector's).",
    )
    pooling: Literal["emb_last_hidden"] = Field(
        "emb_last_hidden", description="Vector = last hidden state at the (last) <emb>, L2-normalised."
    )
    dtype: Dtype = Field("auto", description="Training/inference precision: auto = bf16 on GPU, fp32 on CPU.")

    def save(self, folder: str | Path) -> Path:
        """Write ``o1_config.json`` into ``folder`` atomically."""
        from o1embed.tasks.atomic import write_json_atomic

        return write_json_atomic(Path(folder) / O1_CONFIG_FILE, self.model_dump(mode="json"))

    @classmethod
    def load(cls, folder: str | Path) -> O1ModelConfig | None:
        """Read ``o1_config.json`` from ``folder``; None when the folder has none (a plain backbone)."""
        path = Path(folder) / O1_CONFIG_FILE
        if not path.exists():
            return None
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except Exception as exc:  # pydantic or JSON error: name the file
            raise ConfigError(f"{path}: invalid o1 config: {exc}") from exc


class DataConfig(BaseModel):
    """Where the examples and corpus tables come from: a dataset version, or two Parquet paths."""

    model_config = ConfigDict(extra="forbid")

    root: str | None = Field(None, description="Root of a DatasetVersion layout (tasks.shards).")
    dataset: str | None = Field(None, description="Dataset name of the version, e.g. scifact.")
    split: str = Field("train", description="Split of the version.")
    version: str = Field("latest", description="Version id; 'latest' = the newest with a manifest under root.")
    examples_path: str | None = Field(None, description="Parquet file or folder of the examples table.")
    corpus_path: str | None = Field(None, description="Parquet file or folder of the corpus table.")

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        by_paths = self.examples_path is not None or self.corpus_path is not None
        if by_paths and not (self.examples_path and self.corpus_path):
            raise ValueError("give both examples_path and corpus_path")
        if not by_paths and not (self.root and self.dataset):
            raise ValueError("name a dataset version (root and dataset) or examples_path and corpus_path")
        return self


class TrainConfig(BaseModel):
    """One training run of the joint O1 model (behaviour cloning + contrastive) from one forward pass.

    Defaults follow the paper (Qwen2.5-7B, LoRA r=32 alpha=64, LR 1e-4, 10% warm-up, bf16, checkpointing,
    64 queries per global batch, 15 hard negatives). See ``PRESETS`` for the CPU setting.
    """

    model_config = ConfigDict(extra="forbid")

    model_path: str | None = Field(None, description="Hugging Face causal LM folder; None = prepared SmolLM2-135M.")
    data: DataConfig
    output_dir: str = Field(
        description="Run folder: final model, checkpoints, logs, plots.", json_schema_extra=RUN_ONLY
    )
    model: O1ModelConfig = Field(default_factory=O1ModelConfig, description="Lengths, pooling, dtype (saved).")

    queries_per_step: int = Field(64, ge=1, description="Global batch in queries (split evenly across workers).")
    negatives_per_query: int = Field(15, ge=0, description="Hard negatives per query (plus in-batch passages).")
    contrastive_weight: float = Field(0.8, ge=0, le=1, description="lambda in lambda*InfoNCE + (1-lambda)*LM.")
    temperature: float = Field(0.02, gt=0, description="InfoNCE temperature tau.")
    thought_dropout: float = Field(
        0.1, ge=0, le=1, description="Share of examples trained as the bare query (no thought block)."
    )
    learn_when_to_think: bool = Field(
        True,
        description="Examples whose committee decision is 'no thought beats the query' train the model to close "
        "the thought at once (<query>q</query><thought></s><emb>, LM label on that </s>); False trains them as "
        "the bare query, as before.",
    )
    min_thought_gain: float | None = Field(
        None,
        description="Margin: a thought counts as a winner only if its committee gain over the bare query is at "
        "least this (the examples' gain column); below it the example trains the immediate close. None = the "
        "committee's own decision.",
    )
    decision_weight: float = Field(
        0.0,
        ge=0,
        description="Weight of the decision loss: binary cross-entropy of p_close (the probability of closing the "
        "thought at once, what think='auto' thresholds) against the committee's decision, at the <thought> of each "
        "example with a thought or a skip (trainer.losses). 0 = the LM loss alone teaches the decision.",
    )
    holdout_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="Share of the examples kept out of training, chosen by a hash of the query id; the run folder's "
        "holdout.parquet lists them (bench/decision_auc.py measures the decision on them).",
    )
    query_vector_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="With first_emb: share of the InfoNCE term given to the query-only vector (the <emb> after "
        "</query>); the thought vector gets the rest. 0.5 = the plain mean of both terms.",
    )

    finetune: Literal["lora", "full"] = Field("lora", description="LoRA adapters (peft) or full fine-tuning.")
    lora_r: int = Field(32, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(64, ge=1, description="LoRA alpha.")
    lora_dropout: float = Field(0.0, ge=0, le=1, description="LoRA dropout.")
    lora_target_modules: str | list[str] = Field("all-linear", description="peft target_modules.")
    gradient_checkpointing: bool = Field(True, description="Recompute activations in backward to save memory.")

    learning_rate: float = Field(1e-4, gt=0, description="Peak AdamW learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay (not applied to embedding rows).")
    warmup_ratio: float = Field(0.1, ge=0, le=1, description="Share of steps of linear warm-up.")
    max_grad_norm: float | None = Field(1.0, description="Clip the global gradient norm; None = no clipping.")
    epochs: int = Field(1, ge=1, description="Passes over the examples (ignored when max_steps is set).")
    max_steps: int | None = Field(None, ge=1, description="Total optimiser steps; None = epochs over the data.")
    seed: int = Field(42, description="Seeds the data order, negatives, thought dropout and initialisation.")

    num_workers: int = Field(
        1,
        ge=1,
        description="Ray Train workers (processes); 1 GPU each when use_gpu.",
        json_schema_extra=RUN_ONLY,
    )
    use_gpu: bool | None = Field(
        None, description="None = use GPUs when the Ray cluster has any.", json_schema_extra=RUN_ONLY
    )
    cpus_per_worker: int = Field(
        1, ge=1, description="CPUs (and torch threads) per worker.", json_schema_extra=RUN_ONLY
    )
    max_failures: int = Field(
        1,
        ge=0,
        description="Ray Train FailureConfig: worker-group restarts allowed.",
        json_schema_extra=RUN_ONLY,
    )
    use_ray: bool = Field(
        True,
        description="Run under Ray Train; False runs the same loop in this process.",
        json_schema_extra=RUN_ONLY,
    )

    checkpoint_every: int = Field(
        100,
        ge=1,
        description="Save a full checkpoint every N steps (and at the end).",
        json_schema_extra=RUN_ONLY,
    )
    keep_checkpoints: int = Field(2, ge=1, description="Newest checkpoints kept.", json_schema_extra=RUN_ONLY)
    resume: bool = Field(
        True,
        description="Resume from the newest checkpoint in output_dir when there is one.",
        json_schema_extra=RUN_ONLY,
    )
    log_every: int = Field(
        1,
        ge=1,
        description="Log a line every N steps (the JSONL log has every step).",
        json_schema_extra=RUN_ONLY,
    )

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.queries_per_step % self.num_workers:
            raise ValueError(
                f"queries_per_step={self.queries_per_step} must be a multiple of num_workers={self.num_workers}"
            )
        return self

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> TrainConfig:
        """Build a config from a named preset, then apply ``overrides`` (nested dicts merge into ``model``/``data``).

        Raises:
            ConfigError: unknown preset.
        """
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(sorted(PRESETS))}")
        body: dict[str, Any] = json.loads(json.dumps(PRESETS[preset]))
        for key, value in overrides.items():
            if key in ("model", "data") and isinstance(value, dict):
                body[key] = {**body.get(key, {}), **value}
            else:
                body[key] = value
        return cls.model_validate(body)

    def with_absolute_paths(self) -> TrainConfig:
        """This config with its local paths made absolute against the current directory.

        Ray Train runs the workers in another working directory, so a relative ``output_dir`` or data root given
        on the command line would otherwise point elsewhere (or nowhere) inside a worker. URIs (``s3://...``) are
        left as they are.

        Example:
            >>> cfg = TrainConfig(output_dir="runs/o1", data={"root": "runs/scifact", "dataset": "scifact"})
            >>> Path(cfg.with_absolute_paths().output_dir).is_absolute()
            True
        """

        def absolute(value: str | None) -> str | None:
            if value is None or "://" in value:
                return value
            return str(Path(value).expanduser().resolve())

        data = {k: absolute(getattr(self.data, k)) for k in ("root", "examples_path", "corpus_path")}
        return self.model_copy(
            update={
                "output_dir": absolute(self.output_dir),
                "model_path": absolute(self.model_path),
                "data": self.data.model_copy(update=data),
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write this configuration as JSON (atomic)."""
        from o1embed.tasks.atomic import write_json_atomic

        return write_json_atomic(path, self.model_dump(mode="json"))


# Presets hold only what differs from the defaults (which are the paper's GPU setting).
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # SmolLM2-135M on a 2-core CPU: 4 queries x (1 positive + 3 negatives), 128-token documents; see
    # docs/results/ for measured step costs. Checkpointing off: memory is not the limit here, time is.
    "cpu-small": {
        "model": {
            "max_query_tokens": 32,
            "max_thought_tokens": 96,
            "max_passage_tokens": 128,
            "dtype": "float32",
        },
        "queries_per_step": 4,
        "negatives_per_query": 3,
        "finetune": "lora",
        "lora_r": 16,
        "lora_alpha": 32,
        "learning_rate": 2e-4,
        "gradient_checkpointing": False,
        "checkpoint_every": 25,
        "max_steps": 200,
        "cpus_per_worker": 2,
    },
}
# Long-query sets (BIRCO queries run to 150-230 tokens): the same CPU run, with queries kept up to 256 tokens so
# they are not cut to 32 at training, and (the encoder reads the length from the model's o1_config.json) at
# inference.
PRESETS["cpu-small-long-query"] = {
    **PRESETS["cpu-small"],
    "model": {**PRESETS["cpu-small"]["model"], "max_query_tokens": 256},
}
