"""The ``o1embed`` command line: one sub-command per capability.

Each capability registers its commands from its own module (``register(app)``), so this file stays a table of
contents. Run ``o1embed --help`` for the list.

With no ``PREFECT_API_URL`` set, a flow run starts Prefect's temporary (ephemeral) server for its own lifetime.
That server's telemetry heartbeat races the run for its new SQLite database and prints ``database is locked``
tracebacks, so the CLI runs it with analytics off (``PREFECT_SERVER_ANALYTICS_ENABLED=false``, ``DO_NOT_TRACK=1``)
and a first-start timeout a fresh database on a small machine needs. These are defaults set before Prefect is
imported: a variable already in the environment wins.
"""

from __future__ import annotations

import logging
import os

_PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # the temporary server's telemetry service
    "DO_NOT_TRACK": "1",  # the SDK's own usage events
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # the default 20 s is short for a new database
}
for _name, _value in _PREFECT_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

import typer  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Reasoning-augmented dense retrievers.")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # one line per HTTP call (every poll of `o1embed follow`, every expert request) is noise
        for chatty in ("httpx", "httpcore"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


# Each capability registers its own commands; imported here, after `app` exists, in --help order.
from o1embed.flows.cli import (  # noqa: E402
    committee,
    evaluate,
    ingest,
    inspection,
    llm,
    runs,
    serve,
    synthesize,
    train,
)

for _module in (ingest, llm, synthesize, committee, train, evaluate, serve, inspection, runs):
    _module.register(app)
