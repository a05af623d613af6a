"""``python -m o1embed.flows.cli`` runs the ``o1embed`` command."""

from o1embed.flows.cli import app

app()
