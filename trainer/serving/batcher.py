"""Gather concurrent embedding requests into batches for one encoder.

Each request puts its inputs on an asyncio queue and awaits one future per input. A single background task takes
the first waiting input, keeps collecting for ``window_s`` (or until ``max_batch`` inputs), groups the batch by
key (role and thinking mode: queries with the same ``think`` share a call), and runs the encoder in a worker
thread, one call at a time (the encoder is not thread-safe). A submit that would put more than ``max_pending``
inputs in flight is refused with :class:`Overloaded` (the server answers 503).

Example:
    >>> batcher = Batcher(lambda key, texts: np.zeros((len(texts), 4)), window_s=0.01)   # doctest: +SKIP
    >>> await batcher.start(); vecs = await batcher.submit(("document", None), ["a", "b"])  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from itertools import groupby

import numpy as np

log = logging.getLogger(__name__)

Encode = Callable[[Hashable, list[str]], np.ndarray]  # (key, texts) -> (n, dim)


class Overloaded(Exception):
    """More inputs are in flight than the batcher accepts."""


@dataclass
class Counters:
    """What the server has done since it started (shown at ``/health`` and ``/metrics``)."""

    requests: int = 0
    inputs: int = 0  # of accepted requests
    inputs_batched: int = 0  # taken into batches by the batcher
    batches: int = 0
    encoder_calls: int = 0
    max_batch_size: int = 0
    rejected_overloaded: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self, pending: int) -> dict:
        return {
            "requests": self.requests,
            "items": self.inputs,
            "batches": self.batches,
            "encoder_calls": self.encoder_calls,
            "mean_batch_size": self.inputs_batched / self.batches if self.batches else 0.0,
            "max_batch_size": self.max_batch_size,
            "rejected_overloaded": self.rejected_overloaded,
            "errors_by_status": dict(self.errors),
            "pending_items": pending,
        }


@dataclass
class _Item:
    key: Hashable
    text: str
    future: asyncio.Future


class Batcher:
    """The background batching task over one encode function.

    Args:
        encode: ``(key, texts) -> vectors (n, dim)``, run in a worker thread.
        window_s: how long to keep collecting after the first input of a batch.
        max_batch: inputs per batch.
        max_pending: inputs queued or being encoded at once.
    """

    def __init__(self, encode: Encode, window_s: float = 0.01, max_batch: int = 64, max_pending: int = 4096):
        self.encode, self.window_s, self.max_batch, self.max_pending = (
            encode,
            window_s,
            max_batch,
            max_pending,
        )
        self.counters = Counters()
        self.pending = 0
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="embedding-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, key: Hashable, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` under ``key`` with whatever else arrives in the window; return ``(n, dim)``.

        Raises:
            Overloaded: accepting ``texts`` would pass ``max_pending``.
            Exception: whatever the encoder raised for this batch.
        """
        if self._queue is None:
            raise RuntimeError("the batcher is not started")
        if self.pending + len(texts) > self.max_pending:
            self.counters.rejected_overloaded += 1
            raise Overloaded(f"{self.pending} inputs in flight; at most {self.max_pending}")
        loop = asyncio.get_running_loop()
        items = [_Item(key, t, loop.create_future()) for t in texts]
        self.pending += len(items)
        try:
            for item in items:
                self._queue.put_nowait(item)
            vecs = await asyncio.gather(*(i.future for i in items))
        finally:
            self.pending -= len(items)
        return np.stack(vecs)

    async def _collect(self) -> list[_Item]:
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window_s
        while len(batch) < self.max_batch:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = [i for i in await self._collect() if not i.future.done()]  # a client that left: skip
            if not batch:
                continue
            self.counters.batches += 1
            self.counters.inputs_batched += len(batch)
            self.counters.max_batch_size = max(self.counters.max_batch_size, len(batch))
            batch.sort(key=lambda i: repr(i.key))  # stable: each key keeps its arrival order
            for _, group in groupby(batch, key=lambda i: repr(i.key)):
                items = list(group)
                self.counters.encoder_calls += 1
                try:
                    vecs = await asyncio.to_thread(self.encode, items[0].key, [i.text for i in items])
                except Exception as exc:  # handed to every waiting request; the batcher keeps serving
                    log.exception("encoder call failed for %d inputs", len(items))
                    for i in items:
                        if not i.future.done():
                            i.future.set_exception(exc)
                    continue
                for i, v in zip(items, vecs, strict=True):
                    if not i.future.done():
                        i.future.set_result(v)
