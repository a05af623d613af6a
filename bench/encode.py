"""Benchmark: query encoding with KV-cache reuse against re-encoding, plus document throughput.

For each batch of queries the thoughts are generated once; then the ``<emb>`` vector is read two ways from the same
generation: (a) KV reuse, feeding the last tail tokens through the generation's cache
(:class:`trainer.encoder.O1Encoder`), and (b) re-encoding, a fresh forward pass over
``<query>q</query><thought>t eos<emb>`` (what the reference code did).
Generation costs the same in both and is reported separately.

Printed figures (same run, same thoughts):

- ``generate_s``: thought generation, shared;
- ``kv_embed_s`` / ``reencode_embed_s``: the read-out step of each way;
- ``readout_only_speedup``: re-encode read-out time / KV read-out time (what KV reuse removes);
- ``docs_per_s``: ``encode_documents`` throughput at the given passage length;
- last line ``kv_reuse_speedup``: whole query encoding, (generate + re-encode) / (generate + KV read-out). Decoding
  reads every weight once per step, so on a CPU its cost per query falls as the batch grows while a re-encode's does
  not: the ratio grows with the batch (trained 135M model, 64 queries, <= 96 tokens, fp32, 2 threads, re-encoding in
  batches of the query batch's size: 1.19 at 8 per batch, 1.42 at 32, 1.59 at 64; 1.37 at 32 as this bench now
  re-encodes, in length-sorted batches of ``doc_batch_size``).

Run::

    .venv/bin/python bench/encode.py --model data/runs/o1-scifact-small/model   # a trained model, 64 queries
    .venv/bin/python bench/encode.py --max-new-tokens 32                        # SmolLM2-135M, prepared on first use

Batch size and thought budget are the encoder's defaults (``query_batch_size``, ``max_new_tokens`` capped by the
model's ``max_thought_tokens``) unless given: the figure is for the configuration evaluation runs with.
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    import torch

    from o1embed.tasks.errors import ConfigError
    from o1embed.tasks.paths import bundled_dataset
    from o1embed.trainer.encoder import EncoderConfig, O1Encoder
    from o1embed.trainer.prepare import resolve_backbone

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="Model folder (default: SmolLM2-135M, prepared on first use).")
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument(
        "--batch", type=int, default=None, help="Queries generated together (default: EncoderConfig's)."
    )
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        help="Thought budget (default: EncoderConfig's, model-capped).",
    )
    parser.add_argument("--docs", type=int, default=32)
    parser.add_argument("--passage-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", help="auto (bf16 on GPU, fp32 on CPU), float32, bfloat16")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        model = str(resolve_backbone(args.model))
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from None

    folder = bundled_dataset("scifact")
    queries = [json.loads(x)["text"] for x in (folder / "queries.jsonl").read_text().splitlines()[: args.queries]]
    corpus = [json.loads(x) for x in (folder / "corpus.jsonl").read_text().splitlines()[: args.docs]]

    cfg = EncoderConfig(device=args.device, dtype=args.dtype, use_cache=False, max_passage_tokens=args.passage_tokens)
    if args.batch:
        cfg = cfg.model_copy(update={"query_batch_size": args.batch})
    if args.max_new_tokens:
        cfg = cfg.model_copy(update={"max_new_tokens": args.max_new_tokens})
    args.batch = cfg.query_batch_size
    enc = O1Encoder(model, cfg)
    gen_s = kv_s = re_s = 0.0
    cos = []
    with torch.no_grad():
        for start in range(0, len(queries), args.batch):
            batch = queries[start : start + args.batch]
            t0 = time.perf_counter()
            out, prompt_mask, width = enc.generate(batch)
            gen_s += time.perf_counter() - t0
            gen = out.sequences[:, width:].cpu()
            new = gen.shape[1]
            finished = gen == enc.model.ids.eos
            stop = torch.where(finished.any(1), finished.int().argmax(1), torch.full((len(gen),), new))
            thoughts = [gen[r, : int(stop[r])].tolist() for r in range(len(gen))]
            cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
            t0 = time.perf_counter()
            kv = enc._emb_from_cache(cache, gen, stop, prompt_mask)
            kv_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            seqs = [enc.model.builder.query_example(q, t).input_ids for q, t in zip(batch, thoughts, strict=True)]
            re = enc.model.embed_sequences(seqs, cfg.doc_batch_size)  # as kv_reuse=False does
            re_s += time.perf_counter() - t0
            cos.extend((kv * re).sum(1).tolist())
        t0 = time.perf_counter()
        enc.encode_documents([d.get("title", "") for d in corpus], [d["text"] for d in corpus])
        doc_s = time.perf_counter() - t0

    print(
        f"model={model} device={enc.device} dtype={enc.dtype} queries={len(queries)} batch={args.batch} "
        f"max_new_tokens={enc.max_new_tokens}"
    )
    print(f"generate_s={gen_s:.3f} ({len(queries) / gen_s:.2f} queries/s)")
    print(f"kv_embed_s={kv_s:.3f}")
    print(f"reencode_embed_s={re_s:.3f}")
    print(f"min_cosine_kv_vs_reencode={min(cos):.6f}")
    print(f"readout_only_speedup={re_s / kv_s:.3f} (the <emb> read-out after generation, alone)")
    print(f"docs_per_s={len(corpus) / doc_s:.2f} (passage_tokens={args.passage_tokens})")
    # The figure asked for: whole query encoding (generate + read-out), KV reuse against re-encoding.
    print(f"kv_reuse_speedup={(gen_s + re_s) / (gen_s + kv_s):.3f}")


if __name__ == "__main__":
    main()
