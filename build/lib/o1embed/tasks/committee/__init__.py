"""The retrieval committee: judge candidate thoughts with corpus-fitted members, vote, mine hard negatives.

Modules, in the order data flows through them:

- :mod:`~tasks.committee.config`: :class:`CommitteeConfig` (members, template, pool, vote, no-gain policy, negatives).
- :mod:`~tasks.committee.inputs`: per-query items from the synthesis tables.
- :mod:`~tasks.committee.members`: members in this process or in Ray actors (loaded once, batched scoring).
- :mod:`~tasks.committee.judging`: one member's ranks of the positives for a batch of search queries.
- :mod:`~tasks.committee.voting`: majority/soft vote, tie-breaks, thought gain.
- :mod:`~tasks.committee.negatives`: hard negatives by reciprocal-rank fusion.
- :mod:`~tasks.committee.examples`: one shard's judgements, examples and errors.
- :mod:`~tasks.committee.stage`: pending shards, shard I/O, statistics, manifest.
- :mod:`~tasks.committee.report`, :mod:`~tasks.committee.export`, :mod:`~tasks.committee.check`.

The Prefect flow is ``flows/committee.py``; the CLI ``o1embed committee run|check`` and ``o1embed export``.
"""

from __future__ import annotations

from o1embed.tasks.committee.config import CommitteeConfig

__all__ = ["CommitteeConfig"]
