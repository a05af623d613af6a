"""Collectives over the training workers: rank and size, gathering vectors with gradient, summing values and grads.

Every function is the identity (or a no-op) without a process group, so the same code runs on one worker.
Used by the losses (global-batch InfoNCE), the loop (gradient sums) and checkpoints (rank 0 writes).
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` from every worker in rank order; only the local slice carries gradient.

    Args:
        x: ``(n_local, dim)``, the same shape on every worker.

    Returns:
        ``(n_local * world_size, dim)``.
    """
    rank, size = world()
    if size == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(size)]
    dist.all_gather(parts, x.detach().contiguous())
    parts[rank] = x
    return torch.cat(parts, dim=0)


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    """Sum a (detached) tensor over workers; identity on one worker."""
    _, size = world()
    if size > 1:
        value = value.detach().clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def all_reduce_gradients(parameters: list[torch.nn.Parameter], bucket_elems: int = 1 << 25) -> None:
    """Sum gradients over workers in flat buckets (no-op on one worker).

    We sum rather than average because each worker's loss already holds only its own share of the global loss's
    gradient (see :func:`joint_loss`). Doing this by hand instead of DistributedDataParallel keeps the semantics
    exact and avoids DDP's clashes with gradient checkpointing and peft's partially frozen layers.
    """
    for p in parameters:  # a parameter unused on a worker (no thought token there) still joins the sum; zeros
        if p.grad is None:  # on one worker too, so that AdamW behaves the same for every world size
            p.grad = torch.zeros_like(p)
    _, size = world()
    if size == 1:
        return
    grads = [p.grad for p in parameters]
    bucket: list[torch.Tensor] = []
    n = 0
    for g in [*grads, None]:
        if g is not None:
            bucket.append(g)
            n += g.numel()
        if bucket and (g is None or n >= bucket_elems):
            flat = torch.cat([b.reshape(-1) for b in bucket])
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            offset = 0
            for b in bucket:
                b.copy_(flat[offset : offset + b.numel()].view_as(b))
                offset += b.numel()
            bucket, n = [], 0
