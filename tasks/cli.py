"""The ``o1embed`` command line: one sub-command per capability.

Each capability registers its commands from its own module (``register(app)``), so this file stays a table of
contents. Run ``o1embed --help`` for the list.
"""

from __future__ import annotations

import importlib
import logging

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Reasoning-augmented dense retrievers.")

# module -> what it adds; each exposes register(app: typer.Typer)
_COMMAND_MODULES = [
    "tasks.ingest_cli",  # o1embed ingest
    "tasks.llm_cli",  # o1embed llm serve
    "tasks.synthesis_cli",  # o1embed synthesize
    "tasks.committee.cli",  # o1embed committee, o1embed export
    "trainer.cli",  # o1embed model prepare, o1embed train
    "tasks.evaluation.cli",  # o1embed evaluate
    "tasks.inspect_cli",  # o1embed inspect
]


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a capability not built yet must not break the others
        if exc.name != _name:
            raise
        continue
    _mod.register(app)


if __name__ == "__main__":
    app()
