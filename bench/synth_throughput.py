"""Throughput of the whole synthesize path against a bare asyncio ``openai`` client.

Both send the same requests (same prompts, same sampling) to the same local OpenAI-compatible server, at the same
total concurrency, in the same run. The server answers after ``--latency`` seconds, standing in for an LLM; the
ratio measures what our path costs on top of the requests: Prefect flow and tasks, Ray tasks, ingest, demo
sampling, validation, retries bookkeeping, the response cache (off here, or it would win unfairly), Parquet shards
and the manifest. Ray and the Prefect API are started before timing, as they are in production (``--cold-prefect``
puts the ephemeral Prefect API's start inside the timed run, as this bench did before 2026-12-01).

Run: ``python bench/synth_throughput.py [--queries 3000] [--latency 0.1] [--concurrency 32]``; the pipeline's own
ceiling: ``--latency 0 --queries 6667`` (20,001 requests; target >= 0.85).
Last line: ``synth_vs_raw_throughput=<ours / raw>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openai  # noqa: E402

from o1embed.tasks.ingest import load_beir  # noqa: E402
from o1embed.tasks.synthesis import SynthesisConfig, build_requests  # noqa: E402
from o1embed.tasks.testing.beir import make_beir  # noqa: E402
from o1embed.tasks.testing.server_process import fake_openai_server  # noqa: E402


async def raw_client(base_url: str, reqs, cfg: SynthesisConfig, concurrency: int) -> int:
    sem = asyncio.Semaphore(concurrency)
    s = cfg.sampling
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0) as client:

        async def one(r):
            async with sem:
                resp = await client.chat.completions.create(
                    model="fake-expert",
                    messages=r.messages,
                    temperature=s.temperature,
                    top_p=s.top_p,
                    max_tokens=s.max_tokens,
                    seed=s.seed,
                )
                return resp.choices[0].message.content

        out = await asyncio.gather(*(one(r) for r in reqs))
    return len(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=3000)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.25, help="server seconds per request (an LLM takes seconds)")
    ap.add_argument("--concurrency", type=int, default=32, help="total requests in flight")
    ap.add_argument("--shards-in-flight", type=int, default=2)
    ap.add_argument(
        "--cold-prefect",
        action="store_true",
        help="start the ephemeral Prefect API inside the timed run (the figure before 2026-12-01)",
    )
    a = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="o1embed-bench-"))
    os.environ.setdefault("O1EMBED_DATA", str(tmp / "data"))
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    src = make_beir(tmp / "src", a.queries, n_docs=max(100, a.queries // 5))
    per_shard = max(1, a.concurrency // a.shards_in_flight)
    shard_size = -(-a.queries // (2 * a.shards_in_flight))  # two waves of shards

    from o1embed.flows.synthesize import synthesize
    from o1embed.tasks.ray_runtime import init_ray

    init_ray()
    if not a.cold_prefect:  # production runs against a Prefect server that is already up, as Ray is
        from prefect import flow

        flow(name="throughput-warm-up")(lambda: None)()
    with fake_openai_server(latency=a.latency) as url:
        cfg = SynthesisConfig(
            dataset_dir=str(src),
            output_dir=str(tmp / "out"),
            use_cache=False,
            shard_size=shard_size,
            parallel_shards=a.shards_in_flight,
            candidates_per_query=a.k,
            llm={"base_url": url, "model": "fake-expert", "concurrency": per_shard},
        )
        ing = load_beir(src, "train")
        qids = sorted(ing.positives())
        reqs = build_requests(qids, {"corpus": ing.corpus, "queries": ing.queries, "pairs": ing.pairs}, cfg)

        t0 = time.perf_counter()
        n_raw = asyncio.run(raw_client(url, reqs, cfg, a.concurrency))
        t_raw = time.perf_counter() - t0

        t0 = time.perf_counter()
        res = synthesize(cfg, judge=False)
        t_ours = time.perf_counter() - t0
    n_ours = res.tables["candidates"]
    assert n_ours == n_raw == len(reqs), (n_ours, n_raw, len(reqs))
    print(f"requests={len(reqs)} concurrency={a.concurrency} latency={a.latency}s shards={2 * a.shards_in_flight}")
    print(f"raw openai client: {t_raw:.1f}s  {n_raw / t_raw:.1f} candidates/s")
    print(f"synthesize flow:   {t_ours:.1f}s  {n_ours / t_ours:.1f} candidates/s (Prefect + Ray + Parquet + manifest)")
    print(f"synth_vs_raw_throughput={(n_ours / t_ours) / (n_raw / t_raw):.3f}")


if __name__ == "__main__":
    main()
