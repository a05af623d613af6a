"""Run a Starlette app under uvicorn in a background thread for the length of a ``with`` block."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import uvicorn

from o1embed.tasks.llm_server import free_port


@contextmanager
def running(app, timeout_s: float = 30.0):
    """Yield the ``/v1`` base URL of ``app`` served on a free local port; stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(15)
