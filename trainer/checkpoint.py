"""Full training checkpoints: trainable weights, optimiser, scheduler, RNG state and data position.

A checkpoint is a folder ``<output>/checkpoints/step-<NNNNNNN>`` (the number of optimiser steps done)::

    trainable.safetensors   every parameter with requires_grad (LoRA adapters and token rows, or the full model)
    optimizer.pt            AdamW state
    scheduler.pt            learning-rate scheduler state
    rng-rank<R>.pt          python, numpy, torch (and CUDA) RNG states of worker R
    state.json              {"step": ..., "world_size": ..., "examples_seen": ...}

Workers write into a hidden temporary folder; rank 0 renames it once every worker is done, so a folder without the
dot is always complete: a SIGKILL mid-save leaves only a temporary folder, which the next save replaces.
The data position is the step count: the data plan is a pure function of the step (:mod:`trainer.data`).

Frozen weights are not saved: they are reloaded from the backbone folder, which must not change between runs.

A finished run's last checkpoint travels light: :func:`copy_weights` keeps only ``trainable.safetensors`` and
``state.json`` (LoRA r = 16 on SmolLM2-135M: ~20 MB, against ~60 MB with the optimiser). Put that folder under a
fresh run's ``checkpoints/`` (same backbone, same configuration) and the run resumes at its last step and only writes
the final model: nothing is left to train, so no optimiser state is needed. A checkpoint without the optimiser
state any earlier than the last step is refused (it would restart the learning-rate schedule silently).
:func:`copy_final_weights` (``o1embed model copy-weights SRC DEST``) does both sides in one way: it copies a run
folder's newest checkpoint, weights only, and its step log into another folder of the same layout, so keeping a
run's weights (run -> a folder to commit) and seeding a fresh run from them (that folder -> the run) are one call.

Example:
    >>> latest_checkpoint(Path("runs/x/checkpoints"))          # doctest: +SKIP
    PosixPath('runs/x/checkpoints/step-0000200')
    >>> copy_final_weights(Path("runs/x"), Path("kept/x"))     # doctest: +SKIP
    PosixPath('kept/x/checkpoints/step-0000200')
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

from o1embed.tasks.atomic import atomic_path, write_json_atomic
from o1embed.tasks.errors import ConfigError
from o1embed.trainer.collectives import world
from o1embed.trainer.run_files import RunFiles

log = logging.getLogger(__name__)

PREFIX = "step-"


def _barrier() -> None:
    if world()[1] > 1:
        dist.barrier()


def checkpoint_name(step: int) -> str:
    return f"{PREFIX}{step:07d}"


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints in ``folder``, oldest first."""
    if not folder.exists():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and (p / "state.json").exists()
    )


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint in ``folder``, or None."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter that trains, by name, detached and contiguous on CPU."""
    return {n: p.detach().to("cpu").contiguous() for n, p in model.named_parameters() if p.requires_grad}


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(folder: Path, step: int, model, optimizer, scheduler, extra: dict, keep: int) -> Path:
    """Save a checkpoint collectively (every worker calls this) and prune all but the newest ``keep``.

    Args:
        folder: the checkpoints folder.
        step: optimiser steps done.
        model: the trained ``torch.nn.Module`` (peft wrapper or plain model).
        optimizer, scheduler: their states go in the checkpoint.
        extra: more fields for ``state.json`` (examples seen, config hash).
        keep: newest checkpoints kept.

    Returns:
        The checkpoint folder.
    """
    rank, size = world()
    final = folder / checkpoint_name(step)
    tmp = folder / f".{final.name}.tmp"
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    _barrier()
    torch.save(rng_state(), tmp / f"rng-rank{rank}.pt")
    if rank == 0:
        save_file(trainable_state(model), str(tmp / "trainable.safetensors"))
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    _barrier()
    if rank == 0:
        write_json_atomic(tmp / "state.json", {"step": step, "world_size": size, **extra})
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for old in list_checkpoints(folder)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("checkpoint %s", final)
    _barrier()
    return final


