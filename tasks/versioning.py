"""What a config hashes into a version: every field that changes the rows, none that only says where or how fast.

A field is *run-only* when it is declared with ``json_schema_extra=RUN_ONLY`` (shard size, parallelism, batch
sizes, devices, threads, concurrency, output folders, caches): two runs that differ only in run-only fields write
the same rows, so they extend the same version, checkpoint or committee. :func:`rows_dump` is a config without its
run-only fields (nested configs and lists of configs included); :func:`rows_hash` is its :func:`stable_hash`.
This is the one mechanism every stage's config uses; a field is marked where it is declared.

Example:
    >>> from pydantic import BaseModel, Field
    >>> class Stage(BaseModel):
    ...     seed: int = 0
    ...     threads: int = Field(4, json_schema_extra=RUN_ONLY)
    >>> rows_dump(Stage(threads=8))
    {'seed': 0}
    >>> rows_hash(Stage(threads=1)) == rows_hash(Stage(threads=64))
    True
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from o1embed.tasks.hashing import stable_hash

RUN_ONLY: dict[str, Any] = {"run_only": True}
HASHED_WHEN_SET: dict[str, Any] = {"hashed_when_set": True}
"""A field added after versions were written: it enters :func:`rows_dump` only when it differs from its default,
so every version, checkpoint and committee written before it keeps its hash."""


def _unset_later_fields(model: BaseModel) -> set[str]:
    return {
        name
        for name, info in type(model).model_fields.items()
        if isinstance(info.json_schema_extra, dict)
        and info.json_schema_extra.get("hashed_when_set")
        and getattr(model, name) == info.default
    }


def run_only_fields(model: type[BaseModel] | BaseModel) -> set[str]:
    """The names of the run-only fields declared on ``model`` (its own level only)."""
    cls = model if isinstance(model, type) else type(model)
    return {
        name
        for name, info in cls.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("run_only")
    }


def rows_dump(model: BaseModel, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
    """``model.model_dump(mode=mode)`` without run-only fields (nor :data:`HASHED_WHEN_SET` fields left at their
    default), at every level of nesting."""
    body = model.model_dump(mode=mode, exclude=run_only_fields(model) | _unset_later_fields(model))
    for name in body:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            body[name] = rows_dump(value, mode)
        elif isinstance(value, list | tuple) and any(isinstance(v, BaseModel) for v in value):
            body[name] = [rows_dump(v, mode) if isinstance(v, BaseModel) else v for v in value]
    return body


def rows_hash(config: BaseModel, length: int | None = 16, /, **extra: Any) -> str:
    """The :func:`stable_hash` of :func:`rows_dump` (``mode="json"``) merged with ``extra`` (e.g. a model)."""
    return stable_hash({**rows_dump(config, "json"), **extra}, length)
