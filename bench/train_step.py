"""Benchmark: the shared-forward joint step against two separate passes (an LM pass and an embedding pass).

Both variants train on the same batch of query + thought sequences and back-propagate the same loss,
``0.8 * InfoNCE + 0.2 * LM``:

- **joint** (ours): one pass of the decoder; the query vector is read at ``<emb>`` and the LM head runs only on the
  thought tokens (:mod:`trainer.losses`).
- **separate** (the reference's way): an LM pass ``model(input_ids, labels=...)`` (full-vocabulary logits) plus an
  embedding pass over the same sequences.

Passages are the same for both variants and would only add the same time to each, so they enter as fixed vectors
(computed once, no gradient): the ratio isolates what the shared forward changes. Each variant runs in its own
subprocess; peak memory is the high-water mark above the pre-step baseline during the first step (process RSS sampled
every 2 ms on CPU, ``torch.cuda.max_memory_allocated`` on GPU); time is the mean of the following steps.

Run::

    .venv/bin/python bench/train_step.py                 # SmolLM2-135M (prepared on first use), 4 queries, CPU
    .venv/bin/python bench/train_step.py --queries 8 --steps 3 --model <folder>

The last two lines are ``joint_speedup=<separate time / joint time>`` and
``joint_peak_mem_ratio=<joint peak / separate peak>``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Sample this process's RSS in a thread; ``peak`` is the maximum seen."""

    def __init__(self, every_s: float = 0.002):
        self.every_s, self.peak, self._stop = every_s, _rss_bytes(), threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.every_s)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def texts(n: int) -> tuple[list[str], list[str]]:
    """Queries and long thoughts from the bundled SciFact set (thought = a relevant-looking abstract)."""
    from o1embed.tasks.paths import bundled_dataset

    folder = bundled_dataset("scifact")
    queries = [json.loads(x)["text"] for x in (folder / "queries.jsonl").read_text().splitlines()[:n]]
    docs = [json.loads(x)["text"] for x in (folder / "corpus.jsonl").read_text().splitlines()[:n]]
    return queries, docs


def run_variant(args) -> dict:
    """One variant in this process: returns time per step and peak memory above baseline."""
    import ctypes

    import torch
    import torch.nn.functional as F

    from o1embed.trainer.collator import collate_queries
    from o1embed.trainer.config import O1ModelConfig
    from o1embed.trainer.losses import info_nce, lm_loss_sum
    from o1embed.trainer.model import O1Model, pool_at, resolve_device

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = resolve_device(args.device)
    cfg = O1ModelConfig(max_query_tokens=32, max_thought_tokens=args.thought_tokens)
    model = O1Model.load(args.model, config=cfg, device=device, dtype="auto")
    model.lm.train()
    for p in model.lm.parameters():
        p.requires_grad_(True)
    queries, thoughts = texts(args.queries)
    encs = [model.builder.query_example(q, t) for q, t in zip(queries, thoughts, strict=True)]
    batch = {k: v.to(device) for k, v in collate_queries(encs, model.ids.pad).items()}
    n_tokens = int(batch["attention_mask"].sum())
    with torch.no_grad():  # fixed passages: (queries, dim), the positive of query i is row i
        passages = F.normalize(torch.randn(args.queries * 4, model.dim, device=device), dim=-1)
    targets = torch.arange(args.queries, device=device) * 4
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if device.type == "cuda" else torch.enable_grad()

    def joint_step():
        with autocast:
            hidden = model.hidden_states(batch["input_ids"], batch["attention_mask"])
            q = pool_at(hidden, batch["emb_index"])
            lm_sum, count = lm_loss_sum(hidden, batch["labels"], model.lm_head)
            loss = 0.8 * info_nce(q, passages, targets, 0.02) + 0.2 * lm_sum / max(count, 1)
        loss.backward()

    def separate_step():
        with autocast:
            lm = model.lm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
            hidden = model.hidden_states(batch["input_ids"], batch["attention_mask"])
            q = pool_at(hidden, batch["emb_index"])
            loss = 0.8 * info_nce(q, passages, targets, 0.02) + 0.2 * lm.loss
        loss.backward()

    step = joint_step if args.variant == "joint" else separate_step

    def zero():
        model.lm.zero_grad(set_to_none=True)

    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        # Gradients are allocated during the first backward for both variants alike; allocate them first so that the
        # peak measures activations and logits, what the variants differ in.
        for p in model.lm.parameters():
            p.grad = torch.zeros_like(p)
        import gc

        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        base = _rss_bytes()
        with PeakRSS() as rss:
            step()
        peak = rss.peak - base
    times = []
    for _ in range(args.steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    zero()
    return {
        "variant": args.variant,
        "step_s": sum(times) / len(times),
        "peak_bytes": peak,
        "tokens": n_tokens,
        "device": str(device),
    }


def main() -> None:
    from o1embed.tasks.errors import ConfigError
    from o1embed.trainer.prepare import resolve_backbone

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="Causal LM folder (default: SmolLM2-135M, prepared on first use)."
    )
    parser.add_argument("--queries", type=int, default=4, help="Query sequences per step.")
    parser.add_argument("--thought-tokens", type=int, default=96, help="Thought tokens per sequence.")
    parser.add_argument("--steps", type=int, default=3, help="Timed steps per variant (after the measured first).")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--variant", choices=["joint", "separate"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        args.model = str(resolve_backbone(args.model))
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    if args.variant:
        print(json.dumps(run_variant(args)))
        return

    results = {}
    for variant in ("separate", "joint"):
        cmd = [
            sys.executable,
            __file__,
            "--variant",
            variant,
            "--model",
            args.model,
            "--queries",
            str(args.queries),
            "--thought-tokens",
            str(args.thought_tokens),
            "--steps",
            str(args.steps),
            "--threads",
            str(args.threads),
            "--device",
            args.device,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            sys.stderr.write(out.stderr[-4000:])
            raise SystemExit(f"{variant} variant failed")
        results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
    j, s = results["joint"], results["separate"]
    print(f"model={args.model} device={j['device']} queries={args.queries} tokens_per_step={j['tokens']}")
    for r in (s, j):
        print(f"{r['variant']}_step_s={r['step_s']:.3f} {r['variant']}_peak_mb={r['peak_bytes'] / 2**20:.1f}")
    print(f"joint_speedup={s['step_s'] / j['step_s']:.3f}")
    print(f"joint_peak_mem_ratio={j['peak_bytes'] / max(s['peak_bytes'], 1):.3f}")


if __name__ == "__main__":
    main()
