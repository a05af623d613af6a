"""The Hugging Face model card (``README.md``) of a trained O1 model folder.

The trainer writes it at the end of every run (:func:`trainer.loop.train_worker`, rank 0, after the weights); a
pipeline that evaluates the model afterwards (``synth-and-train``) calls :func:`write_model_card` again with the
report folder, which adds the evaluation table. The card holds:

- YAML front matter: ``base_model``, ``datasets``, ``library_name``, ``pipeline_tag``, ``tags``, ``license``;
- the base model and the datasets with their version (dataset, split, version id, revision) or Parquet paths;
- the training configuration (fine-tuning, lengths, batch, negatives, loss weights, steps) and final losses;
- the evaluation table (nDCG@10, Recall@100, MRR@10 per dataset and system) when a report is given;
- how to load and use it: ``O1Encoder`` (sentence-transformers-style calls) and ``o1embed serve`` over HTTP.

Example:
    >>> write_model_card("runs/o1/model", train_config, result)                    # doctest: +SKIP
    >>> write_model_card("runs/o1/model", report_dir="runs/o1/report")              # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import yaml

from o1embed.tasks.atomic import write_bytes_atomic

log = logging.getLogger(__name__)

CARD_FILE = "README.md"
CARD_STATE = "model_card.json"  # what the card was built from, so a later call can add the evaluation only
METRICS = ("ndcg_at_10", "recall_at_100", "mrr_at_10")


def _base_model(cfg: dict) -> str:
    path = cfg.get("model_path")
    if not path:
        return "HuggingFaceTB/SmolLM2-135M-Instruct"  # the prepared default backbone (from the GGUF package)
    p = Path(path)
    return p.name if p.is_absolute() or p.exists() else str(path)


def _datasets(source: dict) -> tuple[list[str], list[str]]:
    """``(front-matter dataset names, body lines)``."""
    if source.get("dataset"):
        name = source["dataset"]
        line = (
            f"- `{name}`, split `{source.get('split')}`, dataset version `{source.get('version')}` "
            f"(o1embed shards under `{source.get('root')}`; its dataset card lies in "
            f"`_manifests/dataset={name}/split={source.get('split')}/version={source.get('version')}/README.md`)"
        )
        return [name], [line]
    return [], [f"- examples `{source.get('examples_path')}`, corpus `{source.get('corpus_path')}` (Parquet files)"]


def evaluation_rows(report_dir: str | Path) -> list[dict]:
    """The report's ``summary.parquet`` rows: dataset, system, queries and the three metrics."""
    import polars as pl

    path = Path(report_dir) / "summary.parquet"
    if not path.exists():
        return []
    df = pl.read_parquet(path)
    cols = [c for c in ("dataset", "system", "queries", *METRICS) if c in df.columns]
    return df.select(cols).to_dicts()


