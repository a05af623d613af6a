"""The shared shard loop (N in flight, next on finish, hooks) and the live progress display."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from prefect import flow, task
from prefect.cache_policies import NONE

from o1embed.flows.progress import StageProgress
from o1embed.flows.shard_loop import run_shards

pytestmark = pytest.mark.usefixtures("prefect_api")

_lock = threading.Lock()
_running = {"now": 0, "max": 0}


@task(cache_policy=NONE)
def slow_shard(i: int) -> int:
    with _lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
    time.sleep(0.3 if i % 2 else 0.1)
    with _lock:
        _running["now"] -= 1
    if i == 99:
        raise ValueError("shard 99 broke")
    return i * 10


@flow
def loop_flow(items: list[int], parallel: int) -> dict:
    seen, ticks = [], []
    out = run_shards(
        slow_shard.submit,
        items,
        parallel,
        on_result=lambda i, r: seen.append((i, r)),
        on_tick=lambda: ticks.append(1),
        tick_s=0.05,
    )
    return {"out": out, "seen": seen, "ticks": len(ticks)}


def test_at_most_n_in_flight_every_result_once_hooks_called():
    _running.update(now=0, max=0)
    res = loop_flow(list(range(7)), 2)
    assert sorted(res["out"]) == [i * 10 for i in range(7)]
    assert sorted(res["seen"]) == [(i, i * 10) for i in range(7)]
    assert _running["max"] == 2 and res["ticks"] >= 1


def test_a_failed_shard_fails_the_loop():
    with pytest.raises(ValueError, match="shard 99"):
        loop_flow([1, 99, 2], 1)


def test_plain_progress_lines_when_not_a_terminal(caplog):
    log = logging.getLogger("test.progress")
    with caplog.at_level(logging.INFO, logger="test.progress"):
        p = StageProgress("synthesize x", total=30, unit="requests", rate_unit="candidates", logger=log, live=False)
        p.update(done=3, rate_of=3, retries=1, errors=0)
        p.update(done=4, rate_of=4, retries=1, errors=0)  # within log_every_s: not logged
        p.close()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("synthesize x: 3/30 requests, ") and "candidates/s, retries 1, errors 0" in lines[0]
    assert len(lines) == 2 and lines[-1].startswith("synthesize x: 4/30 requests")


def test_live_bar_on_a_terminal(capsys):
    log = logging.getLogger("test.progress")
    p = StageProgress("committee x", total=10, unit="queries", rate_unit="candidates", logger=log, live=True)
    p.update(done=5, rate_of=15, errors=0)
    p.close()
    assert "committee x" in capsys.readouterr().err
