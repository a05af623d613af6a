"""Check the committee with a retriever outside it: mean gain of the chosen thoughts vs a random candidate.

Runs :func:`tasks.committee.check.outside_check` on a judged dataset version (the same as
``o1embed committee check``). Default outside retriever: BM25 with k1 0.9, b 0.4, no stemming, no stop words
(the committee's BM25 uses 1.5 / 0.75 / English stemmer / English stop words). ``--dense PATH`` uses a local dense
model folder instead (it must not be a committee member).

Run::

    .venv/bin/python bench/committee_check.py data/runs/scifact [--dataset scifact --split train --version V]

Last line: ``chosen_minus_random_gain=<mean gain of chosen - mean gain of random>`` (> 0: chosen beats random).
"""

from __future__ import annotations

import argparse
import json
import logging

from o1embed.tasks.committee.check import OUTSIDE_BM25, outside_check
from o1embed.tasks.retrievers.spec import RetrieverSpec
from o1embed.tasks.shards import only_version


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("output_root")
    ap.add_argument("--dataset")
    ap.add_argument("--split")
    ap.add_argument("--version")
    ap.add_argument("--dense", help="local dense model folder to use as the outside retriever")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    spec = OUTSIDE_BM25 if not args.dense else RetrieverSpec(kind="dense", name="outside-dense", model_path=args.dense)
    report = outside_check(only_version(args.output_root, args.dataset, args.split, args.version), spec, args.seed)
    print(json.dumps(report, indent=2))
    print(f"mean_gain_chosen={report['mean_gain_chosen']:.4f}")
    print(f"mean_gain_random={report['mean_gain_random']:.4f}")
    print(f"chosen_minus_random_gain={report['difference']:.4f}")


if __name__ == "__main__":
    main()
