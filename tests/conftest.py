"""Session-wide test setup: keep every write inside a temp data root; share Prefect and Ray across tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports prefect, ray or torch.
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="o1embed-tests-"))
os.environ.setdefault("O1EMBED_DATA", str(_SESSION_TMP / "data"))
os.environ.setdefault("PREFECT_HOME", str(_SESSION_TMP / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_worker_niceness", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A test of the real small models or the embedded LLM server (``real``) is also ``slow``.

    The default suite stays fast; CI runs the slow suite after it (scripts/test.sh).
    """
    for item in items:
        if item.get_closest_marker("real") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def prefect_api():
    """A Prefect API for flow tests: the server CI started (``PREFECT_API_URL``), else a test harness."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield os.environ.get("PREFECT_API_URL", "ephemeral")


@pytest.fixture(scope="session")
def ray_session():
    """Ray for the whole session: joins ``RAY_ADDRESS`` (CI's head node) or starts a local one."""
    from o1embed.tasks.ray_runtime import init_ray

    init_ray(num_cpus=2)
    yield
    # left running for the session; ray shuts down at interpreter exit


@pytest.fixture(scope="session")
def llm_endpoint():
    """The embedded llama.cpp server: the one CI started (``O1EMBED_TEST_LLM_URL``), else one for this session."""
    if os.environ.get("O1EMBED_TEST_LLM_URL"):
        yield os.environ["O1EMBED_TEST_LLM_URL"]
        return
    from o1embed.tasks.llm_server import LlamaServer

    with LlamaServer() as server:
        yield server.base_url


@pytest.fixture(scope="session")
def tiny_dense_model(tmp_path_factory) -> str:
    """A tiny randomly initialised sentence-transformers folder, built once (retrievers, committee, benches)."""
    from o1embed.tasks.testing.tiny_models import build_tiny_dense_model

    return build_tiny_dense_model(tmp_path_factory.mktemp("tiny-dense"))
