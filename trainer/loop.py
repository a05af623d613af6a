"""The training loop, read top to bottom: setup, resume, steps, checkpoints, final model.

:func:`train_worker` runs on every worker (Ray Train calls it inside ``TorchTrainer``; a single process can call it
directly). Each step:

1. build the global batch of the step (:class:`trainer.data.TrainingSet`) and take this worker's slice;
2. one forward pass over the query sequences gives both the thought-token LM loss and the query vectors at
   ``<emb>`` (the joint step), one over the passages gives their vectors; an example whose committee found no
   thought better than the query trains the immediate close (``<thought></s><emb>``, LM label on ``</s>``); the
   same pass gives the decision loss at each ``<thought>`` (logged always, weighted by ``decision_weight``);
3. :func:`trainer.losses.joint_loss` gathers vectors across workers; backward; gradients summed across workers;
4. clip, AdamW, scheduler (linear warm-up then linear decay);
5. rank 0 appends a line to ``train_log.jsonl``; every ``checkpoint_every`` steps all workers checkpoint.

Example:
    >>> from o1embed.trainer.config import TrainConfig
    >>> cfg = TrainConfig.from_preset("cpu-small", output_dir="/tmp/run", data={...}, use_ray=False)  # doctest: +SKIP
    >>> train_worker(cfg)                                                                              # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.distributed as dist

from o1embed.tasks.atomic import write_json_atomic, write_parquet_atomic
from o1embed.tasks.errors import ConfigError
from o1embed.tasks.versioning import rows_hash
from o1embed.trainer.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from o1embed.trainer.collator import collate_queries, pad_sequences
from o1embed.trainer.collectives import all_reduce_gradients, world
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.data import TrainingSet, load_tables
from o1embed.trainer.losses import decision_loss_sum, joint_loss, lm_loss_sum
from o1embed.trainer.model import O1Model, apply_lora, dtype_name, pool_at, resolve_device, resolve_dtype
from o1embed.trainer.model_card import write_model_card
from o1embed.trainer.plots import plot_losses
from o1embed.trainer.prepare import default_backbone_dir
from o1embed.trainer.run_files import RunFiles

log = logging.getLogger(__name__)


def build_model(cfg: TrainConfig, device: torch.device) -> tuple[O1Model, torch.dtype]:
    """Load the backbone, add the special tokens, apply LoRA or unfreeze everything, enable checkpointing.

    Returns:
        ``(model, compute dtype)``. Trainable weights stay fp32; on GPU the forward runs under bf16 autocast, and
        under LoRA the frozen base weights are stored in the compute dtype to save memory.
    """
    compute = resolve_dtype(cfg.model.dtype, device)
    storage = compute if (cfg.finetune == "lora" and compute != torch.float32) else torch.float32
    path = cfg.model_path or str(default_backbone_dir())
    model = O1Model.load(
        path, config=cfg.model.model_copy(update={"dtype": dtype_name(compute)}), device="cpu", dtype=storage
    )
    torch.manual_seed(cfg.seed)  # LoRA initialisation: identical on every worker
    if cfg.finetune == "lora":
        apply_lora(model, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, cfg.lora_target_modules)
    else:
        for p in model.lm.parameters():
            p.requires_grad_(True)
    base = model.base
    base.config.use_cache = False
    if cfg.gradient_checkpointing:  # transformers 5 renamed it; 4.x has only the old name
        if hasattr(base, "activation_checkpointing_enable"):
            base.activation_checkpointing_enable({"use_reentrant": False})
        else:
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.lm.to(device)
    model.lm.train()
    return model, compute


def build_optimizer(model: O1Model, cfg: TrainConfig, total_steps: int):
    """AdamW (no decay on embeddings, norms and biases) and a linear warm-up + linear decay schedule."""
    from transformers import get_linear_schedule_with_warmup

    decay, no_decay = [], []
    for name, p in model.lm.named_parameters():
        if not p.requires_grad:
            continue
        flat = p.ndim < 2 or "embed" in name or "lm_head" in name or "token_adapter" in name
        (no_decay if flat else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.learning_rate)
    warmup = int(round(cfg.warmup_ratio * total_steps))
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
    return optimizer, scheduler


def config_hash(cfg: TrainConfig) -> str:
    """Hash of what changes the trajectory (not where it runs), to refuse resuming a different run."""
    return rows_hash(cfg, 16)  # run-only fields (tasks.versioning) are left out


def train_worker(cfg: TrainConfig, on_step: Callable[[int, dict], None] | None = None) -> dict:
    """Train on this worker; return the final metrics. Rank 0 writes logs, the model folder and the plot.

    Args:
        cfg: the run.
        on_step: called on rank 0 after every step with ``(steps done, log record)`` (progress, tests).

    Returns:
        ``{"step", "loss", "contrastive", "lm", "model_dir", "resumed_from"}`` of the last step.
    """
    rank, size = world()
    files = RunFiles(Path(cfg.output_dir))
    device = resolve_device({True: "cuda", False: "cpu", None: "auto"}[cfg.use_gpu])
    if device.type == "cuda" and size > 1:
        device = torch.device("cuda", torch.cuda.current_device())

    examples, corpus, source = load_tables(cfg.data)
    data = TrainingSet.from_config(cfg, examples, corpus)
    per_epoch = data.steps_per_epoch(cfg.queries_per_step)
    total = cfg.max_steps or cfg.epochs * per_epoch
    if rank == 0:
        files.root.mkdir(parents=True, exist_ok=True)
        cfg.save(files.config)
        write_parquet_atomic(files.errors, data.errors_table())
        write_parquet_atomic(files.holdout, data.holdout_table())

    model, compute = build_model(cfg, device)
    optimizer, scheduler = build_optimizer(model, cfg, total)
    params = [p for p in model.lm.parameters() if p.requires_grad]
    chash = config_hash(cfg)

    start, resumed_from = 0, None
    last = latest_checkpoint(files.checkpoints) if cfg.resume else None
    if last is not None:
        state = json.loads((last / "state.json").read_text())
        if state.get("config_hash") != chash:
            raise ConfigError(
                f"{last} was written by a different configuration (hash {state.get('config_hash')} != {chash}); "
                "use another output_dir or resume=False"
            )
        start = load_checkpoint(last, model.lm, optimizer, scheduler, total)["step"]
        resumed_from = str(last)
    if rank == 0:
        files.truncate_log(start)
        log.info(
            "training %d steps (%d per epoch, %d examples) from step %d on %d worker(s), %s, %s",
            total,
            per_epoch,
            len(data),
            start,
            size,
            device,
            dtype_name(compute),
        )

    local = cfg.queries_per_step // size
    autocast = (
        torch.autocast(device_type=device.type, dtype=compute) if compute != torch.float32 else contextlib.nullcontext()
    )
    record: dict = {}
    for step in range(start, total):
        t0 = time.perf_counter()
        items = data.global_batch(step, cfg.queries_per_step)
        mine = items[rank * local : (rank + 1) * local]
        queries = [
            model.builder.skip_example(it.query) if it.skip else model.builder.query_example(it.query, it.thought)
            for it in mine
        ]
        qb = {k: v.to(device) for k, v in collate_queries(queries, model.ids.pad).items()}
        docs = [model.builder.document(*data.doc_text[d]) for it in mine for d in it.doc_ids]
        pb = {k: v.to(device) for k, v in pad_sequences(docs, model.ids.pad).items()}
        # Rows of the gathered query matrix are the global items in rank order. The positive of global item i sits
        # at passage column i * (1 + negatives); other copies of its positives are masked. With first_emb the
        # query-only vectors of the same pass form a second matrix with the same targets.
        per_q = 1 + cfg.negatives_per_query
        targets = torch.tensor([i * per_q for i in range(len(items))], device=device)
        all_docs = [d for it in items for d in it.doc_ids]
        mask = torch.tensor([[d in it.positives for d in all_docs] for it in items], device=device)

        with autocast:
            hq = model.hidden_states(qb["input_ids"], qb["attention_mask"])  # (local, seq_q, dim)
            q_vec = pool_at(hq, qb["emb_index"])  # (local, dim)
            q_query = None
            if cfg.model.first_emb:  # the query-only vector of the same pass gets its own InfoNCE term
                first = torch.where(qb["first_emb_index"] >= 0, qb["first_emb_index"], qb["emb_index"])
                q_query = pool_at(hq, first)  # (local, dim)
            lm_sum, lm_count = lm_loss_sum(hq, qb["labels"], model.lm_head)
            # logged at any weight: how well p_close follows the committee's decisions
            dec_sum, dec_count = decision_loss_sum(hq, qb["decision_index"], qb["labels"], model.lm_head, model.ids.eos)
            hp = model.hidden_states(pb["input_ids"], pb["attention_mask"])  # (local * per_q, seq_p, dim)
            p_vec = pool_at(hp, pb["last_index"])  # (local * per_q, dim)
        loss, stats = joint_loss(
            q_vec,
            p_vec,
            targets,
            lm_sum,
            lm_count,
            cfg.contrastive_weight,
            cfg.temperature,
            mask,
            q_query_local=q_query,
            query_weight=cfg.query_vector_weight,
            decision_sum=dec_sum,
            decision_count=dec_count,
            decision_weight=cfg.decision_weight,
        )
        loss.backward()
        all_reduce_gradients(params)
        grad_norm = (
            float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)) if cfg.max_grad_norm else float("nan")
        )
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)

        tokens = float(qb["attention_mask"].sum() + pb["attention_mask"].sum())
        if size > 1:
            t = torch.tensor(tokens, device=device)  # nccl reduces device tensors only
            dist.all_reduce(t)
            tokens = float(t)
        seconds = time.perf_counter() - t0
        record = {
            "step": step + 1,
            "epoch": step // per_epoch,
            **stats,
            "lr": lr,
            "grad_norm": grad_norm,
            "tokens_per_s": tokens / seconds,
            "seconds": seconds,
            "dropped_thoughts": sum(it.dropped for it in items),
            "skip_examples": sum(it.skip for it in items),
            "pid": os.getpid(),  # of rank 0: lets an operator (or a test) find the worker
        }
        if rank == 0:
            files.append_log(record)
            if (step + 1) % cfg.log_every == 0 or step + 1 == total:
                log.info(
                    "step %d/%d loss %.4f (nce %.4f, lm %.4f) lr %.2e %.0f tok/s",
                    step + 1,
                    total,
                    stats["loss"],
                    stats["contrastive"],
                    stats["lm"],
                    lr,
                    record["tokens_per_s"],
                )
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == total:
            extra = {"examples_seen": (step + 1) * cfg.queries_per_step, "config_hash": chash}
            save_checkpoint(files.checkpoints, step + 1, model.lm, optimizer, scheduler, extra, cfg.keep_checkpoints)
            if rank == 0:  # keep the curve current during long runs
                plot_losses(files.read_log(), files.plot)
        if rank == 0 and on_step is not None:
            on_step(step + 1, record)

    result = {
        "step": total,
        "resumed_from": resumed_from,
        "model_dir": str(files.model),
        **{k: record.get(k) for k in ("loss", "contrastive", "lm")},
    }
    if rank == 0:
        model.lm.eval()
        model.base.config.use_cache = True
        if cfg.gradient_checkpointing:
            off = (
                getattr(model.base, "activation_checkpointing_disable", None)
                or model.base.gradient_checkpointing_disable
            )
            off()
        model.save(files.model, dtype=dtype_name(compute))
        plot_losses(files.read_log(), files.plot)
        final = {**result, "source": source, "total_steps": total, "world_size": size}
        write_json_atomic(files.result, final)
        write_model_card(files.model, cfg.model_dump(mode="json"), final)
    if size > 1:
        dist.barrier()
    return result
