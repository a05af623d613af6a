"""``o1embed committee run|check`` and ``o1embed export --format flagembedding``.

Example (after ``o1embed synthesize``)::

    o1embed committee run data/runs/scifact               # judge every pending shard (Prefect flow, Ray actors)
    o1embed committee run data/runs/scifact --set no_gain_policy=keep --set use_ray=false --no-prefect
    o1embed committee check data/runs/scifact             # outside-retriever check of the chosen thoughts
    o1embed export --format flagembedding data/runs/scifact --out scifact-train.jsonl
"""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from o1embed.flows.cli.overrides import CONFIG_HELP, SET_HELP, build_config
from o1embed.tasks.shards import only_version


def register(app: typer.Typer) -> None:
    committee_app = typer.Typer(no_args_is_help=True, help="Retrieval committee: judge thoughts, write examples.")
    app.add_typer(committee_app, name="committee")

    @committee_app.command("run")
    def run_cmd(
        output_root: str = typer.Argument(..., help="Synthesis output folder (holds candidates/ and _manifests/)."),
        dataset: str = typer.Option(None, help="Dataset name (default: the only one)."),
        split: str = typer.Option(None, help="Split (default: the only one)."),
        version: str = typer.Option(None, help="Dataset version (default: the only one)."),
        config: str = typer.Option(None, "--config", help=CONFIG_HELP),
        sets: list[str] = typer.Option([], "--set", help=SET_HELP),
        no_prefect: bool = typer.Option(False, "--no-prefect", help="Run without Prefect (plain loop)."),
    ) -> None:
        """Judge every pending candidates shard and write judgements and examples.

        Any CommitteeConfig field: ``--set no_gain_policy=keep --set use_ray=false``.
        """
        from o1embed.tasks.committee.config import CommitteeConfig

        cfg = build_config(CommitteeConfig, config, sets)
        dv = only_version(output_root, dataset, split, version)
        if no_prefect:  # the same driver, shards one after another
            from o1embed.tasks.committee.stage import run_committee

            with dv.writer_lock():
                out = run_committee(dv, cfg)
        else:
            from o1embed.flows.committee import committee

            out = committee(str(dv.root), dv.dataset, dv.split, dv.version, cfg)
        typer.echo(json.dumps(asdict(out), indent=2, default=str))

    @committee_app.command("check")
    def check_cmd(
        output_root: str = typer.Argument(..., help="Synthesis output folder."),
        dataset: str = typer.Option(None),
        split: str = typer.Option(None),
        version: str = typer.Option(None),
        config: str = typer.Option(None, "--config", help=CONFIG_HELP),
        sets: list[str] = typer.Option([], "--set", help=SET_HELP),
        out: str = typer.Option(None, help="Also write the report as JSON here."),
    ) -> None:
        """Mean gain of the chosen thoughts vs a random candidate, under a retriever outside the committee.

        Any OutsideCheckConfig field: ``--set outside.kind=dense --set outside.model_path=... --set seed=1``.
        """
        from o1embed.tasks.atomic import write_json_atomic
        from o1embed.tasks.committee.check import OutsideCheckConfig, outside_check

        cfg = build_config(OutsideCheckConfig, config, sets)
        report = outside_check(only_version(output_root, dataset, split, version), **dict(cfg))
        if out:
            write_json_atomic(out, report)
        typer.echo(json.dumps(report, indent=2))

    @app.command("export")
    def export_cmd(
        output_root: str = typer.Argument(..., help="Synthesis output folder."),
        out: str = typer.Option(..., help="JSONL file to write."),
        format: str = typer.Option("flagembedding", "--format", help="Only 'flagembedding' (query/pos/neg JSONL)."),
        dataset: str = typer.Option(None),
        split: str = typer.Option(None),
        version: str = typer.Option(None),
        fold_thought: bool = typer.Option(False, help="Write 'query thought' as the query."),
    ) -> None:
        """Export the training examples as FlagEmbedding / sentence-transformers JSONL."""
        from o1embed.tasks.committee.export import export_flagembedding

        if format != "flagembedding":
            raise typer.BadParameter(f"unknown format {format!r}; supported: flagembedding", param_hint="--format")
        n = export_flagembedding(only_version(output_root, dataset, split, version), out, fold_thought)
        typer.echo(f"wrote {n} examples to {out}")
