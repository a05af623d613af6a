"""Live counters of shards in flight, written by the shard's worker and read by the flow that waits on it.

A shard runs in a Ray task, possibly on another machine; the flow only sees its summary at the end. So the shard
writes its counters (requests done of total, candidates, errors, retries) to a small JSON file about once a
second, in a hidden folder of the version's manifest folder (readers of the tables never look there), and the
flow sums the files of its shards while it waits. The output root is already shared by every worker (shards are
written there), so no other channel is needed.

Layout: ``<root>/_manifests/dataset=/split=/version=/.progress/<stage>/<shard>.json``.

Example:
    >>> w = ProgressWriter(progress_path(dv, "llm", "part-r0001-00000"), total=30)   # doctest: +SKIP
    >>> w.update(done=3, candidates=3)                                              # doctest: +SKIP
    >>> read_progress(dv, "llm", ["part-r0001-00000"])["done"]                      # doctest: +SKIP
    3
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from o1embed.tasks.atomic import write_json_atomic

COUNTERS = ("done", "total", "candidates", "errors", "retries", "requests", "cache_hits")


def progress_path(dv, stage: str, shard: str) -> Path:
    return dv.meta_dir / ".progress" / stage / f"{shard}.json"


class ProgressWriter:
    """Write one shard's counters at most every ``every_s`` seconds (and always on ``force``).

    Args:
        path: the shard's progress file.
        total: the shard's units of work (requests).
        every_s: minimum seconds between writes.
    """

    def __init__(self, path: Path, total: int, every_s: float = 1.0):
        self.path, self.every_s = Path(path), every_s
        self.counts = dict.fromkeys(COUNTERS, 0) | {"total": total}
        self._last = 0.0

    def update(self, force: bool = False, **counts: int) -> None:
        self.counts.update(counts)
        now = time.monotonic()
        if force or now - self._last >= self.every_s:
            self._last = now
            write_json_atomic(self.path, self.counts)


def read_progress(dv, stage: str, shards: list[str]) -> dict[str, int]:
    """The counters of ``shards`` summed (a shard that wrote nothing yet counts zero)."""
    out = dict.fromkeys(COUNTERS, 0)
    for shard in shards:
        p = progress_path(dv, stage, shard)
        try:
            counts = json.loads(p.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            continue
        for k in COUNTERS:
            out[k] += int(counts.get(k, 0))
    return out


def clear_progress(dv, stage: str) -> None:
    """Remove the stage's progress files (when the stage has finished)."""
    shutil.rmtree(dv.meta_dir / ".progress" / stage, ignore_errors=True)
