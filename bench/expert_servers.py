"""Requests per second of several embedded llama.cpp servers answering at once, against one.

llama-cpp-python's server answers one request at a time and generates on half the cores (one of two here), and
every core on one server measured no faster (bench/expert_threads.py). The alternative is N servers, each on the
default threads, sharing one request list by query (:func:`~o1embed.tasks.llm_client.generate_across`). Both
sides answer the same requests (the synthesis defaults of ``prefect.yaml``'s ``scifact_synthesis``: SciFact train,
the paper's prompt, seeded demos, 96 new tokens at most), with no cache, in alternating rounds in one run.

Run it on an otherwise idle machine (other CPU work skews both sides):
``python bench/expert_servers.py [--first 700] [--queries 4] [--rounds 2] [--servers N]``.
Last line: ``expert_servers_speedup=<seconds per request of one server / of --servers>``.
"""

from __future__ import annotations

import argparse
import multiprocessing

from expert_threads import alternating_rounds, synthesis_requests  # bench/ is the script's own folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=700, help="skip the first judged SciFact train queries")
    ap.add_argument("--queries", type=int, default=4, help="SciFact train queries (K requests each)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of both settings")
    ap.add_argument("--servers", type=int, default=multiprocessing.cpu_count(), help="servers of the alternative")
    args = ap.parse_args()
    reqs, cfg = synthesis_requests(args.queries, args.first)
    print(f"{len(reqs)} requests, 1 server against {args.servers}")
    b, o = alternating_rounds(args.rounds, reqs, cfg, servers=args.servers)
    print(f"1 server {b:.2f} s/request, {args.servers} servers: {o:.2f} s/request")
    print(f"expert_servers_speedup={b / o:.3f}")


if __name__ == "__main__":
    main()
