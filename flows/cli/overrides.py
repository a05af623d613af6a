"""The one way the command line sets config fields: ``--config file.yaml`` and ``--set a.b=value``.

A command names the few things it needs as arguments; every other field keeps the config class's own default
(never restated here), or comes from the file (YAML, or JSON, which is YAML too), or from ``--set``. Later sources
win: the file, then the command's arguments, then each ``--set`` in order. A ``--set`` value is parsed as JSON
when it can be (``3``, ``true``, ``null``, ``[1, 2]``), else kept as a string.

Example::

    o1embed synthesize --dataset-dir data/beir/scifact --set candidates_per_query=5 --set llm.concurrency=8
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

CONFIG_HELP = "A YAML (or JSON) file with the config; --set and the arguments override it."
SET_HELP = "Set any config field: --set a.b=value (repeatable; the value is JSON when it parses)."


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["a.b=1", "c=x"]`` into ``{"a": {"b": 1}, "c": "x"}``.

    Raises:
        typer.BadParameter: a pair without ``=``.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise typer.BadParameter(f"--set wants key=value, got {pair!r}", param_hint="--set")
        key, raw = pair.split("=", 1)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = out
        *parents, leaf = key.strip().split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` merged in; nested dicts merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def read_config_file(path: str | Path | None) -> dict[str, Any]:
    """The mapping in a YAML/JSON config file (empty without a file).

    Raises:
        typer.BadParameter: the file is missing or does not hold a mapping.
    """
    if path is None:
        return {}
    path = Path(path)
    try:
        body = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--config") from exc
    if not isinstance(body, dict):
        raise typer.BadParameter(f"{path}: not a mapping of config fields", param_hint="--config")
    return body


def build_config(
    cls: type[M], config: str | Path | None, sets: list[str], arguments: dict[str, Any] | None = None
) -> M:
    """Validate ``cls`` from the file, then the command's ``arguments`` (None values skipped), then ``--set``.

    Raises:
        typer.BadParameter: the result is not a valid ``cls`` (the message names the field).
    """
    body = read_config_file(config)
    body = deep_merge(body, {k: v for k, v in (arguments or {}).items() if v is not None})
    body = deep_merge(body, parse_sets(sets))
    try:
        return cls.model_validate(body)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
