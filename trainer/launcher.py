"""Launch a training run: Ray Train ``TorchTrainer`` (default) or the same loop in this process.

Ray Train starts ``num_workers`` processes (one GPU each when ``use_gpu``), sets up ``torch.distributed`` (gloo on
CPU, nccl on GPU) and restarts the worker group up to ``max_failures`` times when a worker dies
(``FailureConfig``); every (re)started worker resumes from the newest checkpoint in ``output_dir``
(:mod:`trainer.checkpoint`), which is also how a new run with the same ``output_dir`` continues a killed one.
``output_dir`` must therefore be visible to every worker (local disk on one machine, a shared mount on a cluster).

Call :func:`launch_training` from a flow body or the CLI, never from inside a Ray task: the trainer needs its own
CPUs (a Ray task holding CPUs would starve the workers' placement group). Ray's own run folder goes to
``<data root>/ray_results``.

Example:
    >>> cfg = TrainConfig.from_preset("cpu-small", output_dir="runs/o1", data={...})   # doctest: +SKIP
    >>> launch_training(cfg).model_dir                                             # doctest: +SKIP
    'runs/o1/model'
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.paths import data_root, local_path
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.result import TrainResult
from o1embed.trainer.run_files import RunFiles

log = logging.getLogger(__name__)

Progress = Callable[[int, int, dict], None]  # (steps done, total steps, last log record)


def _ray_worker_entry(config: dict) -> None:
    """What each Ray Train worker runs (module-level so that Ray can pickle it)."""
    import ray.train
    import torch

    from o1embed.trainer.loop import train_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = TrainConfig.model_validate(config)
    torch.set_num_threads(cfg.cpus_per_worker)
    if cfg.use_gpu and torch.cuda.is_available():
        torch.cuda.set_device(ray.train.torch.get_device())
    result = train_worker(cfg)
    ray.train.report({k: v for k, v in result.items() if isinstance(v, (int, float))})


def planned_steps(cfg: TrainConfig) -> int:
    """Optimiser steps the run will take: ``max_steps``, else epochs x full batches of the trainable examples."""
    if cfg.max_steps:
        return cfg.max_steps
    from o1embed.trainer.data import TrainingSet, load_tables

    examples, corpus, _ = load_tables(cfg.data)
    data = TrainingSet.from_config(cfg, examples, corpus)  # the run's hold-out and decisions, as it trains
    return cfg.epochs * data.steps_per_epoch(cfg.queries_per_step)


def launch_training(cfg: TrainConfig, progress: Progress | None = None, poll_s: float = 2.0) -> TrainResult:
    """Run training to the end (resuming when ``output_dir`` holds a checkpoint) and return ``result.json``.

    Args:
        cfg: the run.
        progress: called in this thread with ``(steps done, total, record)`` as steps finish (under Ray, from
            polling the step log every ``poll_s``).
        poll_s: how often the step log is polled under Ray.

    Returns:
        The run's ``result.json`` (:class:`~trainer.result.TrainResult`): final losses, ``model_dir``, lineage.

    Raises:
        ConfigError: GPUs asked for but none in the cluster; no such dataset version.
        InputError: the examples or corpus table is missing.
        ray.train.TrainingFailedError: the workers failed more than ``max_failures`` times.
    """
    from o1embed.trainer.data import check_data

    cfg = cfg.model_copy(
        update={
            "output_dir": local_path("output_dir", cfg.output_dir),
            "data": cfg.data.model_copy(
                update={
                    k: local_path(f"data.{k}", getattr(cfg.data, k)) for k in ("root", "examples_path", "corpus_path")
                }
            ),
        }
    )
    cfg = cfg.with_absolute_paths()  # workers run in another directory
    check_data(cfg.data)  # a missing dataset fails here, once, not in every restarted worker
    files = RunFiles(Path(cfg.output_dir))
    total = planned_steps(cfg)
    if not cfg.use_ray:
        from o1embed.trainer.loop import train_worker

        def on_step(step: int, record: dict) -> None:
            if progress:
                progress(step, total, record)

        train_worker(cfg, on_step=on_step)
        return TrainResult.read(files.result)

    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    from o1embed.tasks.ray_runtime import RAY_ENV, init_ray

    resources = init_ray()
    use_gpu = cfg.use_gpu if cfg.use_gpu is not None else resources.get("GPU", 0) >= 1
    if use_gpu and resources.get("GPU", 0) < cfg.num_workers:
        raise ConfigError(f"{cfg.num_workers} GPU worker(s) asked for; the Ray cluster has {resources.get('GPU', 0)}")
    cfg = cfg.model_copy(update={"use_gpu": use_gpu})
    env = dict(RAY_ENV)
    if "O1EMBED_DATA" in os.environ:
        env["O1EMBED_DATA"] = os.environ["O1EMBED_DATA"]
    key = hashlib.sha256(str(Path(cfg.output_dir).resolve()).encode()).hexdigest()[:10]
    storage = data_root() / "ray_results"
    storage.mkdir(parents=True, exist_ok=True)
    trainer = TorchTrainer(
        _ray_worker_entry,
        train_loop_config=cfg.model_dump(mode="json"),
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=cfg.num_workers, use_gpu=use_gpu, resources_per_worker={"CPU": cfg.cpus_per_worker}
        ),
        run_config=RunConfig(
            name=f"o1-train-{key}-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str(storage),
            failure_config=FailureConfig(max_failures=cfg.max_failures),
            worker_runtime_env={"env_vars": env},
        ),
    )
    # fit() blocks; run it in a thread so that progress callbacks run here, in the caller's thread (a Prefect flow
    # body can then update its artifacts), while the step log is polled.
    outcome: dict = {}

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as exc:  # re-raised below, in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=fit, name="ray-train-fit", daemon=True)
    thread.start()
    seen = -1
    while thread.is_alive():
        thread.join(poll_s)
        records = files.read_log() if progress is not None else []
        if records and records[-1]["step"] != seen:
            seen = records[-1]["step"]
            progress(seen, total, records[-1])
    if "error" in outcome:
        raise outcome["error"]
    result = TrainResult.read(files.result)
    if progress is not None:
        records = files.read_log()
        if records and records[-1]["step"] != seen:
            progress(records[-1]["step"], total, records[-1])
    log.info("training done: %s (ray %s)", result.model_dir, ray.__version__)
    return result
