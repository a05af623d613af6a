"""``o1embed evaluate``: compare retrieval systems on BEIR folders and write a report.

The datasets, the models, the systems and the report folder are arguments; every other
:class:`~o1embed.tasks.evaluation.config.EvalConfig` field keeps its own default unless the config file or a
``--set`` names it (see :mod:`o1embed.flows.cli.overrides`)::

    o1embed evaluate scifact birco_arguana --model data/runs/models/o1 --set max_queries=50
    o1embed evaluate /data/nfcorpus --system bm25 --system minilm --set corpus_sample=1000 --set seed=1
    o1embed evaluate scifact --system '{"name": "mine", "kind": "encoder", "model": "/m", "think": true}'
    o1embed evaluate --config eval.yaml --set dtype=bfloat16 --set ignore_identical_ids=true --flow
"""

from __future__ import annotations

import json

import typer

from o1embed.flows.cli.overrides import CONFIG_HELP, SET_HELP, build_config
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import preset_systems


def _system_items(values: list[str] | None) -> list | None:
    if not values:
        return None
    out: list = []
    for v in values:
        v = v.strip()
        if v.startswith("{"):
            try:
                out.append(json.loads(v))
            except json.JSONDecodeError as exc:
                raise typer.BadParameter(f"--system {v!r} is not valid JSON: {exc.msg}") from exc
        else:
            out.append(v)
    return out


def register(app: typer.Typer) -> None:
    """Add ``o1embed evaluate`` to ``app``."""

    @app.command("evaluate")
    def evaluate(
        datasets: list[str] = typer.Argument(
            None,
            help="Bundled set names (data/beir/<name>) or BEIR folders; none means the config's (default: every "
            "bundled set).",
        ),
        model: str = typer.Option(None, "--model", help="Trained O1 model folder (enables the trained-model systems)."),
        backbone: str = typer.Option(None, "--backbone", help="The backbone before training (enables 'backbone')."),
        system: list[str] = typer.Option(
            None,
            "--system",
            help=f"A preset ({', '.join(preset_systems())}) or a SystemSpec as JSON; repeat for several. "
            "Default: every system the given models allow.",
        ),
        out: str = typer.Option(None, "--out", help="Report folder (out_dir)."),
        config: str = typer.Option(None, "--config", help=CONFIG_HELP),
        sets: list[str] = typer.Option([], "--set", help=SET_HELP),
        flow: bool = typer.Option(False, "--flow", help="Run as the Prefect flow 'evaluate' (artifacts, run history)."),
    ) -> None:
        """Evaluate retrieval systems on BEIR folders: per-query Parquet, markdown table, bar chart.

        Any EvalConfig field: ``--set max_queries=50 --set corpus_sample=1000 --set dtype=bfloat16``.
        """
        from pydantic import ValidationError

        from o1embed.tasks.evaluation.config import EvalConfig

        cfg = build_config(
            EvalConfig,
            config,
            sets,
            {
                "datasets": list(datasets) if datasets else None,
                "model_path": model,
                "backbone_path": backbone,
                "systems": _system_items(system),
                "out_dir": out,
            },
        )
        try:
            if flow:
                from o1embed.flows.evaluate import evaluate_flow

                report = evaluate_flow(cfg)
            else:
                from o1embed.flows.evaluate import run_evaluation

                report = run_evaluation(cfg)
        except (ConfigError, ValidationError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(ndcg_table(report))
        typer.echo(f"report: {report.paths['markdown']}")


def ndcg_table(report) -> str:
    """The nDCG@10 of every system on every dataset, as a markdown table, from the report's summary."""
    from o1embed.tasks.evaluation.chart import summary_value
    from o1embed.tasks.evaluation.markdown import markdown_table

    datasets = [d["dataset"] for d in report.datasets]
    rows = [[sp.name, *(summary_value(report.summary, ds, sp.name, "ndcg_at_10") for ds in datasets)]
            for sp in report.systems]  # fmt: skip
    return "nDCG@10\n\n" + markdown_table(["system", *datasets], rows)
