"""``o1embed ingest``: validate a BEIR-layout folder and report what could not be used."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        folder: str = typer.Argument(..., help="BEIR-layout folder."),
        split: str = typer.Option("test", help="qrels split."),
        errors_out: str = typer.Option(None, help="Write the errors table to this Parquet file."),
    ) -> None:
        """Validate a BEIR folder: counts, and every bad row with file, line, field and reason."""
        from o1embed.tasks.atomic import write_parquet_atomic
        from o1embed.tasks.errors import InputError
        from o1embed.tasks.ingest import load_beir

        try:
            r = load_beir(folder, split)
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(
            f"corpus {r.corpus.num_rows}, queries {r.queries.num_rows}, judgements {r.pairs.num_rows}, "
            f"queries with positives {len(r.positives())}, rejected rows {r.errors.num_rows}"
        )
        for e in r.errors.to_pylist()[:50]:
            typer.echo(f"  {e['file']}:{e['line']} [{e['field'] or '-'}] {e['reason']}")
        if errors_out:
            write_parquet_atomic(errors_out, r.errors)
