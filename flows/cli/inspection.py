"""``o1embed inspect``: what an output folder holds, read with Polars."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect_cmd(
        root: str = typer.Argument(..., help="An output folder (e.g. data/runs/scifact)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
        price_per_million: tuple[float, float] | None = typer.Option(
            None,
            "--price-per-million",
            help="Prompt and completion price per million tokens (e.g. 0.5 1.5): adds an estimated cost.",
        ),
    ) -> None:
        """Tables, rows, versions and revisions, errors by reason, vote statistics, expert tokens and cost."""
        from o1embed.tasks.inspection import inspect_output

        report = inspect_output(root, price_per_million)
        if as_json:
            typer.echo(json.dumps(report, indent=2))
            return
        if not report:
            typer.echo(f"no dataset version under {root}")
            raise typer.Exit(1)
        for v in report:
            typer.echo(f"dataset={v['dataset']} split={v['split']} version={v['version']} model={v['llm_model']}")
            typer.echo(f"  revisions planned {v['revisions']}, manifest at revision {v['complete_revision']}")
            for t, n in v["tables"].items():
                m = v["manifest_rows"].get(t)
                typer.echo(f"  {t:<11} {n:>8} rows" + ("" if m in (None, n) else f"  (manifest says {m})"))
            for t, u in v["tokens"].items():
                cost = f"  est. cost {u['cost']:.4f}" if "cost" in u else ""
                typer.echo(
                    f"  tokens {t:<10} prompt {u['prompt_tokens']:>12,} completion {u['completion_tokens']:>12,}" + cost
                )
            if v["request_modes"]:
                typer.echo(f"  demo policy {v['demo_policy']}, requests {json.dumps(v['request_modes'])}")
            for e in v["errors"][:10]:
                typer.echo(f"  error [{e['stage']}] {e['reason']}: {e['rows']}")
            if v["votes"]:
                typer.echo("  votes " + json.dumps(v["votes"]))
