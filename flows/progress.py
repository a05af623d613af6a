"""Live progress of a long stage on a terminal; plain log lines when the output is not one.

On a terminal (stderr is a TTY) a rich progress bar shows units done of total, the rate, and the stage's own
counters (retries, errors ...). Elsewhere (a Prefect worker, a pipe, CI) one plain log line goes out when the
counts change, at most every ``log_every_s`` seconds, and at the end, so logs stay readable when followed with
``prefect flow-run logs``.

Example:
    >>> with StageProgress("synthesize", total=300, unit="requests", logger=log) as p:    # doctest: +SKIP
    ...     p.update(done=120, rate_of=118, retries=3, errors=2)
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any


class StageProgress:
    """One stage's progress display.

    Args:
        label: the stage, e.g. ``synthesize dataset=scifact/split=train/version=abc``.
        total: units of work (requests, queries).
        unit: what a unit is, e.g. ``requests``.
        rate_unit: what the rate counts, e.g. ``candidates`` (``update(rate_of=...)``).
        logger: where plain lines go (the flow's run logger).
        live: force the bar on or off (default: on when stderr is a terminal).
        log_every_s: the most often a plain line is logged.
    """

    def __init__(
        self,
        label: str,
        total: int,
        unit: str,
        rate_unit: str,
        logger: logging.Logger | logging.LoggerAdapter,
        live: bool | None = None,
        log_every_s: float = 15.0,
    ):
        self.label, self.total, self.unit, self.rate_unit, self.logger = label, total, unit, rate_unit, logger
        self.live = sys.stderr.isatty() if live is None else live
        self.log_every_s = log_every_s
        self.t0 = time.monotonic()
        self._last_log = 0.0
        self._last_line = ""
        self.state: dict[str, Any] = {"done": 0, "rate_of": 0}
        self._bar = None
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(f"{unit}"),
                TextColumn("{task.fields[extra]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._bar.add_task(label, total=total, extra="")
            self._bar.start()

    def line(self) -> str:
        """The counters as one line: ``120/300 requests, 4.1 candidates/s, retries 3, errors 2``."""
        s = dict(self.state)
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        rate = s.pop("rate_of") / elapsed
        done = s.pop("done")
        extra = ", ".join(f"{k} {v}" for k, v in s.items())
        return f"{done}/{self.total} {self.unit}, {rate:.1f} {self.rate_unit}/s" + (f", {extra}" if extra else "")

    def update(self, force: bool = False, **counts: Any) -> None:
        """Set the counters (absolute values: ``done``, ``rate_of`` and any named extra) and refresh."""
        self.state.update(counts)
        if self._bar is not None:
            line = self.line()
            self._bar.update(self._task, completed=self.state["done"], extra=line.split(", ", 1)[-1])
            return
        now = time.monotonic()
        line = self.line()
        if force or (line != self._last_line and now - self._last_log >= self.log_every_s):
            self._last_log, self._last_line = now, line
            self.logger.info("%s: %s", self.label, line)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        self.logger.info("%s: %s", self.label, self.line())

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
