"""The Hugging Face dataset card (``README.md``) of one dataset version, rewritten with every manifest revision.

The card lies in the version's manifest folder, ``<root>/_manifests/dataset=<d>/split=<s>/version=<v>/README.md``:
the one folder that belongs to exactly one version. Its YAML front matter names one ``configs`` entry per table,
whose ``data_files`` are globs relative to the card's folder (``../../../../candidates/dataset=.../*.parquet``),
so ``datasets`` loads any table of that version from the folder (``tests/tasks/test_dataset_card.py``)::

    >>> import datasets                                                                       # doctest: +SKIP
    >>> folder = "data/runs/scifact/_manifests/dataset=scifact/split=train/version=<v>"      # doctest: +SKIP
    >>> datasets.load_dataset(folder, "examples")["train"]                                  # doctest: +SKIP

The body records the lineage (expert model, prompt hash, sampling, committee members, seeds, code version), the
rows per table, the committee's vote statistics and the thought-gain histogram (a table of bins, and the PNG the
committee drew, which lies beside the card). The licence is the source data's: the ``License`` line of the source
folder's section in the README of the folder above it (``data/beir/README.md`` for the bundled sets), else a
``LICENSE`` file in the source folder, else ``unknown``.

:meth:`tasks.shards.DatasetVersion.write_manifest` calls :func:`write_dataset_card` after each manifest, so the
card always describes the latest revision.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml

from o1embed.tasks.atomic import write_bytes_atomic
from o1embed.tasks.current_rows import read_current_examples
from o1embed.tasks.manifest import CommitteeSection, LLMSection, Manifest

log = logging.getLogger(__name__)

CARD_FILE = "README.md"

# Every table of a version, in pipeline order, with what a row is.
TABLES = {
    "corpus": "source documents (snapshot): doc_id, title, text",
    "queries": "source queries (snapshot): query_id, text",
    "pairs": "judged (query, positive document) pairs of the split (snapshot)",
    "candidates": "candidate thoughts of the expert LLM, one row per (query_id, candidate_idx)",
    "errors": "rows that could not be processed, with stage and reason (ingest, llm, committee)",
    "judgements": "every committee member's rank, score, gain and vote per (query, candidate)",
    "examples": "training examples: query, positive ids, chosen thought, hard negative ids (ids join corpus)",
}

# Licence names as written in data/beir/README.md -> Hugging Face licence identifiers.
_LICENCE_IDS = {
    r"cc[ -]by[ -]nc[ -]sa[ -]4\.0": "cc-by-nc-sa-4.0",
    r"cc[ -]by[ -]nc[ -]4\.0": "cc-by-nc-4.0",
    r"cc[ -]by[ -]nc[ -]2\.0": "cc-by-nc-2.0",
    r"cc[ -]by[ -]sa[ -]4\.0": "cc-by-sa-4.0",
    r"cc[ -]by[ -]4\.0": "cc-by-4.0",
    r"apache[ -]2\.0": "apache-2.0",
    r"\bmit\b": "mit",
}

READ_BATCH_ROWS = 8192
GAIN_BINS = (-1.0, -0.5, -0.1, -1e-9, 1e-9, 0.1, 0.5, 1.0)


def source_licence(source_dir: str | Path | None) -> tuple[str, str]:
    """The source data's licence: ``(Hugging Face id or "other"/"unknown", the licence as its provenance says)``.

    Args:
        source_dir: the BEIR folder the version was ingested from.
    """
    if not source_dir:
        return "unknown", "not recorded"
    src = Path(source_dir)
    readme = src.parent / "README.md"
    text = None
    if readme.exists():
        section = re.search(
            rf"^## {re.escape(src.name)}\b.*?(?=^## |\Z)", readme.read_text(errors="replace"), re.M | re.S
        )
        if section:
            m = re.search(r"\*\*Licen[cs]e\*\*:\s*(.+)", section.group(0))
            text = m.group(1).strip() if m else None
    if text is None:
        for name in ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE"):
            if (src / name).exists():
                text = (src / name).read_text(errors="replace").strip().splitlines()[0][:200]
                break
    if text is None:
        return "unknown", "not stated by the source folder"
    low = text.lower()
    for pattern, ident in _LICENCE_IDS.items():
        if re.search(pattern, low):
            return ident, text
    return "other", text


def _relative_glob(dv, table: str) -> str:
    files_dir = dv.table_dir(table).resolve()
    meta = dv.meta_dir.resolve()
    rel = Path(*([".."] * len(meta.relative_to(Path(dv.root).resolve()).parts)))
    return (rel / files_dir.relative_to(Path(dv.root).resolve()) / "*.parquet").as_posix()


def _rows(files: list[Path]) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _gain_table(dv) -> tuple[list[tuple[str, int, int]], int]:
    """Counts per gain bin: ``[(bin, every candidate, committee winner)]`` and the judged queries."""
    files = dv.files("examples")
    if not files:
        return [], 0
    # Superseded examples (an edited query's older revision) do not count: the newest example per query.
    t = read_current_examples(dv, ["winner_idx", "candidate_idxs", "candidate_gains"])
    judged = [i for i, w in enumerate(t["winner_idx"].to_pylist()) if w is not None and w >= 0]
    idxs, gains = t["candidate_idxs"].to_pylist(), t["candidate_gains"].to_pylist()
    winner_idx = t["winner_idx"].to_pylist()
    every = np.array([g for i in judged for g in gains[i]], dtype=float)
    winner = np.array([gains[i][idxs[i].index(winner_idx[i])] for i in judged], dtype=float)
    rows = []
    labels = ["[-1, -0.5)", "[-0.5, -0.1)", "[-0.1, 0)", "0", "(0, 0.1)", "[0.1, 0.5)", "[0.5, 1]"]
    for label, lo, hi in zip(labels, GAIN_BINS[:-1], GAIN_BINS[1:], strict=True):
        last = hi == GAIN_BINS[-1]
        rows.append(
            (
                label,
                int(((every >= lo) & ((every <= hi) if last else (every < hi))).sum()),
                int(((winner >= lo) & ((winner <= hi) if last else (winner < hi))).sum()),
            )
        )
    return rows, len(judged)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) or "–"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v) or "–"
    return "–" if v is None else str(v)


def _llm_field(llm: LLMSection | None, name: str):
    return None if llm is None else getattr(llm, name)


def build_dataset_card(dv, manifest: Manifest) -> str:
    """Return the card's text for ``dv`` as ``manifest`` describes it (rows are read from disk)."""
    present = {t: dv.files(t) for t in TABLES}
    present = {t: f for t, f in present.items() if f}
    rows = {t: _rows(f) for t, f in present.items()}
    # datasets refuses a split without rows ("corresponds to no data"), so an empty table gets no config.
    loadable = [t for t in present if rows[t]]
    source = manifest.source
    licence_id, licence_text = source_licence(source.dir if source else None)
    llm = manifest.llm
    committee = manifest.committee or CommitteeSection()
    front = {
        "pretty_name": f"o1embed thoughts: {dv.dataset} {dv.split} (version {dv.version})",
        "license": licence_id,
        "task_categories": ["text-retrieval"],
        "tags": ["o1embed", "synthetic", "query-expansion", "reasoning", "retrieval"],
        "configs": [
            {
                "config_name": t,
                "data_files": [{"split": dv.split, "path": _relative_glob(dv, t)}],
                # datasets reads a file in batches of its first row group's size by default, which fails on a
                # shard with no rows (an errors shard of a shard without errors): name the size instead.
                "batch_size": READ_BATCH_ROWS,
            }
            for t in loadable
        ],
    }
    if licence_id == "other":
        front["license_name"] = licence_text
    out = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    out += [
        f"# o1embed thoughts: `{dv.dataset}` / `{dv.split}` / version `{dv.version}`",
        "",
        "Candidate thoughts written by an expert LLM for the judged queries of a BEIR-layout dataset, the "
        "judgements of a retrieval committee, and the training examples it chose (O1 Embedder, arXiv 2502.07555). "
        f"Revision {manifest.revision} of this version; written by o1embed "
        f"(code `{manifest.code_version or 'unknown'}`) at {manifest.created_at or 'unknown'}.",
        "",
        f"**Licence**: {licence_text} (of the source data, `{source.dir if source else 'unknown'}`); the thoughts are "
        "machine-generated from it.",
        "",
        "## Loading",
        "",
        "```python",
        "import datasets, polars as pl",
        f'examples = datasets.load_dataset("<this folder>", "examples")["{dv.split}"]',
        f'cands = pl.scan_parquet("<root>/candidates/{dv.partition}/*.parquet")',
        "```",
        "",
        "## Tables",
        "",
        "| config | rows | files | what a row is |",
        "|---|---|---|---|",
    ]
    for t, what in TABLES.items():
        files = present.get(t, [])
        n = rows.get(t, "not written yet")
        out.append(f"| `{t}` | {n} | {len(files)} | {what} |")
    if any(rows[t] == 0 for t in present):
        out += ["", "A table with no rows has no config (`datasets` cannot load an empty split)."]
    sampling = llm.sampling if llm else {}
    cconf = committee.config or {}
    lineage = [
        ("expert model", _llm_field(llm, "model")),
        ("endpoint", _llm_field(llm, "endpoint")),
        ("prompt template hash", _llm_field(llm, "prompt_template_hash")),
        ("candidates per query", _llm_field(llm, "candidates_per_query")),
        ("sampling", {k: v for k, v in sampling.items() if v is not None}),
        ("sampling seed", sampling.get("seed")),
        ("demo seed rule", _llm_field(llm, "demo_seed_rule")),
        ("committee members", [m.get("name", m) for m in committee.members] or None),
        ("committee vote", cconf.get("vote")),
        ("no-gain policy", cconf.get("no_gain_policy")),
        ("committee fingerprint", committee.fingerprint),
        ("revisions", manifest.revisions or None),
        ("shard size", manifest.shard_size),
        ("code version", manifest.code_version),
        ("source checksums", source.checksums if source else None),
    ]
    out += ["", "## Lineage", "", "| field | value |", "|---|---|"]
    out += [f"| {k} | {_fmt(v)} |" for k, v in lineage]
    stats = committee.stats
    out += ["", "## Vote statistics", ""]
    if stats:
        out += ["| statistic | value |", "|---|---|"] + [f"| {k} | {_fmt(v)} |" for k, v in stats.items()]
    else:
        out.append("The committee has not judged this revision yet.")
    bins, judged = _gain_table(dv)
    out += ["", "## Thought gain", ""]
    if bins:
        out += [
            "Gain = reciprocal rank of the positive for query + thought minus for the bare query, mean over the "
            f"committee members; {judged} judged queries.",
            "",
            "| gain | every candidate | committee winner |",
            "|---|---|---|",
        ]
        out += [f"| {label} | {a} | {b} |" for label, a, b in bins]
        png = committee.histogram_path
        if png and (Path(dv.root) / png).exists():
            out += ["", f"![thought-gain histogram]({Path(png).name})"]
    else:
        out.append("No examples yet.")
    return "\n".join(out) + "\n"


def write_dataset_card(dv, manifest: Manifest) -> Path:
    """Write ``README.md`` into the version's manifest folder atomically; return its path."""
    path = dv.meta_dir / CARD_FILE
    write_bytes_atomic(path, build_dataset_card(dv, manifest).encode())
    log.debug("dataset card %s", path)
    return path
