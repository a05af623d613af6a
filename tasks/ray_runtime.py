"""Start or join Ray the same way everywhere.

``RAY_ADDRESS`` set: join that cluster. Unset: start a new local Ray whose temp dir lies in the data root (``address=
"local"``: a plain ``ray.init()`` would instead join the head named in ``<temp dir>/ray_current_cluster``, and hangs
when that head was killed without ``ray stop`` cleaning up). Ray starts its workers at nice 15 by default, which starves
them next to an LLM server or trainer; we ask for nice 0.

Example:
    >>> from o1embed.tasks.ray_runtime import init_ray
    >>> init_ray()          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import tempfile

from o1embed.tasks.paths import data_root

log = logging.getLogger(__name__)

# Environment every Ray worker should see (no usage reporting, normal priority).
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_worker_niceness": "0"}
# Ray Train's detached placement-group cleaner asks the State API every second whether the train controller lives;
# a local Ray started without its dashboard serves no State API, so every ask fails with a warning (thousands of
# lines per training run). The cleaner matters only when a controller dies without cleaning up.
QUIET_LOGGERS = ("ray.train.v2._internal.execution.controller.placement_group_cleaner",)


def quiet_workers() -> None:
    """Ray's ``worker_process_setup_hook``: raise :data:`QUIET_LOGGERS` to ERROR in every worker of our jobs."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def init_ray(address: str | None = None, num_cpus: int | None = None) -> dict:
    """Connect to Ray once per process and return its resources.

    Args:
        address: a Ray address; defaults to ``$RAY_ADDRESS``; None starts a local instance.
        num_cpus: CPUs for a local instance (ignored when joining a cluster).

    Returns:
        ``ray.cluster_resources()``.
    """
    for k, v in RAY_ENV.items():
        os.environ.setdefault(k, v)
    import ray

    if ray.is_initialized():
        return ray.cluster_resources()
    address = address or os.environ.get("RAY_ADDRESS") or None
    kwargs: dict = {
        "ignore_reinit_error": True,
        "log_to_driver": True,
        "runtime_env": {"env_vars": dict(RAY_ENV), "worker_process_setup_hook": f"{__name__}.quiet_workers"},
    }
    if address:
        ray.init(address=address, **kwargs)
    else:
        tmp = os.environ.get("O1EMBED_RAY_TMP") or str(data_root() / "ray_tmp")
        if len(tmp) > 60:  # Ray's unix socket paths must stay under ~107 characters
            tmp = os.path.join(tempfile.gettempdir(), f"o1embed-ray-{os.getuid()}")
        os.makedirs(tmp, exist_ok=True)
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, _temp_dir=tmp, **kwargs)
    log.info("ray: %s", ray.cluster_resources())
    return ray.cluster_resources()


def run_remote(fn, *args, num_cpus: float = 0.5, **kwargs):
    """Run ``fn(*args, **kwargs)`` as a Ray task and wait for its result.

    Prefect tasks call this, so the Prefect task stays a thin wrapper while the work lands on any Ray node; tasks
    are spread over the cluster's nodes.

    Args:
        fn: a module-level function (Ray pickles it by reference).
        num_cpus: CPUs the Ray task reserves (I/O-bound work needs less than one).
    """
    import ray

    init_ray()
    remote = ray.remote(num_cpus=num_cpus, scheduling_strategy="SPREAD")(fn)
    return ray.get(remote.remote(*args, **kwargs))


def current_node() -> str:
    """The Ray node id this code runs on (``local`` outside Ray)."""
    try:
        import ray

        if ray.is_initialized():
            return ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - best effort: a label for logs and tests
        pass
    return "local"
