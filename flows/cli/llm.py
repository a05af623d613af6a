"""``o1embed llm``: the expert LLM.

- ``serve``: run the embedded expert LLM server in the foreground.
- ``cache-export OUT`` / ``cache-import FILE``: move the expert's response cache as one Parquet file (see
  :mod:`o1embed.tasks.llm_cache`), e.g. to start a fresh data root with an earlier run's responses.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from o1embed.tasks.errors import InputError
from o1embed.tasks.llm_cache import ResponseCache
from o1embed.tasks.llm_server import LlamaServer, LlamaServerConfig

_CACHE_DIR_HELP = "Response cache folder (default: <data root>/cache/llm, where synthesis looks)."


def _field_help(name: str) -> str:
    """An option's help: the config field's description and its default (one place states both; a None default is
    explained by the description)."""
    field = LlamaServerConfig.model_fields[name]
    return field.description if field.default is None else f"{field.description} Default: {field.default}."


def register(app: typer.Typer) -> None:
    llm = typer.Typer(help="The expert LLM endpoint.", no_args_is_help=True)

    @llm.command("serve")
    def serve(
        model_path: str = typer.Option(None, help=_field_help("model_path")),
        host: str = typer.Option(None, help=_field_help("host")),
        port: int = typer.Option(None, help=_field_help("port")),
        n_ctx: int = typer.Option(None, help=_field_help("n_ctx")),
        n_threads: int = typer.Option(None, help=_field_help("n_threads")),
    ) -> None:
        """Serve the GGUF model at an OpenAI-compatible endpoint until interrupted."""
        given = {"model_path": model_path, "host": host, "port": port, "n_ctx": n_ctx, "n_threads": n_threads}
        cfg = LlamaServerConfig(**{k: v for k, v in given.items() if v is not None})  # the rest: the config's defaults
        with LlamaServer(cfg) as server:
            typer.echo(f"OPENAI_BASE_URL={server.base_url}")
            typer.echo(f"model={server.model_name}", err=True)
            try:
                while server.proc and server.proc.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass

    @llm.command("cache-export")
    def cache_export(
        out: Path = typer.Argument(..., help="Parquet file to write (replaced atomically)."),
        cache_dir: Path = typer.Option(None, help=_CACHE_DIR_HELP),
    ) -> None:
        """Write every cached expert response to one Parquet file; print what was written as JSON."""
        result = ResponseCache(cache_dir or ResponseCache.default_dir()).export_parquet(out)
        typer.echo(result.model_dump_json(indent=2, exclude={"added", "present"}))

    @llm.command("cache-import")
    def cache_import(
        file: Path = typer.Argument(..., help="A Parquet file written by `o1embed llm cache-export`."),
        cache_dir: Path = typer.Option(None, help=_CACHE_DIR_HELP),
    ) -> None:
        """Add the file's responses that the cache lacks (a bad file changes nothing); print the counts as JSON."""
        try:
            result = ResponseCache(cache_dir or ResponseCache.default_dir()).import_parquet(file)
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(result.model_dump_json(indent=2, exclude={"unreadable"}))

    app.add_typer(llm, name="llm")
