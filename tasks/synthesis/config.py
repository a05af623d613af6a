"""The synthesize stage's typed config: what changes the rows (hashed into the version) and where it runs (not).

Example:
    >>> cfg = SynthesisConfig(dataset_dir="data/beir/scifact", split="train", max_queries=50)
    >>> cfg.dataset_name
    'scifact'
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_client import LLMConfig, SamplingConfig
from o1embed.tasks.paths import runs_root
from o1embed.tasks.prompts import PromptConfig
from o1embed.tasks.versioning import RUN_ONLY


class SynthesisConfig(BaseModel):
    """Everything the synthesize stage needs. Fields declared ``RUN_ONLY`` are left out of the dataset version."""

    dataset_dir: str = Field(
        ...,
        description="BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/).",
        json_schema_extra=RUN_ONLY,
    )
    split: str = Field("train", description="qrels split whose (query, positive) pairs get thoughts.")
    dataset_name: str | None = Field(None, description="Name in the output partition; default: the folder name.")
    output_dir: str | None = Field(
        None, description="Output root; default: <data root>/runs/<dataset>.", json_schema_extra=RUN_ONLY
    )
    candidates_per_query: int = Field(3, ge=1, description="K candidate thoughts per query (version).")
    shard_size: int = Field(
        256,
        ge=1,
        description="Queries per shard: one Prefect task per shard (run only: not part of the version).",
        json_schema_extra=RUN_ONLY,
    )
    max_queries: int | None = Field(
        None, ge=1, description="Use only the first N judged queries (by id order); None: all."
    )
    prompt: PromptConfig = Field(default_factory=PromptConfig, description="Prompt layout (version).")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig, description="Sampling (version).")
    llm: LLMConfig = Field(
        default_factory=LLMConfig, description="Endpoint, retries, concurrency.", json_schema_extra=RUN_ONLY
    )
    cache_dir: str | None = Field(
        None, description="LLM response cache; default: <data root>/cache/llm.", json_schema_extra=RUN_ONLY
    )
    use_cache: bool = Field(True, description="Reuse cached successful responses.", json_schema_extra=RUN_ONLY)
    parallel_shards: int = Field(
        2, ge=1, description="Shards in flight at once (Ray tasks).", json_schema_extra=RUN_ONLY
    )

    def model_post_init(self, __context) -> None:
        if self.dataset_name is None:
            self.dataset_name = Path(self.dataset_dir).resolve().name
        if self.output_dir is None:
            self.output_dir = str(runs_root() / self.dataset_name)
        if self.cache_dir is None:
            self.cache_dir = str(ResponseCache.default_dir())
