"""init_ray: join RAY_ADDRESS when set, else always start a new local instance (never a stale head)."""

from __future__ import annotations

import ray

from o1embed.tasks import ray_runtime


def _captured_init(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: calls.append(kw))
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 1.0})
    return calls


def test_local_start_ignores_a_stale_current_cluster_file(monkeypatch, tmp_path):
    (tmp_path / "ray_current_cluster").write_text("192.0.2.2:60085\n")  # a head that no longer exists
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("O1EMBED_RAY_TMP", str(tmp_path))
    calls = _captured_init(monkeypatch)
    ray_runtime.init_ray(num_cpus=1)
    assert calls[0]["address"] == "local"


def test_ray_address_is_joined(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    calls = _captured_init(monkeypatch)
    ray_runtime.init_ray()
    assert calls[0]["address"] == "10.0.0.5:6379"


def _logger_level(name: str) -> int:
    import logging

    return logging.getLogger(name).getEffectiveLevel()


def test_workers_quiet_ray_trains_placement_group_cleaner(ray_session):
    """Every worker of our jobs runs the setup hook, so the cleaner's State-API warnings are not printed."""
    import logging

    name = ray_runtime.QUIET_LOGGERS[0]
    level = ray.get(ray.remote(num_cpus=0.1)(_logger_level).remote(name))
    assert level == logging.ERROR