def copy_weights(checkpoint: Path, out: Path) -> Path:
    """Copy a checkpoint's trainable weights and ``state.json`` to ``out`` (made or replaced): a finished run's
    model in its smallest form, to be resumed at its last step (see the module docstring).

    Returns:
        ``out``.
    """
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ("trainable.safetensors", "state.json"):
        shutil.copy2(checkpoint / name, tmp / name)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def copy_final_weights(src: Path, dest: Path) -> Path:
    """Copy run folder ``src``'s newest checkpoint, weights only (:func:`copy_weights`), and its ``train_log.jsonl``
    into run folder ``dest`` (made where missing), at the same step name.

    ``dest`` is either a folder to keep (commit) the weights in, or a fresh run's output folder, which then resumes
    at that step and only writes the model. Both folders have a run's layout (:class:`RunFiles`)::

        checkpoints/step-0000200/{trainable.safetensors,state.json}
        train_log.jsonl

    Returns:
        The copied checkpoint folder under ``dest``.

    Raises:
        ConfigError: ``src`` has no complete checkpoint or no step log, or ``dest`` already holds a newer
            checkpoint (a resume would take that one, not the copy).
    """
    source, target = RunFiles(src), RunFiles(dest)
    newest = latest_checkpoint(source.checkpoints)
    if newest is None:
        raise ConfigError(f"{source.checkpoints} holds no complete checkpoint (step-NNNNNNN with state.json)")
    if not source.log.exists():
        raise ConfigError(f"{source.log} is missing: the step log travels with the weights")
    present = latest_checkpoint(target.checkpoints)
    if present is not None and present.name > newest.name:
        raise ConfigError(f"{present} is newer than {newest}: a resume in {dest} would not use the copy")
    out = copy_weights(newest, target.checkpoints / newest.name)
    with atomic_path(target.log) as tmp:
        shutil.copy2(source.log, tmp)
    log.info("copied the weights of %s to %s", newest, out)
    return out


def load_checkpoint(path: Path, model, optimizer, scheduler, total_steps: int) -> dict:
    """Restore weights, optimiser, scheduler and this worker's RNG from ``path``; return ``state.json``.

    A checkpoint of the run's last step (``total_steps``) may lack the optimiser and scheduler (a
    :func:`copy_weights` folder): the weights are all that is left to use.

    Raises:
        ConfigError: the checkpoint's trainable parameters do not match the model's (different LoRA setting or
            backbone), or it lacks the optimiser state before the last step.
    """
    rank, _ = world()
    state = json.loads((path / "state.json").read_text())
    weights_only = not (path / "optimizer.pt").exists()
    if weights_only and state["step"] < total_steps:
        raise ConfigError(
            f"checkpoint {path} has weights only (no optimizer.pt) at step {state['step']} of {total_steps}: "
            "training on would restart the optimiser and the learning-rate schedule; resume from a full checkpoint"
        )
    weights = load_file(str(path / "trainable.safetensors"))
    params = dict(model.named_parameters())
    expected = {n for n, p in params.items() if p.requires_grad}
    if set(weights) != expected:
        diff = sorted(set(weights) ^ expected)[:5]
        raise ConfigError(f"checkpoint {path} does not match the model's trainable parameters (e.g. {diff})")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value.to(params[name].device, params[name].dtype))
    if weights_only:
        log.info("resumed from %s (step %d, weights only: the run is finished)", path, state["step"])
        return state
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=False))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", map_location="cpu", weights_only=False))
    rng_file = path / f"rng-rank{rank}.pt"
    if rng_file.exists():
        set_rng_state(torch.load(rng_file, map_location="cpu", weights_only=False))
    else:
        log.warning("no RNG state for rank %d in %s (different world size); RNG not restored", rank, path)
    log.info("resumed from %s (step %d)", path, state["step"])
    return state
