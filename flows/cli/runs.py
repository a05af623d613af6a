"""``o1embed follow``: start a deployment run (or take a run id) and follow its logs and its stages' logs."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    @app.command("follow")
    def follow_cmd(
        flow_run_id: str = typer.Argument(None, help="A flow run id (else --deployment starts one)."),
        deployment: str = typer.Option(None, help="Start a run of <flow>/<deployment> and follow it."),
        params: str = typer.Option(None, help="JSON parameters of the started run."),
        poll_s: float = typer.Option(2.0, help="Seconds between polls of the API."),
    ) -> None:
        """Print the logs of a flow run and of every stage (subflow) under it until it ends; exit 1 unless
        it completed."""
        from o1embed.flows.follow import follow_flow_run, start_deployment, ui_url

        if not flow_run_id and not deployment:
            raise typer.BadParameter("give a flow run id or --deployment <flow>/<deployment>")
        if deployment:
            run = start_deployment(deployment, json.loads(params) if params else None)
            flow_run_id = str(run.id)
            typer.echo(f"started flow run {run.name!r} ({flow_run_id}) of {deployment}")
        url = ui_url(flow_run_id)
        if url:
            typer.echo(f"Prefect UI: {url}")
        state = follow_flow_run(flow_run_id, emit=typer.echo, poll_s=poll_s)
        typer.echo(f"flow run {flow_run_id}: {state.name}")
        if not state.is_completed():
            raise typer.Exit(1)
