"""The typed manifest of a dataset version: one model per stage's section, and :class:`Manifest` over them.

Every stage writes its section into the same ``manifest.json`` (:meth:`tasks.shards.DatasetVersion.write_manifest`):
the synthesize stage the lineage (``source``, ``llm``, ``usage``; :mod:`tasks.synthesis.lineage`), the committee
its ``committee`` section (:mod:`tasks.committee.finalize`), and the version itself the ``tables``. These models are
the schema those writers share; :meth:`DatasetVersion.manifest_model` validates a manifest on read and
``write_manifest`` validates before writing. Keys a model does not name are kept (``extra="allow"``), and a section
an older manifest lacks reads as None, so every manifest written before the models still reads. The JSON written is
the writers' dict, unchanged.

Example:
    >>> m = Manifest.model_validate({"revision": 1, "dataset": "d", "split": "train", "version": "v"})
    >>> m.committee is None and m.llm is None
    True
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")


class SourceSection(_Section):
    """The BEIR folder a revision read, and the sha256 of its files."""

    dir: str
    checksums: dict[str, str]


class LLMSection(_Section):
    """How the candidates were generated: model, public endpoint (no secrets), prompt, sampling, K."""

    model: str
    endpoint: str | None = None
    prompt_template_hash: str
    prompt: dict[str, Any]
    sampling: dict[str, Any]
    candidates_per_query: int
    demo_policy: str | None = None
    demo_seed_rule: str | None = None
    style_rule: str | None = None
    request_modes: list[dict[str, Any]] | None = None


class CommitteeSection(_Section):
    """The committee's run: its config and fingerprint, members, the shards it judged and the vote statistics."""

    config: dict[str, Any] | None = None
    fingerprint: str | None = None
    members: list[dict[str, Any]] = []
    shards_judged_now: list[str] = []
    seconds_per_1000_candidates: float | None = None
    stats: dict[str, Any] = {}
    stats_path: str | None = None
    histogram_path: str | None = None


class TableStats(_Section):
    """Rows of one table and its shards' files, rows and sha256 (read from disk at write time)."""

    rows: int
    shards: list[dict[str, Any]] = []


class Manifest(_Section):
    """A dataset version's manifest (``_manifests/<partition>/manifest.json``)."""

    revision: int
    dataset: str
    split: str
    version: str
    created_at: str | None = None
    code_version: str | None = None
    source: SourceSection | None = None
    llm: LLMSection | None = None
    shard_size: int | None = None
    revisions: list[int] = []
    usage: dict[str, dict[str, Any]] = {}
    committee: CommitteeSection | None = None
    tables: dict[str, TableStats] = {}
