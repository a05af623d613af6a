"""Tiny random-initialised Llama models and toy retrieval data for fast trainer tests (no download, < 1 s).

The tokenizer is a word-level ``tokenizers`` model over a fixed toy vocabulary, wrapped as a fast tokenizer, so it
saves and reloads like any Hugging Face tokenizer.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TOPICS = {
    "cell": "cells divide membrane nucleus protein mitosis",
    "star": "stars fusion hydrogen light galaxy orbit",
    "rain": "rain clouds water storm weather humidity",
    "bank": "bank money loan interest credit account",
    "bird": "birds wings feathers nest flight song",
    "tree": "trees leaves roots forest wood bark",
    "fish": "fish water gills swim ocean river",
    "iron": "iron metal rust steel ore magnet",
}
EXTRA = "what is a the of and why how do does explain about thought answer because"


def vocabulary() -> list[str]:
    words = set(EXTRA.split())
    for key, text in TOPICS.items():
        words.add(key)
        words.update(text.split())
    return sorted(words)


def build_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<s>", "</s>"]
    vocab = {t: i for i, t in enumerate(specials + vocabulary())}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    )


def build_tiny_model(folder: Path, seed: int = 0, tie: bool = False) -> Path:
    """Write a 2-layer, 32-dim random Llama with the toy tokenizer into ``folder``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=tie,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def toy_tables(n_per_topic: int = 2, thoughts: bool = True) -> tuple[pa.Table, pa.Table]:
    """Examples and corpus: one document per (topic, variant), queries about a topic, negatives from others."""
    docs, examples = [], []
    keys = sorted(TOPICS)
    for key in keys:
        words = TOPICS[key].split()
        for v in range(n_per_topic):
            docs.append({"doc_id": f"{key}-{v}", "title": key, "text": " ".join(words[v:] + words[:v])})
    for i, key in enumerate(keys):
        for v in range(n_per_topic):
            others = [k for k in keys if k != key]
            words = TOPICS[key].split()
            examples.append(
                {
                    "query_id": f"q-{key}-{v}",
                    "query": f"what is a {key} {words[v]}",
                    "thought": f"{key} {' '.join(words[:3])} because {words[-1]}" if thoughts else "",
                    "positive_ids": [f"{key}-{v}"],
                    "negative_ids": [f"{o}-{v}" for o in others[i % 3 :: 3]],
                }
            )
    return pa.Table.from_pylist(examples), pa.Table.from_pylist(docs)


def write_toy_tables(folder: Path, **kwargs) -> tuple[Path, Path]:
    examples, corpus = toy_tables(**kwargs)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(examples, folder / "examples.parquet")
    pq.write_table(corpus, folder / "corpus.parquet")
    return folder / "examples.parquet", folder / "corpus.parquet"
