"""Configuration of the retrieval committee (one typed object, overridable from the CLI and flow parameters).

Example:
    >>> cfg = CommitteeConfig()
    >>> [m.member_name for m in cfg.members]
    ['bm25', 'minilm']
    >>> cfg.no_gain_policy
    'query_only'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from o1embed.tasks.hashing import stable_hash
from o1embed.tasks.retrievers.spec import LATER_SPEC_FIELDS, RetrieverSpec
from o1embed.tasks.versioning import RUN_ONLY, rows_dump, run_only_fields

NoGainPolicy = Literal["keep", "drop", "query_only"]


def default_members() -> list[RetrieverSpec]:
    """BM25 (bm25s, Lucene variant, English stop words and stemmer) and all-MiniLM-L6-v2."""
    return [RetrieverSpec(kind="bm25s"), RetrieverSpec(kind="dense")]


class CommitteeConfig(BaseModel):
    """How the committee judges candidate thoughts, votes, and mines hard negatives."""

    model_config = ConfigDict(extra="forbid")

    members: list[RetrieverSpec] = Field(default_factory=default_members, description="committee members")
    template: str = Field(
        "{query} {thought}",
        description="member search query built from a candidate; '{thought}' alone reproduces the reference",
    )
    pool_top_n: int | None = Field(
        None,
        ge=1,
        description="None: rank the positive in the whole corpus; N: in the member's top-N of the query-only "
        "search joined with the positives (for large corpora)",
    )
    vote: Literal["majority", "soft"] = Field(
        "majority",
        description="majority: each member votes for the candidate that ranks the positive best, ties between "
        "candidates broken by mean reciprocal rank; soft: the reference's summed per-member softmax of scores",
    )
    no_gain_policy: NoGainPolicy = Field(
        "query_only",
        description="when the winner does not beat the bare query (mean gain <= 0): keep it, drop the query, or "
        "keep the query with an empty thought (query-only example)",
    )
    negatives_count: int = Field(15, ge=0, description="hard negatives per query")
    negatives_skip: int = Field(
        3, ge=0, description="top-ranked non-positive documents skipped (guard against unlabelled positives)"
    )
    negatives_from: Literal["chosen", "query"] = Field(
        "chosen", description="search query for mining: the chosen example's search query, or the bare query"
    )
    negatives_depth: int = Field(100, ge=1, description="top-k per member fused (reciprocal-rank fusion) for mining")
    rrf_k: int = Field(60, ge=1, description="reciprocal-rank-fusion constant")
    batch_queries: int = Field(
        64,
        ge=1,
        description="queries per member call (each brings 1 + K search queries)",
        json_schema_extra=RUN_ONLY,
    )
    use_ray: bool = Field(
        True,
        description="hold members in Ray actors (else in the calling process)",
        json_schema_extra=RUN_ONLY,
    )
    actor_num_cpus: float = Field(1.0, gt=0, description="CPUs reserved per member actor", json_schema_extra=RUN_ONLY)
    actor_num_gpus: float = Field(
        0.0, ge=0, description="GPUs reserved per dense member actor (0 on CPU)", json_schema_extra=RUN_ONLY
    )
    max_parallel_shards: int = Field(
        2,
        ge=1,
        description="shards judged at once (they share the member actors)",
        json_schema_extra=RUN_ONLY,
    )

    @model_validator(mode="after")
    def _check(self) -> CommitteeConfig:
        if not self.members:
            raise ValueError("the committee needs at least one member")
        names = [m.member_name for m in self.members]
        if len(set(names)) != len(names):
            raise ValueError(f"member names must be unique, got {names}; set `name` on the specs")
        if "{thought}" not in self.template:
            raise ValueError("template must contain {thought}")
        try:
            self.template.format(query="q", thought="t")
        except (KeyError, IndexError) as exc:
            raise ValueError(f"template may use only {{query}} and {{thought}}: {exc}") from exc
        if self.negatives_depth < self.negatives_skip + self.negatives_count:
            raise ValueError("negatives_depth must be >= negatives_skip + negatives_count")
        return self

    def search_query(self, query: str, thought: str | None) -> str:
        """The members' search query for a candidate (``thought=None``: the bare query, the baseline)."""
        if thought is None:
            return query
        return self.template.format(query=query, thought=thought).strip()

    def fingerprint(self) -> str:
        """A short hash of everything that changes the committee's rows.

        Where and how fast the members run (Ray, CPUs, GPUs, batch sizes, threads, device, the embedding cache) is
        left out, so a rerun or a refresh may move the committee to other hardware and still extend the version.
        """
        return stable_hash(rows_dump(self), 16)

    def legacy_fingerprint(self) -> str:
        """The fingerprint written by versions before 2026-11-28, which hashed the member specs whole.

        Accepted by :func:`tasks.committee.stage.check_config_matches`, so versions written then still resume.
        """
        body = self.model_dump(exclude=run_only_fields(self))
        body["members"] = [  # as specs were dumped then: without the fields added since, when they are unset
            {k: v for k, v in d.items() if k not in LATER_SPEC_FIELDS or v != RetrieverSpec.model_fields[k].default}
            for d in body["members"]
        ]
        return stable_hash(body, 16)