def build_model_card(model_dir: str | Path, state: dict) -> str:
    """Return the card's text from ``state`` (``{"config", "result", "evaluation"}``)."""
    cfg, result = state.get("config") or {}, state.get("result") or {}
    source = result.get("source") or {}
    names, data_lines = _datasets(source)
    base = _base_model(cfg)
    model = cfg.get("model") or {}
    front = {
        "base_model": base,
        "library_name": "transformers",
        "pipeline_tag": "sentence-similarity",
        "tags": ["o1embed", "dense-retrieval", "reasoning", "query-expansion", "feature-extraction"],
        "license": "other",
    }
    if names:
        front["datasets"] = names
    name = Path(model_dir).name if Path(model_dir).name != "model" else Path(model_dir).resolve().parent.name
    out = ["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", ""]
    out += [
        f"# o1embed retriever `{name}`",
        "",
        "A dense retriever that thinks before it embeds (O1 Embedder, arXiv 2502.07555): for a query it writes a "
        "short thought after `<query>q</query><thought>`, then reads the vector at `<emb>`; documents are "
        "`title text<emb>`, embedded without thinking. One causal LM was trained for both (LM loss on the "
        "committee's chosen thoughts, InfoNCE on the vectors) by o1embed.",
        "",
        "**Licence**: the base model's and the training data's terms apply (see the dataset card).",
        "",
        "## Base model",
        "",
        f"`{base}`" + (f" (folder `{cfg.get('model_path')}`)" if cfg.get("model_path") else ""),
        "",
        "## Training data",
        "",
        *data_lines,
        "",
        "## Training configuration",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    settings = [
        ("fine-tuning", cfg.get("finetune")),
        (
            "LoRA r / alpha",
            f"{cfg.get('lora_r')} / {cfg.get('lora_alpha')}" if cfg.get("finetune") == "lora" else None,
        ),
        ("learning rate", cfg.get("learning_rate")),
        ("warm-up ratio", cfg.get("warmup_ratio")),
        ("queries per step", cfg.get("queries_per_step")),
        ("hard negatives per query", cfg.get("negatives_per_query")),
        ("temperature (InfoNCE)", cfg.get("temperature")),
        ("contrastive weight", cfg.get("contrastive_weight")),
        ("thought dropout", cfg.get("thought_dropout")),
        ("steps", result.get("total_steps") or cfg.get("max_steps")),
        ("workers", result.get("world_size") or cfg.get("num_workers")),
        ("seed", cfg.get("seed")),
        (
            "lengths query / thought / passage",
            "/".join(str(model.get(k)) for k in ("max_query_tokens", "max_thought_tokens", "max_passage_tokens")),
        ),
        ("first <emb> after the query", model.get("first_emb")),
        ("dtype", model.get("dtype")),
        ("final loss (contrastive, lm)", _losses(result)),
    ]
    out += [f"| {k} | {v} |" for k, v in settings if v is not None]
    rows = state.get("evaluation") or []
    out += ["", "## Evaluation", ""]
    if rows:
        out += [
            f"From `{state.get('report_dir')}` (pytrec_eval, per-query means).",
            "",
            "| dataset | system | queries | nDCG@10 | Recall@100 | MRR@10 |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            vals = " | ".join(f"{r[m]:.4f}" if r.get(m) is not None else "–" for m in METRICS)
            out.append(f"| {r.get('dataset')} | {r.get('system')} | {r.get('queries', '–')} | {vals} |")
    else:
        out.append("Not evaluated yet: `o1embed evaluate <dataset> --model <this folder>`.")
    folder = Path(model_dir).resolve()
    out += [
        "",
        "## Usage",
        "",
        "```python",
        "from o1embed.trainer.encoder import O1Encoder",
        "",
        f'model = O1Encoder("{folder}")',
        'q = model.encode_query(["what causes rain?"])                      # thinks, then embeds',
        'd = model.encode_document([{"title": "Rain", "text": "Rain is water falling from clouds."}])',
        "print(model.similarity(q, d))                                       # cosine, (1, 1)",
        "```",
        "",
        "Over HTTP (OpenAI-compatible embeddings):",
        "",
        "```bash",
        f"o1embed serve {folder} --name {name}",
        "```",
        "",
        "```python",
        "from openai import OpenAI",
        "",
        'client = OpenAI(base_url="http://127.0.0.1:8080/v1", api_key="unused")',
        f'q = client.embeddings.create(model="{name}-query", input=["what causes rain?"]).data[0].embedding',
        f'd = client.embeddings.create(model="{name}-document", input=["Rain is water ..."]).data[0].embedding',
        "```",
    ]
    return "\n".join(out) + "\n"


def _losses(result: dict) -> str | None:
    if result.get("loss") is None:
        return None
    parts = [f"{result.get(k):.4f}" if result.get(k) is not None else "–" for k in ("loss", "contrastive", "lm")]
    return f"{parts[0]} ({parts[1]}, {parts[2]})"


def write_model_card(
    model_dir: str | Path,
    config: dict | None = None,
    result: dict | None = None,
    report_dir: str | Path | None = None,
) -> Path:
    """Write (or update) ``README.md`` in ``model_dir`` atomically.

    Args:
        model_dir: the trained model folder.
        config: the run's ``TrainConfig`` as a dict (kept from the last call when None).
        result: the run's ``result.json`` (kept from the last call when None).
        report_dir: an evaluation report folder (holds ``summary.parquet``): adds the evaluation table.

    Returns:
        The card's path.
    """
    folder = Path(model_dir)
    state_path = folder / CARD_STATE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if config is not None:
        state["config"] = config
    if result is not None:
        state["result"] = result
    if report_dir is not None:
        state["evaluation"] = evaluation_rows(report_dir)
        state["report_dir"] = str(report_dir)
    write_bytes_atomic(state_path, json.dumps(state, indent=2, sort_keys=True, default=str).encode())
    path = write_bytes_atomic(folder / CARD_FILE, build_model_card(folder, state).encode())
    log.info("model card %s", path)
    return path
