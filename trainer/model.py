"""The O1 model: any Hugging Face causal LM with the four special tokens, read out at ``<emb>``.

:class:`O1Model` holds the language model (optionally wrapped by peft LoRA), its tokenizer and the
:class:`~trainer.config.O1ModelConfig`. It gives the hidden states of a batch without computing vocabulary logits
(the decoder alone), pools the L2-normalised vector at an ``<emb>`` position, and applies the LM head only where it
is needed (the thought tokens), which is what makes the joint step cheap.

New special tokens start at the mean of the existing embedding rows plus a small deterministic perturbation (no
global RNG: every Ray worker builds the identical model). Under LoRA their embedding and LM-head rows stay
trainable through peft's ``trainable_token_indices`` (the reference code left them at their random start).

Example:
    >>> m = O1Model.load("data/models/SmolLM2-135M-Instruct")          # doctest: +SKIP
    >>> ids = m.builder.bare_query("what is a cell?")                  # doctest: +SKIP
    >>> m.embed_sequences([ids]).shape                                  # doctest: +SKIP
    torch.Size([1, 576])
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import torch
import torch.nn.functional as F

from o1embed.tasks.errors import ConfigError
from o1embed.trainer.config import SPECIAL_TOKENS, O1ModelConfig
from o1embed.trainer.sequences import SequenceBuilder, TokenIds

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` = the first CUDA device when there is one, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto`` = bf16 on GPU, fp32 on CPU.

    fp32 keeps CPU training exact and portable (CPUs without avx512_bf16/AMX run bf16 slowly). For inference on a
    CPU that has them, ``bfloat16`` is ~3x faster (SmolLM2-135M forward, this project's 2-core EPYC).
    """
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if dtype not in _DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; use auto, {', '.join(_DTYPES)}")
    return _DTYPES[dtype]


def dtype_name(dtype: torch.dtype) -> str:
    """Inverse of :func:`resolve_dtype` for concrete types."""
    return {v: k for k, v in _DTYPES.items()}[dtype]


