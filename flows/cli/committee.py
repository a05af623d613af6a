"""``o1embed committee run|check`` and ``o1embed export --format flagembedding``.

Example (after ``o1embed synthesize``)::

    o1embed committee run data/runs/scifact               # judge every pending shard (Prefect flow, Ray actors)
    o1embed committee check data/runs/scifact             # outside-retriever check of the chosen thoughts
    o1embed export --format flagembedding data/runs/scifact --out scifact-train.jsonl
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from o1embed.tasks.shards import only_version


def _config(config_json: str | None, overrides: dict):
    from o1embed.tasks.committee.config import CommitteeConfig

    body = {}
    if config_json:
        body = json.loads(Path(config_json).read_text())
    body.update({k: v for k, v in overrides.items() if v is not None})
    return CommitteeConfig.model_validate(body)


def register(app: typer.Typer) -> None:
    committee_app = typer.Typer(
        no_args_is_help=True, help="Retrieval committee: judge thoughts, write examples."
    )
    app.add_typer(committee_app, name="committee")

    @committee_app.command("run")
    def run_cmd(
        output_root: str = typer.Argument(
            ..., help="Synthesis output folder (holds candidates/ and _manifests/)."
        ),
        dataset: str = typer.Option(None, help="Dataset name (default: the only one)."),
        split: str = typer.Option(None, help="Split (default: the only one)."),
        version: str = typer.Option(None, help="Dataset version (default: the only one)."),
        config_json: str = typer.Option(None, "--config", help="JSON file with a CommitteeConfig."),
        policy: str = typer.Option(None, help="No-gain policy: query_only (default), keep or drop."),
        vote: str = typer.Option(None, help="majority (default) or soft (the reference's)."),
        template: str = typer.Option(None, help="Search query template, default '{query} {thought}'."),
        pool_top_n: int = typer.Option(
            None, help="Rank within top-N of the query-only search (large corpora)."
        ),
        dense_model: str = typer.Option(None, help="Local folder of the dense member (default: MiniLM)."),
        negatives: int = typer.Option(None, help="Hard negatives per query (default 15)."),
        skip: int = typer.Option(None, help="Top non-positive ranks skipped before mining (default 3)."),
        no_ray: bool = typer.Option(False, "--no-ray", help="Hold the members in this process."),
        no_prefect: bool = typer.Option(False, "--no-prefect", help="Run without Prefect (plain loop)."),
    ) -> None:
        """Judge every pending candidates shard and write judgements and examples."""
        overrides = {
            "no_gain_policy": policy,
            "vote": vote,
            "template": template,
            "pool_top_n": pool_top_n,
            "negatives_count": negatives,
            "negatives_skip": skip,
            "use_ray": False if no_ray else None,
        }
        if dense_model:
            from o1embed.tasks.retrievers.spec import RetrieverSpec

            overrides["members"] = [
                RetrieverSpec(kind="bm25s"),
                RetrieverSpec(kind="dense", model_path=dense_model),
            ]
        cfg = _config(config_json, overrides)
        dv = only_version(output_root, dataset, split, version)
        if no_prefect:
            from o1embed.tasks.committee.stage import run_committee

            with dv.writer_lock():
                out = run_committee(dv, cfg)
        else:
            from o1embed.flows.committee import committee

            out = committee(str(dv.root), dv.dataset, dv.split, dv.version, cfg)
        typer.echo(json.dumps(out, indent=2, default=str))

    @committee_app.command("check")
    def check_cmd(
        output_root: str = typer.Argument(..., help="Synthesis output folder."),
        dataset: str = typer.Option(None),
        split: str = typer.Option(None),
        version: str = typer.Option(None),
        kind: str = typer.Option("bm25s", help="Outside retriever: bm25s, rank_bm25 or dense."),
        k1: float = typer.Option(0.9, help="BM25 k1 of the outside retriever."),
        b: float = typer.Option(0.4, help="BM25 b of the outside retriever."),
        stemmer: str = typer.Option("none", help="PyStemmer language or 'none'."),
        model_path: str = typer.Option(None, help="Local model folder for kind=dense."),
        seed: int = typer.Option(0, help="Seed of the random candidate."),
        out: str = typer.Option(None, help="Also write the report as JSON here."),
    ) -> None:
        """Mean gain of the chosen thoughts vs a random candidate, under a retriever outside the committee."""
        from o1embed.tasks.atomic import write_json_atomic
        from o1embed.tasks.committee.check import outside_check
        from o1embed.tasks.retrievers.spec import RetrieverSpec

        spec = RetrieverSpec(
            kind=kind,
            name=f"outside-{kind}",
            k1=k1,
            b=b,
            stemmer=None if stemmer == "none" else stemmer,
            stopwords=None,
            model_path=model_path,
        )
        report = outside_check(only_version(output_root, dataset, split, version), spec, seed=seed)
        if out:
            write_json_atomic(out, report)
        typer.echo(json.dumps(report, indent=2))

    @app.command("export")
    def export_cmd(
        output_root: str = typer.Argument(..., help="Synthesis output folder."),
        out: str = typer.Option(..., help="JSONL file to write."),
        format: str = typer.Option(
            "flagembedding", "--format", help="Only 'flagembedding' (query/pos/neg JSONL)."
        ),
        dataset: str = typer.Option(None),
        split: str = typer.Option(None),
        version: str = typer.Option(None),
        fold_thought: bool = typer.Option(False, help="Write 'query thought' as the query."),
    ) -> None:
        """Export the training examples as FlagEmbedding / sentence-transformers JSONL."""
        from o1embed.tasks.committee.export import export_flagembedding

        if format != "flagembedding":
            raise typer.BadParameter(
                f"unknown format {format!r}; supported: flagembedding", param_hint="--format"
            )
        n = export_flagembedding(only_version(output_root, dataset, split, version), out, fold_thought)
        typer.echo(f"wrote {n} examples to {out}")
