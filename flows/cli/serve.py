"""``o1embed serve``: a trained model behind an OpenAI-compatible embeddings endpoint (``/v1/embeddings``)."""

from __future__ import annotations

from pathlib import Path

import typer


def default_name(model_dir: Path) -> str:
    """The run folder's name for ``<run>/model``, else the folder's own name."""
    p = Path(model_dir).resolve()
    return p.parent.name if p.name == "model" else p.name


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        model_dir: Path = typer.Argument(..., help="A model folder written by the trainer."),
        name: str = typer.Option(None, help="Served name (default: the run folder's name)."),
        host: str = typer.Option("127.0.0.1", help="Address to bind (0.0.0.0: every interface)."),
        port: int = typer.Option(8080, help="Port."),
        batch_window_ms: float = typer.Option(10.0, help="Batch collection window after the first input."),
        max_batch: int = typer.Option(64, help="Inputs per encoder batch."),
        max_pending: int = typer.Option(4096, help="Inputs in flight before requests get 503."),
        thoughts: int = typer.Option(1, help="m: thoughts per query (averaged)."),
        max_new_tokens: int = typer.Option(128, help="Thought budget (capped by the model's thought length)."),
        device: str = typer.Option("auto", help="auto | cpu | cuda."),
        dtype: str = typer.Option("auto", help="auto | float32 | bfloat16."),
        api_key_env: str = typer.Option(
            "O1EMBED_API_KEY", help="Environment variable with the API key (unset: no key needed)."
        ),
        sets: list[str] = typer.Option(
            [],
            "--set",
            help="Any EncoderConfig field, e.g. --set decider=gate (requests with think='auto' then decide with "
            "the model's think gate) or --set close_threshold=0.6 --set fusion_alpha=0.5.",
        ),
    ) -> None:
        """Serve MODEL_DIR: <name>-query (thinks), <name>-document, and <name> with input_type in the body."""
        import uvicorn

        from o1embed.trainer.encoder import EncoderConfig, O1Encoder
        from o1embed.trainer.serving.app import build_app
        from o1embed.trainer.serving.config import ServeConfig

        cfg = ServeConfig(
            name=name or default_name(model_dir),
            host=host,
            port=port,
            batch_window_ms=batch_window_ms,
            max_batch_items=max_batch,
            max_pending_items=max_pending,
            api_key_env=api_key_env,
        )
        from pydantic import ValidationError

        from o1embed.flows.cli.overrides import parse_sets

        options = {
            "thoughts": thoughts,
            "max_new_tokens": max_new_tokens,
            "device": device,
            "dtype": dtype,
            "query_batch_size": max_batch,
        }
        try:
            enc_cfg = EncoderConfig(**{**options, **parse_sets(sets)})
        except ValidationError as exc:
            raise typer.BadParameter(str(exc), param_hint="--set") from exc
        encoder = O1Encoder(model_dir, enc_cfg)
        typer.echo(f"serving {model_dir} at http://{host}:{port}/v1 as {', '.join(cfg.model_names())}", err=True)
        uvicorn.run(build_app(encoder, cfg), host=host, port=port, log_level="info")
