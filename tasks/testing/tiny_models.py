"""A tiny random sentence-transformers model (2 layers, 32 dims) for fast tests and cost benchmarks of dense code.

It measures cost and code paths, not quality: the weights are random.

Example:
    >>> build_tiny_dense_model("/tmp/tiny-st")                                       # doctest: +SKIP
    '/tmp/tiny-st'
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_dense_model(folder, max_positions: int = 128, initializer_range: float = 0.5) -> str:
    """Save a random-initialised 2-layer BERT with MiniLM's tokenizer; sentence-transformers adds mean pooling.

    Args:
        folder: where to save it; an existing model there is reused.
        max_positions: the longest input in tokens (512 for documents of a realistic length).
        initializer_range: the weights' spread; large spreads give texts clearly different vectors (fewer
            near-ties in tests).

    Returns:
        ``folder`` as a string.
    """
    folder = Path(folder)
    if (folder / "config.json").exists():
        return str(folder)
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
        initializer_range=initializer_range,
        max_position_embeddings=max_positions,
    )
    BertModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)
