"""A tiny random sentence-transformers model (2 layers, 32 dims) for fast tests of dense code paths."""

from __future__ import annotations


def build_tiny_dense_model(folder) -> str:
    """Save a random-initialised 2-layer BERT with MiniLM's tokenizer; sentence-transformers adds mean pooling."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from o1embed.tasks.packaged_models import minilm_path

    tok = AutoTokenizer.from_pretrained(str(minilm_path()))
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        initializer_range=0.5,  # large random weights: texts get clearly different vectors (fewer near-ties)
        max_position_embeddings=128,
    )
    BertModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)
