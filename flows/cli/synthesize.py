"""``o1embed synthesize``: run the synthesize flow from the command line."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    @app.command("synthesize")
    def synthesize_cmd(
        dataset_dir: str = typer.Option("data/beir/scifact", help="BEIR-layout folder."),
        split: str = typer.Option("train", help="qrels split."),
        output_dir: str = typer.Option(None, help="Output root (default: <data root>/runs/<dataset>)."),
        k: int = typer.Option(3, "--k", help="Candidate thoughts per query."),
        max_queries: int = typer.Option(None, help="Only the first N judged queries."),
        style: list[str] = typer.Option(
            None,
            "--style",
            help="Prompt style, repeatable (paper, passage, keywords, reasoning); candidate c uses the "
            "(c mod n)-th. Default: the paper's single style.",
        ),
        shard_size: int = typer.Option(256, help="Queries per shard."),
        base_url: str = typer.Option(
            None, help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL or embedded)."
        ),
        model: str = typer.Option(None, help="Model name at the endpoint."),
        max_tokens: int = typer.Option(256, help="New tokens per thought."),
        temperature: float = typer.Option(0.7, help="Sampling temperature."),
        top_p: float = typer.Option(0.9, help="Nucleus sampling."),
        seed: int = typer.Option(42, help="Run seed."),
        concurrency: int = typer.Option(4, help="Requests in flight per shard."),
        parallel_shards: int = typer.Option(2, help="Shards in flight."),
        config_json: str = typer.Option(None, "--config", help="A JSON file with a full SynthesisConfig."),
        judge: bool = typer.Option(
            True, "--judge/--no-judge", help="Run the committee after the candidates."
        ),
    ) -> None:
        """Write K candidate thoughts per judged query as Parquet shards with a manifest."""
        from o1embed.flows.synthesize import synthesize
        from o1embed.tasks.synthesis import SynthesisConfig

        if config_json:
            with open(config_json) as f:
                cfg = SynthesisConfig.model_validate(json.load(f))
        else:
            cfg = SynthesisConfig.model_validate(
                {
                    "dataset_dir": dataset_dir,
                    "split": split,
                    "output_dir": output_dir,
                    "candidates_per_query": k,
                    "max_queries": max_queries,
                    "shard_size": shard_size,
                    "parallel_shards": parallel_shards,
                    "sampling": {
                        "max_tokens": max_tokens,
                        "temperature": temperature,
                        "top_p": top_p,
                        "seed": seed,
                    },
                    "llm": {"base_url": base_url, "model": model, "concurrency": concurrency},
                    **({"prompt": {"styles": style}} if style else {}),
                }
            )
        typer.echo(json.dumps(synthesize(cfg, judge=judge), indent=2))
