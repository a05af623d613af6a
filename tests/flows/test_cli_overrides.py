"""One way to set a config field from the command line: --config file.yaml, then arguments, then --set."""

from __future__ import annotations

import pytest
import typer

from o1embed.flows.cli.overrides import build_config, parse_sets
from o1embed.tasks.committee.config import CommitteeConfig
from o1embed.tasks.synthesis import SynthesisConfig


def test_sets_nest_and_parse_json_values():
    assert parse_sets(["a.b=1", "c=x", "d=true", "e=null"]) == {"a": {"b": 1}, "c": "x", "d": True, "e": None}
    with pytest.raises(typer.BadParameter, match="key=value"):
        parse_sets(["nokey"])


def test_file_then_arguments_then_sets(tmp_path):
    f = tmp_path / "synth.yaml"
    f.write_text("dataset_dir: /from/file\nsampling:\n  temperature: 0.3\n  seed: 7\nllm:\n  concurrency: 2\n")
    cfg = build_config(
        SynthesisConfig,
        f,
        ["sampling.seed=9", "llm.concurrency=16"],
        {"dataset_dir": "/from/arg", "split": None},
    )
    assert cfg.dataset_dir == "/from/arg" and cfg.split == SynthesisConfig.model_fields["split"].default
    assert cfg.sampling.temperature == 0.3 and cfg.sampling.seed == 9 and cfg.llm.concurrency == 16


def test_a_bad_field_is_a_clear_error():
    with pytest.raises(typer.BadParameter, match="no_gain_policy"):
        build_config(CommitteeConfig, None, ["no_gain_policy=sometimes"])
