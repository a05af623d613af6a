"""O1Encoder: think, then embed, reading ``<emb>`` through the generation's KV cache.

For each query the model writes ``m`` thoughts after ``<query>q</query><thought>`` (one greedy thought by default;
``m > 1`` samples with a fixed seed, temperature 0.1 and top-p 0.9 as in the paper). The generation's KV cache
already holds every prompt and thought token, so the vector is read by feeding only the missing tail
(``[last thought token] [eos if the model did not stop] <emb>``) through that cache: no second pass over
query + thought, which the reference code did. The ``m`` normalised vectors are averaged and normalised again.

Batched generation pads prompts on the left and keeps decoding rows that already stopped; the tail step therefore
masks left padding and everything after a row's ``eos``, and gives each tail token the position it would have in
the unpadded sequence, so the vector equals a fresh right-padded pass over ``<query>q</query><thought>t eos<emb>``
(cosine >= 0.999 in the tests, on the tiny model and on SmolLM2).

Thoughts are cached on disk (:mod:`trainer.thought_cache`), keyed by model checksum, query text and sampling
parameters; a cached query costs one forward pass instead of a generation. ``think=False`` embeds the bare query.
Implements ``QueryDocEncoder`` (``docs/architecture.md``); ``.thoughts`` holds the thoughts of the last call.

Example:
    >>> enc = O1Encoder("runs/o1/model")                                   # doctest: +SKIP
    >>> q = enc.encode_queries(["what causes rain?"])                      # doctest: +SKIP
    >>> d = enc.encode_documents(["Rain"], ["Rain is water falling ..."])   # doctest: +SKIP
    >>> float(q @ d.T)                                                      # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from o1embed.tasks.paths import cache_root
from o1embed.trainer.config import O1ModelConfig
from o1embed.trainer.model import O1Model, resolve_device, resolve_dtype
from o1embed.trainer.thought_cache import ThoughtCache

log = logging.getLogger(__name__)


class EncoderConfig(BaseModel):
    """How :class:`O1Encoder` thinks and embeds."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field("auto", description="auto = CUDA when available, else CPU.")
    dtype: str = Field("auto", description="auto = the model's o1 config dtype on GPU, float32 on CPU.")
    thoughts: int = Field(1, ge=1, description="m: thoughts per query; their vectors are averaged.")
    sample: bool | None = Field(
        None, description="Sample thoughts; None = sample only when m > 1, else greedy."
    )
    temperature: float = Field(0.1, gt=0, description="Sampling temperature (paper: 0.1).")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling (paper: 0.9).")
    seed: int = Field(0, description="Seed of sampled thoughts (reproducible run to run).")
    max_new_tokens: int = Field(
        128, ge=1, description="Thought budget; also capped by the model's max_thought_tokens."
    )
    query_batch_size: int = Field(
        32,
        ge=1,
        description="Queries generated together (n * m rows). Decoding reads every weight once per step, so larger "
        "batches think faster: SmolLM2-135M on 2 CPU cores, 64 queries, 96 tokens: 46.5 s at 8, 22.5 s at 32.",
    )
    doc_batch_size: int = Field(16, ge=1, description="Documents per forward pass (sorted by length).")
    max_passage_tokens: int | None = Field(
        None, description="Override the model's passage length (e.g. 256)."
    )
    kv_reuse: bool = Field(
        True, description="Read <emb> through the generation's KV cache (False: re-encode)."
    )
    cache_dir: str | None = Field(
        None, description="Thought cache folder; None = <data root>/cache/thoughts."
    )
    use_cache: bool = Field(True, description="Read and write the thought cache.")
    show_progress: bool = Field(False, description="tqdm progress bars.")


