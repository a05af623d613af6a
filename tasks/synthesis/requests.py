"""The chat requests of a shard: K per query, with seeded demos, and how they were shaped (``n`` or one each)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from o1embed.tasks.documents import document_text
from o1embed.tasks.llm_client import ThoughtGenerator, ThoughtRequest
from o1embed.tasks.positives import positives_by_query
from o1embed.tasks.prompts import DemoPool, build_messages, candidate_seed
from o1embed.tasks.shards import DatasetVersion
from o1embed.tasks.synthesis.config import SynthesisConfig
from o1embed.tasks.synthesis.snapshots import shard_inputs


@dataclass
class DemoInputs:
    """What every shard's requests draw on: query texts, positives per query, and the demo pool."""

    queries: dict[str, str]
    positives: dict[str, set[str]]
    pool: DemoPool

    @classmethod
    def from_tables(cls, ingest_tables: dict[str, pa.Table]) -> DemoInputs:
        """Build from the ``corpus`` (at least the pairs' documents), ``queries`` and ``pairs`` tables."""
        queries = dict(zip(*(ingest_tables["queries"][c].to_pylist() for c in ("query_id", "text")), strict=True))
        corpus = ingest_tables["corpus"]
        doc_text = {
            d: document_text(t, x)
            for d, t, x in zip(*(corpus[c].to_pylist() for c in ("doc_id", "title", "text")), strict=True)
        }
        # Demo passages reach the prompt only word-split (prompts._cut), so their whitespace never matters.
        by_query = positives_by_query(ingest_tables["pairs"])
        pool_pairs = [(q, queries[q], d, doc_text[d]) for q, docs in by_query.items() for d in docs]
        positives = {q: set(docs) for q, docs in by_query.items()}
        return cls(queries, positives, DemoPool(pool_pairs))


_DEMO_INPUTS: dict[tuple, DemoInputs] = {}  # per worker process: the last version's inputs, reused by its shards


def demo_inputs(dv: DatasetVersion) -> DemoInputs:
    """:class:`DemoInputs` of ``dv``'s snapshots, built once per process and snapshot state (not once per shard).

    A shard's cost would otherwise grow with the whole version's queries, so a run's with their square.
    """
    files = [f for t in ("corpus", "queries", "pairs") for f in dv.files(t)]
    key = (str(dv.root), dv.partition, *((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    if key not in _DEMO_INPUTS:
        _DEMO_INPUTS.clear()
        _DEMO_INPUTS[key] = DemoInputs.from_tables(shard_inputs(dv))
    return _DEMO_INPUTS[key]


def build_requests(
    query_ids: list[str],
    ingest_tables: dict[str, pa.Table] | DemoInputs,
    cfg: SynthesisConfig,
) -> list[ThoughtRequest]:
    """Build the K requests of each query, with seeded demos per candidate or per query (``prompt.demo_policy``).

    Args:
        query_ids: the shard's queries.
        ingest_tables: ``corpus``, ``queries`` and ``pairs`` snapshots (the corpus may be cut to the documents of
            the pairs: no other document is read), or :class:`DemoInputs` built from them.
        cfg: the synthesis config.

    Returns:
        One request per (query_id, candidate_idx), in that order. The demos, seed and style of a request depend
        only on its key, never on K, so a run with a larger K reuses the cached responses of a smaller one. With
        ``per_query`` the K requests of a query share one message list (when its styles do not differ).
    """
    inputs = ingest_tables if isinstance(ingest_tables, DemoInputs) else DemoInputs.from_tables(ingest_tables)
    queries, positives, pool = inputs.queries, inputs.positives, inputs.pool
    out = []
    shared = cfg.prompt.demo_policy == "per_query"
    for qid in query_ids:
        for k in range(cfg.candidates_per_query):
            style = cfg.prompt.style_for(k)
            if k == 0 or not shared:
                demos = pool.draw(
                    qid,
                    positives.get(qid, set()),
                    cfg.prompt.num_demos,
                    candidate_seed(cfg.sampling.seed, qid, -1 if shared else k, -1),
                )
            messages = build_messages(queries[qid], demos, cfg.prompt, style)
            out.append(
                ThoughtRequest(
                    qid,
                    k,
                    queries[qid],
                    messages,
                    tuple(d.query_id for d in demos),
                    style,
                    cfg.prompt.task_for(style),
                )
            )
    return out


def request_mode(cfg: SynthesisConfig, *gens: ThoughtGenerator) -> dict:
    """How the candidates' requests were shaped (recorded in each candidates shard and, once, in the manifest).

    ``gens`` are the generators that ran (none: as configured); the first that found its server ignoring
    ``n=K`` makes the mode one request per candidate, with what that server did.
    """
    k = cfg.candidates_per_query
    if cfg.prompt.demo_policy != "per_query" or k == 1:
        return {"demo_policy": cfg.prompt.demo_policy, "n": 1}
    for gen in gens:
        if gen.n_honoured is False:
            return {"demo_policy": "per_query", "n": 1, "n_fallback": gen.n_fallback}
    return {"demo_policy": "per_query", "n": k}
