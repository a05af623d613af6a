"""Keep N shards in flight: submit the next shard when one finishes (the one loop of the synthesize and committee
flows).

Shards finish in any order; each result is handed to ``on_result`` as it arrives, and ``on_tick`` runs about every
``tick_s`` seconds while the loop waits (live progress between shard summaries). A shard that fails raises here
and fails the run; a rerun resumes from the shards already written.

Example:
    >>> results = run_shards(lambda s: my_task.submit(s), ["a", "b", "c"], parallel=2)   # doctest: +SKIP
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from prefect.futures import PrefectFuture

T = TypeVar("T")


def run_shards(
    submit: Callable[[T], PrefectFuture],
    work: Iterable[T],
    parallel: int,
    on_result: Callable[[T, Any], None] | None = None,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 1.0,
) -> list[Any]:
    """Run ``submit(item)`` for every item, at most ``parallel`` at once; return the results in finishing order.

    Args:
        submit: starts one shard and returns its Prefect future (``my_task.submit(...)``).
        work: the shards (any items ``submit`` understands), started in this order.
        parallel: shards in flight at once (>= 1).
        on_result: called with ``(item, result)`` in this thread as each shard finishes.
        on_tick: called in this thread about every ``tick_s`` seconds while shards run.
        tick_s: seconds between ticks.

    Raises:
        Exception: the first failed shard's error (shards already in flight are not waited for).
    """
    todo = iter(work)
    finished: queue.Queue[PrefectFuture] = queue.Queue()
    inflight: dict[PrefectFuture, T] = {}
    results: list[Any] = []

    def submit_next() -> None:
        for item in todo:
            fut = submit(item)
            inflight[fut] = item
            fut.add_done_callback(finished.put)
            return

    for _ in range(max(1, parallel)):
        submit_next()
    while inflight:
        try:
            fut = finished.get(timeout=tick_s)
        except queue.Empty:
            if on_tick is not None:
                on_tick()
            continue
        item = inflight.pop(fut)
        result = fut.result()  # a failed shard fails the run; a rerun resumes
        results.append(result)
        if on_result is not None:
            on_result(item, result)
        submit_next()
    if on_tick is not None:
        on_tick()
    return results
