"""Pad O1 sequences into right-padded tensors for one forward pass.

Right padding keeps every real token at the same position it has alone, so a row's hidden states do not depend on
the other rows (causal attention plus an attention mask). Pooling reads an explicit index per row.

Example:
    >>> batch = pad_sequences([[5, 6, 9], [5, 9]], pad_id=0)
    >>> batch["input_ids"].tolist(), batch["last_index"].tolist()
    ([[5, 6, 9], [5, 9, 0]], [2, 1])
"""

from __future__ import annotations

import torch

from o1embed.trainer.sequences import IGNORE, Encoded


def pad_sequences(sequences: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad id lists.

    Returns:
        ``input_ids`` and ``attention_mask`` ``(batch, seq)``, ``last_index`` ``(batch,)`` (last real token).
    """
    if not sequences:
        raise ValueError("no sequences to pad")
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return {"input_ids": ids, "attention_mask": mask, "last_index": mask.sum(1) - 1}


def collate_queries(examples: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad query examples with their labels.

    Returns:
        ``input_ids``, ``attention_mask``, ``labels`` (``IGNORE`` on padding) ``(batch, seq)``; ``emb_index``,
        ``first_emb_index`` and ``decision_index`` ``(batch,)`` (-1 where a row has no first ``<emb>``, or no
        ``<thought>`` whose next token decides between thinking and closing at once: a bare query).
    """
    batch = pad_sequences([e.input_ids for e in examples], pad_id)
    labels = torch.full_like(batch["input_ids"], IGNORE)
    for row, e in enumerate(examples):
        labels[row, : len(e.labels)] = torch.tensor(e.labels, dtype=torch.long)
    batch["labels"] = labels
    batch["emb_index"] = torch.tensor([e.emb_index for e in examples], dtype=torch.long)
    batch["first_emb_index"] = torch.tensor([e.first_emb_index for e in examples], dtype=torch.long)
    batch["decision_index"] = torch.tensor([e.decision_index for e in examples], dtype=torch.long)
    return batch
