"""Following a run prints the logs of the run and of its subflows (the pipeline's stages), then its state."""

from __future__ import annotations

import pytest
from prefect import flow, get_run_logger

from o1embed.flows.follow import follow_flow_run

pytestmark = pytest.mark.usefixtures("prefect_api")


@flow(name="follow-stage")
def stage(n: int) -> int:
    get_run_logger().info("stage %d: start", n)
    get_run_logger().info("stage %d: outputs at /tmp/stage-%d", n, n)
    return n


@flow(name="follow-inner")
def inner() -> None:
    stage(2)


@flow(name="follow-parent")
def parent() -> None:
    get_run_logger().info("pipeline: begin")
    stage(1)
    inner()  # a subflow of a subflow (synthesize -> committee)
    get_run_logger().info("pipeline: done")


def test_follow_prints_every_stage_log_once_and_returns_the_state():
    state = parent(return_state=True)
    lines: list[str] = []
    final = follow_flow_run(state.state_details.flow_run_id, emit=lines.append, poll_s=0.2)
    assert final.is_completed()
    text = "\n".join(lines)
    for needle in ("pipeline: begin", "stage 1: start", "stage 2: outputs at /tmp/stage-2", "pipeline: done"):
        assert text.count(needle) == 1, (needle, text)
    assert text.index("pipeline: begin") < text.index("stage 1: start") < text.index("pipeline: done")
