"""Follow a flow run's logs, and those of every subflow under it, until the run ends.

``prefect deployment run ... --watch`` streams the events and logs of the one run it started; the pipeline's
stages (synthesize, committee, train, evaluate) are subflows with their own run ids, so their logs (stage start
and end, shard progress, where outputs land) never show there. This follower polls the API for the run's
descendants and their logs, prints each line once, in time order, tagged with the (sub)flow run's name, and
returns the run's final state.

Example:
    >>> state = follow_flow_run("8f1c...")                        # doctest: +SKIP
    >>> run = start_deployment("synth-and-train/scifact-quickstart")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)


async def _descendants(client, root: UUID) -> dict[UUID, str]:
    """``{flow run id: name}`` of ``root`` and every subflow run below it."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    runs = {root: (await client.read_flow_run(root)).name}
    frontier = [root]
    while frontier:
        children = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier))
        )
        frontier = [c.id for c in children if c.id not in runs]
        runs.update({c.id: c.name for c in children})
    return runs


def format_log(record, run_name: str) -> str:
    """One line as Prefect prints it: ``HH:MM:SS.mmm | LEVEL   | Flow run 'name' - message``."""
    ts = f"{record.timestamp:%H:%M:%S.%f}"[:-3]
    return f"{ts} | {logging.getLevelName(record.level):7s} | Flow run {run_name!r} - {record.message}"


async def follow_flow_run_async(
    flow_run_id: UUID | str,
    emit: Callable[[str], Any] = print,
    poll_s: float = 2.0,
    grace_s: float = 3.0,
):
    """Print the logs of a run and its subflows as they arrive; return the run's final state.

    Args:
        flow_run_id: the run to follow.
        emit: where each line goes (default: stdout).
        poll_s: seconds between polls.
        grace_s: after the run ends, keep polling this long for logs still in flight.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    root = UUID(str(flow_run_id))
    seen: set[UUID] = set()
    ended_at: float | None = None
    loop = asyncio.get_running_loop()
    async with get_client() as client:
        while True:
            runs = await _descendants(client, root)
            offset = 0
            while True:  # every log of these runs, oldest first; print the new ones
                page = await client.read_logs(
                    log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=list(runs))),
                    sort=LogSort.TIMESTAMP_ASC,
                    offset=offset,
                    limit=200,
                )
                for rec in page:
                    if rec.id not in seen:
                        seen.add(rec.id)
                        emit(format_log(rec, runs.get(rec.flow_run_id, "?")))
                if len(page) < 200:
                    break
                offset += len(page)
            state = (await client.read_flow_run(root)).state
            if state is not None and state.is_final():
                ended_at = ended_at or loop.time()
                if loop.time() - ended_at >= grace_s:
                    return state
            await asyncio.sleep(poll_s)


def follow_flow_run(flow_run_id: UUID | str, emit: Callable[[str], Any] = print, poll_s: float = 2.0):
    """Blocking :func:`follow_flow_run_async`."""
    return asyncio.run(follow_flow_run_async(flow_run_id, emit, poll_s))


def start_deployment(name: str, parameters: dict | None = None):
    """Create a run of deployment ``name`` (``<flow>/<deployment>``) and return it at once (not waiting)."""
    from prefect.deployments import run_deployment

    return run_deployment(name, parameters=parameters or {}, timeout=0, as_subflow=False)


def ui_url(flow_run_id: UUID | str) -> str | None:
    """The run's page in the Prefect UI (from ``PREFECT_UI_URL``, else derived from ``PREFECT_API_URL``)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    base = PREFECT_UI_URL.value() or (PREFECT_API_URL.value() or "").removesuffix("/api") or None
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}" if base else None
