"""The ``o1embed`` command line: one sub-command per capability.

Each capability registers its commands from its own module (``register(app)``), so this file stays a table of
contents. Run ``o1embed --help`` for the list.
"""

from __future__ import annotations

import logging

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Reasoning-augmented dense retrievers.")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# Each capability registers its own commands; imported here, after `app` exists, in --help order.
from o1embed.flows.cli import committee, evaluate, ingest, inspection, llm, synthesize, train  # noqa: E402

for _module in (ingest, llm, synthesize, committee, train, evaluate, inspection):
    _module.register(app)
