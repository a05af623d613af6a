"""A Typer app holding one CLI module's commands, for tests that invoke them with ``typer.testing.CliRunner``."""

from __future__ import annotations

from collections.abc import Callable

import typer


def app_with(register: Callable[[typer.Typer], None]) -> typer.Typer:
    """An app with the commands ``register`` adds, kept as sub-commands (as in ``flows.cli``)."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # without a callback, a single command would become the app itself
        pass

    register(app)
    return app