class O1Encoder:
    """Query/document encoder of a trained O1 model (see module docstring).

    Args:
        model_path: a model folder written by the trainer (or any causal LM folder: tokens are added).
        config: thinking and batching options.
    """

    def __init__(self, model_path: str | Path, config: EncoderConfig | None = None):
        self.config = config or EncoderConfig()
        self.model_path = Path(model_path)
        self.device = resolve_device(self.config.device)
        o1 = O1ModelConfig.load(self.model_path) or O1ModelConfig()
        if self.config.max_passage_tokens:
            o1 = o1.model_copy(update={"max_passage_tokens": self.config.max_passage_tokens})
        dtype = self.config.dtype
        if dtype == "auto":
            dtype = o1.dtype if (self.device.type == "cuda" and o1.dtype != "auto") else "auto"
        self.dtype = resolve_dtype(dtype, self.device)
        self.model = O1Model.load(self.model_path, config=o1, device=self.device, dtype=self.dtype)
        self.model.tokenizer.padding_side = "left"
        self.thoughts: list[list[str]] = []
        self._cache = None
        self._checksum = None
        if self.config.use_cache:
            folder = Path(self.config.cache_dir) if self.config.cache_dir else cache_root() / "thoughts"
            self._cache = ThoughtCache(folder / "thoughts.sqlite")
            self._checksum = self._cache.model_checksum(self.model_path)

    # ---- public API -------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"o1:{self.model_path.name}"

    @property
    def sampling(self) -> dict:
        """The parameters that change the thoughts (part of the cache key and of a report's lineage)."""
        c = self.config
        sample = c.sample if c.sample is not None else c.thoughts > 1
        params = {
            "m": c.thoughts,
            "do_sample": sample,
            "max_new_tokens": self.max_new_tokens,
            "max_query_tokens": self.model.config.max_query_tokens,
            "first_emb": self.model.config.first_emb,
            "dtype": str(self.dtype).removeprefix("torch."),
        }
        if sample:
            params.update(temperature=c.temperature, top_p=c.top_p, seed=c.seed)
        return params

    @property
    def max_new_tokens(self) -> int:
        return max(1, min(self.config.max_new_tokens, self.model.config.max_thought_tokens))

    def encode_queries(self, queries: list[str], think: bool = True) -> np.ndarray:
        """Vectors ``(n, dim)`` (float32, L2-normalised); ``.thoughts`` gets each query's thoughts (``[]`` if none).

        Args:
            queries: query texts.
            think: generate thoughts first; False embeds ``<query>q</query><emb>``.
        """
        if not queries:
            self.thoughts = []
            return np.zeros((0, self.model.dim), dtype=np.float32)
        if not think:
            self.thoughts = [[] for _ in queries]
            seqs = [self.model.builder.bare_query(q) for q in queries]
            return self.model.embed_sequences(seqs, self.config.doc_batch_size).numpy()

        m = self.config.thoughts
        vectors = torch.empty(len(queries), m, self.model.dim)
        ids: list[list[list[int]] | None] = [None] * len(queries)
        keys = [ThoughtCache.key(self._checksum, q, self.sampling) for q in queries] if self._cache else []
        hits = self._cache.get_many(keys) if self._cache else {}
        todo = [i for i in range(len(queries)) if not (keys and keys[i] in hits)]
        for i in range(len(queries)):
            if keys and keys[i] in hits:
                ids[i] = hits[keys[i]][0]
        if len(todo) < len(queries):
            log.info("thought cache: %d of %d queries cached", len(queries) - len(todo), len(queries))
        cached = [i for i in range(len(queries)) if ids[i] is not None]
        if cached:  # one full pass per cached thought: no generation
            seqs = [self.model.builder.query_example(queries[i], t).input_ids for i in cached for t in ids[i]]
            vecs = self.model.embed_sequences(seqs, self.config.doc_batch_size).view(len(cached), m, -1)
            vectors[cached] = vecs

        new_rows = []
        bs = self.config.query_batch_size
        batches = range(0, len(todo), bs)
        for start in tqdm(batches, desc="thinking", disable=not self.config.show_progress):
            idx = todo[start : start + bs]
            thought_ids, vecs = self.think_and_embed([queries[i] for i in idx])
            for j, i in enumerate(idx):
                ids[i] = thought_ids[j]
                vectors[i] = vecs[j]
                if self._cache:
                    new_rows.append((keys[i], queries[i], ids[i], self._decode(ids[i])))
            if self._cache and new_rows:
                self._cache.put_many(new_rows)
                new_rows = []
        self.thoughts = [self._decode(t) for t in ids]
        return F.normalize(vectors.mean(1), dim=-1).numpy().astype(np.float32)

    def encode_documents(self, titles: list[str], texts: list[str]) -> np.ndarray:
        """Vectors ``(n, dim)`` of ``title text<emb>``, batched by length; no thinking."""
        if len(titles) != len(texts):
            raise ValueError(f"{len(titles)} titles for {len(texts)} texts")
        if not texts:
            return np.zeros((0, self.model.dim), dtype=np.float32)
        seqs = [self.model.builder.document(t, x) for t, x in zip(titles, texts, strict=True)]
        out = torch.empty(len(seqs), self.model.dim)
        chunk = self.config.doc_batch_size * 64  # progress granularity
        for start in tqdm(
            range(0, len(seqs), chunk), desc="documents", disable=not self.config.show_progress
        ):
            out[start : start + chunk] = self.model.embed_sequences(
                seqs[start : start + chunk], self.config.doc_batch_size
            )
        return out.numpy().astype(np.float32)

    # ---- thinking ---------------------------------------------------------------------------------------------
    def _decode(self, thoughts: list[list[int]]) -> list[str]:
        return [self.model.tokenizer.decode(t, skip_special_tokens=True).strip() for t in thoughts]

    @torch.no_grad()
    def generate(self, queries: list[str]):
        """Generate ``m`` thoughts for each query in one batch.

        Returns:
            ``(out, prompt_mask, width)``: the ``generate`` output (sequences ``(n*m, width + new)`` and its KV cache),
            the left-padded prompt mask ``(n*m, width)`` and the prompt width.
        """
        model, c = self.model, self.config
        prompts = [model.builder.generation_prompt(q) for q in queries]
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), model.ids.pad, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for r, p in enumerate(prompts):  # left padding: every prompt ends at the same column
            input_ids[r, width - len(p) :] = torch.tensor(p)
            mask[r, width - len(p) :] = 1
        s = self.sampling
        kwargs = {"do_sample": s["do_sample"], "num_return_sequences": c.thoughts}
        if s["do_sample"]:
            kwargs.update(temperature=c.temperature, top_p=c.top_p, top_k=None)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(c.seed)
            out = model.lm.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=mask.to(self.device),
                max_new_tokens=self.max_new_tokens,
                eos_token_id=model.ids.eos,
                pad_token_id=model.ids.pad,
                return_dict_in_generate=True,
                use_cache=True,
                **kwargs,
            )
        return out, mask.repeat_interleave(c.thoughts, dim=0), width

    @torch.no_grad()
    def think_and_embed(self, queries: list[str]) -> tuple[list[list[list[int]]], torch.Tensor]:
        """Generate thoughts and read their ``<emb>`` vectors.

        Returns:
            ``(thought token ids [query][thought], vectors (n, m, dim))``; thoughts exclude the end token.
        """
        model, m = self.model, self.config.thoughts
        out, prompt_mask, width = self.generate(queries)
        gen = out.sequences[:, width:].cpu()  # (n*m, new)
        n_rows, new = gen.shape
        finished = gen == model.ids.eos
        stop = torch.where(
            finished.any(1), finished.int().argmax(1), torch.full((n_rows,), new)
        )  # eos column or new
        thoughts = [gen[r, : int(stop[r])].tolist() for r in range(n_rows)]
        if self.config.kv_reuse:
            cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
            vecs = self._emb_from_cache(cache, gen, stop, prompt_mask, width)
        else:
            seqs = [
                model.builder.query_example(queries[r // m], thoughts[r]).input_ids for r in range(n_rows)
            ]
            vecs = model.embed_sequences(seqs, self.config.doc_batch_size)
        grouped = [thoughts[i * m : (i + 1) * m] for i in range(len(queries))]
        return grouped, vecs.view(len(queries), m, -1)

    def _emb_from_cache(
        self, cache, gen: torch.Tensor, stop: torch.Tensor, prompt_mask: torch.Tensor, width: int
    ) -> torch.Tensor:
        """Feed ``[last generated token] [eos] <emb>`` through the generation cache; masks make it exact.

        The cache holds ``width + new - 1`` positions (``generate`` never feeds its last sampled token). Per row:
        a row that stopped before the last column needs only ``<emb>``; a row whose ``eos`` is the last column
        needs that ``eos`` then ``<emb>``; a row cut by the token budget needs its last token, an ``eos``, ``<emb>``.
        """
        ids = self.model.ids
        n_rows, new = gen.shape
        cols = torch.arange(new - 1)
        gen_mask = (
            cols[None, :] <= stop[:, None]
        ).long()  # (n_rows, new-1): thought tokens and eos; pads after: 0
        past_mask = torch.cat([prompt_mask, gen_mask], dim=1)  # (n_rows, width + new - 1)
        last_real = stop >= new - 1  # the last generated column is a thought token or the eos
        unfinished = stop >= new  # no eos at all: append one
        tail = torch.stack(
            [gen[:, -1], torch.full((n_rows,), ids.eos), torch.full((n_rows,), ids.emb)], dim=1
        )  # (n_rows, 3)
        tail_mask = torch.stack(
            [last_real.long(), unfinished.long(), torch.ones(n_rows, dtype=torch.long)], dim=1
        )
        # Positions as in the unpadded sequence: prompt tokens 0..P-1, thought and eos next, <emb> last.
        prompt_len = prompt_mask.sum(1)
        emb_pos = prompt_len + torch.minimum(stop, torch.full_like(stop, new)) + 1  # after the eos
        positions = torch.stack([emb_pos - 1 - unfinished.long(), emb_pos - 1, emb_pos], dim=1)
        positions = positions.clamp(min=0)
        attention = torch.cat([past_mask, tail_mask], dim=1)
        dev = self.device
        decoder = self.model.decoder
        # transformers 5 names the argument `cache`; 4.x `past_key_values`.
        cache_arg = "cache" if "cache" in inspect.signature(decoder.forward).parameters else "past_key_values"
        out = decoder(
            input_ids=tail.to(dev),
            attention_mask=attention.to(dev),
            position_ids=positions.to(dev),
            use_cache=True,
            **{cache_arg: cache},
        )
        return F.normalize(out.last_hidden_state[:, -1].float(), dim=-1).cpu()  # (n_rows, dim)
