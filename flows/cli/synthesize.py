"""``o1embed synthesize``: run the synthesize flow from the command line.

Every :class:`~o1embed.tasks.synthesis.SynthesisConfig` field keeps its own default unless the config file or a
``--set`` names it (see :mod:`o1embed.flows.cli.overrides`)::

    o1embed synthesize --dataset-dir data/beir/scifact --set candidates_per_query=3 --set max_queries=50
    o1embed synthesize --config synth.yaml --set llm.model=my-model --no-judge
    o1embed synthesize --dataset-dir data/beir/scifact --set 'prompt.styles=["paper", "keywords"]'   # candidate c
                                                              # uses the (c mod n)-th style
"""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from o1embed.flows.cli.overrides import CONFIG_HELP, SET_HELP, build_config


def register(app: typer.Typer) -> None:
    @app.command("synthesize")
    def synthesize_cmd(
        dataset_dir: str = typer.Option(None, help="BEIR-layout folder (or dataset_dir in --config)."),
        config: str = typer.Option(None, "--config", help=CONFIG_HELP),
        sets: list[str] = typer.Option([], "--set", help=SET_HELP),
        judge: bool = typer.Option(True, "--judge/--no-judge", help="Run the committee after the candidates."),
    ) -> None:
        """Write K candidate thoughts per judged query as Parquet shards with a manifest."""
        from o1embed.flows.synthesize import synthesize
        from o1embed.tasks.synthesis import SynthesisConfig

        cfg = build_config(SynthesisConfig, config, sets, {"dataset_dir": dataset_dir})
        typer.echo(json.dumps(_jsonable(synthesize(cfg, judge=judge)), indent=2, default=str))


def _jsonable(result):
    return asdict(result) if hasattr(result, "__dataclass_fields__") else result
