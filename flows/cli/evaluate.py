"""``o1embed evaluate``: compare retrieval systems on BEIR folders and write a report.

Example::

    o1embed evaluate scifact birco_arguana --model data/runs/models/o1 --max-queries 50
    o1embed evaluate /data/nfcorpus --system bm25 --system minilm
    o1embed evaluate scifact --system '{"name": "mine", "kind": "encoder", "model": "/m", "think": true}'
"""

from __future__ import annotations

import json

import typer

from o1embed.tasks.errors import ConfigError


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
            None, help="Bundled set names (data/beir/<name>) or BEIR folders; none means every bundled set."
        ),
        model: str = typer.Option(
            None, "--model", help="Trained O1 model folder (enables the trained-model systems)."
        ),
        backbone: str = typer.Option(
            None, "--backbone", help="The backbone before training (enables 'backbone')."
        ),
        system: list[str] = typer.Option(
            None,
            "--system",
            help="A preset (bm25, minilm, backbone, trained, trained-think-m1, trained-think-m3, bm25-thought, "
            "trained-never, trained-always, trained-auto, trained-auto-fused, bm25-thought-auto) or a SystemSpec as "
            "JSON; repeat for several. Default: every system the given models allow.",
        ),
        split: str = typer.Option("test", help="qrels split."),
        max_queries: int = typer.Option(None, help="Evaluate only the first N judged queries per dataset."),
        corpus_sample: int = typer.Option(
            None, help="Search only the positives of the evaluated queries plus N other documents."
        ),
        seed: int = typer.Option(0, help="Seed of the corpus sample."),
        doc_max_tokens: int = typer.Option(
            256, help="Cut documents to N tokens (dense and encoder systems)."
        ),
        top_k: int = typer.Option(100, help="Documents retrieved per query (>= 100)."),
        ignore_identical_ids: bool = typer.Option(
            None,
            "--ignore-identical-ids/--keep-identical-ids",
            help="Drop retrieved documents whose id is the query id (default: on for names containing 'arguana').",
        ),
        faiss_threshold: int = typer.Option(200_000, help="Use a FAISS index above this many documents."),
        batch_size: int = typer.Option(32, help="Encoding batch size."),
        device: str = typer.Option(None, help="Device for dense and encoder systems (cpu, cuda, ...)."),
        dtype: str = typer.Option(
            None, help="Encoder weights dtype (float32, bfloat16; default: bf16 on GPU, fp32 on CPU)."
        ),
        out: str = typer.Option(
            None, "--out", help="Report folder (default: data/runs/reports/<timestamp>)."
        ),
        flow: bool = typer.Option(
            False, "--flow", help="Run as the Prefect flow 'evaluate' (artifacts, run history)."
        ),
    ) -> None:
        """Evaluate retrieval systems on BEIR folders: per-query Parquet, markdown table, bar chart."""
        from pydantic import ValidationError

        from o1embed.tasks.evaluation.config import EvalConfig

        try:
            config = EvalConfig(
                datasets=list(datasets or []),
                split=split,
                model_path=model,
                backbone_path=backbone,
                systems=_system_items(system),
                out_dir=out,
                max_queries=max_queries,
                corpus_sample=corpus_sample,
                seed=seed,
                doc_max_tokens=doc_max_tokens,
                top_k=top_k,
                ignore_identical_ids=ignore_identical_ids,
                faiss_threshold=faiss_threshold,
                batch_size=batch_size,
                device=device,
                dtype=dtype,
            )
            if flow:
                from o1embed.flows.evaluate import evaluate_flow

                report = evaluate_flow(config=config)
            else:
                from o1embed.flows.evaluate import run_evaluation

                report = run_evaluation(config)
        except (ConfigError, ValidationError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(ndcg_table(report))
        typer.echo(f"report: {report.paths['markdown']}")


def ndcg_table(report) -> str:
    """The nDCG@10 of every system on every dataset, as a markdown table, from the report's summary."""
    from o1embed.tasks.evaluation.chart import summary_value
    from o1embed.tasks.evaluation.report import markdown_table

    datasets = [d["dataset"] for d in report.datasets]
    rows = [[sp.name, *(summary_value(report.summary, ds, sp.name, "ndcg_at_10") for ds in datasets)]
            for sp in report.systems]  # fmt: skip
    return "nDCG@10\n\n" + markdown_table(["system", *datasets], rows)