def pool_at(hidden: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Return the L2-normalised rows ``hidden[i, positions[i]]`` in fp32.

    Args:
        hidden: ``(batch, seq, dim)`` last hidden states.
        positions: ``(batch,)`` index of the ``<emb>`` token in each row.

    Returns:
        ``(batch, dim)`` unit vectors.
    """
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return F.normalize(hidden[rows, positions].float(), dim=-1)  # (batch, dim)


class O1Model:
    """A causal LM plus tokenizer plus o1 config; see the module docstring.

    Args:
        lm: the Hugging Face causal LM (or a peft model wrapping it).
        tokenizer: its tokenizer, holding the special tokens.
        config: lengths, pooling, dtype.
    """

    def __init__(self, lm, tokenizer, config: O1ModelConfig):
        self.lm = lm
        self.tokenizer = tokenizer
        self.config = config
        self.ids = TokenIds.from_tokenizer(tokenizer)
        self.builder = SequenceBuilder(tokenizer, config, self.ids)

    # ---- loading ----------------------------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | Path,
        config: O1ModelConfig | None = None,
        device: str | torch.device = "cpu",
        dtype: str | torch.dtype = "float32",
    ) -> O1Model:
        """Load a model folder; add the special tokens when it lacks them (a plain backbone).

        Args:
            path: a Hugging Face causal LM folder (a trained O1 model or a backbone).
            config: overrides the folder's ``o1_config.json`` (defaults when it has none).
            device: where to put the weights.
            dtype: weight precision (``torch.dtype`` or a name; ``auto`` resolves by device).

        Raises:
            ConfigError: the folder holds no model.
        """
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path)
        if not (path / "config.json").exists():
            raise ConfigError(f"no Hugging Face model in {path} (config.json missing); see `o1embed model prepare`")
        device = torch.device(device) if not isinstance(device, torch.device) else device
        if isinstance(dtype, str):
            dtype = resolve_dtype(dtype, device)
        config = config or O1ModelConfig.load(path) or O1ModelConfig()
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        lm = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
        add_special_tokens(lm, tokenizer)
        lm.to(device)
        lm.eval()
        return cls(lm, tokenizer, config)

    # ---- parts ------------------------------------------------------------------------------------------------
    @property
    def base(self):
        """The underlying Hugging Face causal LM (inside the peft wrapper when there is one)."""
        return self.lm.get_base_model() if hasattr(self.lm, "get_base_model") else self.lm

    @property
    def decoder(self):
        """The transformer stack that returns hidden states (no LM head)."""
        return self.base.get_decoder()

    @property
    def lm_head(self):
        return self.base.get_output_embeddings()

    @property
    def device(self) -> torch.device:
        return next(self.lm.parameters()).device

    @property
    def dim(self) -> int:
        return int(self.base.config.hidden_size)

    # ---- forward ----------------------------------------------------------------------------------------------
    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs) -> torch.Tensor:
        """Last hidden states ``(batch, seq, dim)`` of a right-padded batch; no vocabulary logits."""
        out = self.decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, **kwargs)
        return out.last_hidden_state

    @torch.no_grad()
    def embed_sequences(self, sequences: list[list[int]], batch_size: int = 16) -> torch.Tensor:
        """Embed token-id sequences that each end with ``<emb>``; returns ``(n, dim)`` fp32 unit vectors (CPU).

        Sequences are sorted by length and batched, so padding stays small; the output keeps the input order.
        """
        from o1embed.trainer.collator import pad_sequences

        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        out = torch.empty(len(sequences), self.dim)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = pad_sequences([sequences[i] for i in idx], self.ids.pad)
            batch = {k: v.to(self.device) for k, v in batch.items()}
            hidden = self.hidden_states(batch["input_ids"], batch["attention_mask"])
            out[idx] = pool_at(hidden, batch["last_index"]).cpu()
        return out

    # ---- saving -----------------------------------------------------------------------------------------------
    def save(self, folder: str | Path, dtype: str | None = None) -> Path:
        """Write a Hugging Face folder (safetensors, tokenizer, ``o1_config.json``) atomically.

        LoRA adapters and trainable token rows are merged into the base weights first, so the folder loads
        with a plain ``AutoModelForCausalLM.from_pretrained``. Call it at the end of training: merging changes
        ``self.lm`` in place.
        """
        folder = Path(folder)
        tmp = folder.parent / f".{folder.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        if hasattr(self.lm, "merge_and_unload"):
            self.lm = self.lm.merge_and_unload()
        lm = self.lm
        lm.config.use_cache = True
        lm.save_pretrained(tmp, safe_serialization=True)
        self.tokenizer.save_pretrained(tmp)
        cfg = self.config.model_copy(update={"dtype": dtype or self.config.dtype})
        cfg.save(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
        return folder


def add_special_tokens(lm, tokenizer) -> list[int]:
    """Add ``<query> </query> <thought> <emb>`` (and a pad token) when missing; resize and initialise new rows.

    New rows = mean of the old rows + 0.01 x their std x N(0, 1) from a fixed-seed generator: deterministic, so every
    worker of a distributed run starts from the same weights without a broadcast.

    Returns:
        The ids of the four special tokens.
    """
    missing = [t for t in SPECIAL_TOKENS if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_tokens(missing, special_tokens=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    old = lm.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > old:
        lm.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            layers = [lm.get_input_embeddings()]
            out = lm.get_output_embeddings()
            if out is not None and out.weight.data_ptr() != layers[0].weight.data_ptr():
                layers.append(out)
            for layer in layers:
                w = layer.weight  # (vocab, dim)
                base = w[:old].float()
                noise = torch.randn(w.shape[0] - old, w.shape[1], generator=gen)
                w[old:] = (base.mean(0) + 0.01 * base.std(0) * noise).to(w.dtype)
        log.info("added special tokens %s; vocabulary %d -> %d", missing, old, len(tokenizer))
    return tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS)


def apply_lora(model: O1Model, r: int, alpha: int, dropout: float, target_modules: str | list[str]) -> None:
    """Wrap ``model.lm`` with LoRA adapters; the special tokens' embedding and LM-head rows stay trainable."""
    from peft import LoraConfig, get_peft_model

    lm = model.lm
    special = model.tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS)
    names = {mod: name.rsplit(".", 1)[-1] for name, mod in lm.named_modules() if name}
    emb, head = lm.get_input_embeddings(), lm.get_output_embeddings()
    trainable = {names[emb]: special}
    if head is not None and head.weight.data_ptr() != emb.weight.data_ptr():
        trainable[names[head]] = special
    cfg = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target_modules,
        trainable_token_indices=trainable,
        task_type="CAUSAL_LM",
    )
    model.lm = get_peft_model(lm, cfg)
