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

Thinking modes (``think``):

- ``"always"`` (or ``True``): every query thinks; closing the thought at the first step is suppressed
  (``min_new_tokens=1``), so the thought is never empty.
- ``"never"`` (or ``False``): the bare query ``<query>q</query><emb>``.
- ``"auto"``: the model decides. One pass over the generation prompt gives the probability ``p_close`` that the
  model closes the thought at its first step; a query with ``p_close >= close_threshold`` skips the thought and
  its vector is the ``<emb>`` after the empty thought (``<query>q</query><thought></s><emb>``, the sequence the
  trainer's skip examples teach), read by feeding ``</s><emb>`` through that pass's KV cache. The other queries
  think as under ``"always"``. A higher threshold means more thinking (1.0 is nearly ``"always"``, 0.0 ``"never"``
  thinking at all). With ``skip_vector="query"`` a skipping query takes the query-only vector instead (the bare
  query's, read through the same pass), so the threshold sweeps exactly from ``"never"`` to ``"always"``: use it
  when the skip vector retrieves worse than the bare query (a model trained on few skip examples).
  With ``decider="gate"`` the skip probability comes from the learned gate in the model folder
  (:mod:`trainer.think_gate`: a logistic regression on the same hidden state, fitted on the model's own per-query
  gains) instead of ``p_close``, and the threshold defaults to the one stored with the gate. Either way the
  decision costs only the prompt pass.

Fusion: with ``fusion_alpha > 0`` the vector is ``normalize(alpha * q + (1 - alpha) * t)``, ``q`` the query-only
vector (``<query>q</query><emb>``) and ``t`` the thought (or skip) vector. ``q`` is read through the KV cache of
the prompt pass (an ``<emb>`` fed at the position after ``</query>`` with everything after ``</query>`` masked), so
it equals a bare-query pass without one.

Per query, :attr:`O1Encoder.records` (:class:`QueryRecord`) says whether it thought, how many thought tokens it
wrote, and the seconds spent (its share of its batch's wall time).

Thoughts are cached on disk (:mod:`trainer.thought_cache`), keyed by model checksum, query text and sampling
parameters; a cached query costs one forward pass instead of a generation. The skip decision is not cached: it
costs one pass over the prompt. Implements ``QueryDocEncoder`` (``docs/architecture.md``); ``.thoughts`` holds the
thoughts of the last call.

Example:
    >>> enc = O1Encoder("runs/o1/model")                                   # doctest: +SKIP
    >>> q = enc.encode_queries(["what causes rain?"])                      # doctest: +SKIP
    >>> d = enc.encode_documents(["Rain"], ["Rain is water falling ..."])   # doctest: +SKIP
    >>> float(q @ d.T)                                                      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.paths import cache_root
from o1embed.tasks.thinking import Decider, SkipVector, ThinkMode, think_mode
from o1embed.trainer.config import O1ModelConfig
from o1embed.trainer.model import O1Model, resolve_device, resolve_dtype
from o1embed.trainer.think_gate import ThinkGate
from o1embed.trainer.thought_cache import ThoughtCache

log = logging.getLogger(__name__)

_DEFAULT = object()  # "think" not given: encode_queries' own default applies


@dataclass(frozen=True)
class QueryRecord:
    """What thinking cost one query in the last :meth:`O1Encoder.encode_queries` call.

    Attributes:
        thought: the query thought (False: bare query, or auto mode closed the thought at once).
        thought_tokens: thought tokens written (mean over the m thoughts; 0 without a thought).
        seconds: the query's share of the wall time of its batches (prompt pass, generation, read-out).
        p_close: auto mode: the query's probability of skipping its thought (the model's probability of closing
            it at its first step, or the gate's skip probability with ``decider="gate"``); else None.
    """

    thought: bool
    thought_tokens: float
    seconds: float
    p_close: float | None = None


class FirstStep(NamedTuple):
    """What one pass over the generation prompts ``<query>q</query><thought>`` gives (:meth:`O1Encoder.first_step`).

    Attributes:
        p_close: ``(n,)`` the probability that the model closes the thought at its first step.
        skip: ``(n, dim)`` the ``<emb>`` after ``<thought></s>``, fed through the prompt's KV cache; or None.
        query: ``(n, dim)`` the ``<emb>`` right after ``</query>`` (fed through the same cache with everything after
            ``</query>`` masked), equal to a bare-query pass; or None.
        state: ``(n, hidden)`` float32, the last hidden state at ``<thought>``: what ``p_close`` and the think gate
            read.
    """

    p_close: torch.Tensor
    skip: torch.Tensor | None
    query: torch.Tensor | None
    state: torch.Tensor


class EncoderConfig(BaseModel):
    """How :class:`O1Encoder` thinks and embeds."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field("auto", description="auto = CUDA when available, else CPU.")
    dtype: str = Field("auto", description="auto = the model's o1 config dtype on GPU, float32 on CPU.")
    thoughts: int = Field(1, ge=1, description="m: thoughts per query; their vectors are averaged.")
    sample: bool | None = Field(None, description="Sample thoughts; None = sample only when m > 1, else greedy.")
    temperature: float = Field(0.1, gt=0, description="Sampling temperature (paper: 0.1).")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling (paper: 0.9).")
    seed: int = Field(0, description="Seed of sampled thoughts (reproducible run to run).")
    max_new_tokens: int = Field(128, ge=1, description="Thought budget; also capped by the model's max_thought_tokens.")
    query_batch_size: int = Field(
        32,
        ge=1,
        description="Queries generated together (n * m rows). Decoding reads every weight once per step, so larger "
        "batches think faster: SmolLM2-135M on 2 CPU cores, 64 queries, 96 tokens: 46.5 s at 8, 22.5 s at 32.",
    )
    doc_batch_size: int = Field(16, ge=1, description="Documents per forward pass (sorted by length).")
    max_passage_tokens: int | None = Field(None, description="Override the model's passage length (e.g. 256).")
    max_query_tokens: int | None = Field(
        None, description="Override the model's query length (e.g. 256 for long-query sets such as BIRCO)."
    )
    close_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="think='auto': skip the thought when its skip probability (p_close, or the gate's) is at "
        "least this. Higher: more queries think (cost for quality). None = the decider's own: 0.5 for 'close', "
        "the threshold stored with the gate for 'gate'.",
    )
    decider: Decider = Field(
        "close",
        description="think='auto': 'close' = the LM head's probability of closing the thought at once; 'gate' = "
        "the learned gate in the model folder (think_gate.json, `o1embed model fit-gate`).",
    )
    fusion_alpha: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Final vector normalize(alpha * q + (1 - alpha) * t), q the query-only vector read through "
        "the same KV cache; 0 = the thought vector alone.",
    )
    skip_vector: SkipVector = Field(
        "skip",
        description="think='auto', a query that skips: 'skip' = the <emb> after the empty thought (what the skip "
        "examples train); 'query' = the query-only vector (as think='never').",
    )
    kv_reuse: bool = Field(True, description="Read <emb> through the generation's KV cache (False: re-encode).")
    cache_dir: str | None = Field(None, description="Thought cache folder; None = <data root>/cache/thoughts.")
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
        if self.config.max_query_tokens:
            o1 = o1.model_copy(update={"max_query_tokens": self.config.max_query_tokens})
        dtype = self.config.dtype
        if dtype == "auto":
            dtype = o1.dtype if (self.device.type == "cuda" and o1.dtype != "auto") else "auto"
        self.dtype = resolve_dtype(dtype, self.device)
        self.model = O1Model.load(self.model_path, config=o1, device=self.device, dtype=self.dtype)
        self.model.tokenizer.padding_side = "left"
        self.thoughts: list[list[str]] = []
        self.records: list[QueryRecord] = []
        self._m = self.config.thoughts  # m of the last call (what .sampling reports)
        self._cache = None
        self._checksum = None
        self._gate: ThinkGate | None = None
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
        return self.sampling_for(self._m)

    def sampling_for(self, m: int) -> dict:
        """:attr:`sampling` for ``m`` thoughts per query."""
        c = self.config
        sample = c.sample if c.sample is not None else m > 1
        params = {
            "m": m,
            "min_new_tokens": 1,  # the immediate close is suppressed when a query thinks
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
    def gate(self) -> ThinkGate:
        """The learned think gate of the model folder (``think_gate.json``), loaded once.

        Raises:
            ConfigError: the folder has no gate, or an invalid one.
        """
        if self._gate is None:
            self._gate = ThinkGate.load(self.model_path)
        return self._gate

    def auto_threshold(self, decider: Decider | None = None) -> float:
        """The threshold auto mode uses when none is given: ``config.close_threshold``, else the decider's own
        (0.5 for ``"close"``, the gate's stored threshold for ``"gate"``)."""
        if self.config.close_threshold is not None:
            return self.config.close_threshold
        return self.gate.threshold if (decider or self.config.decider) == "gate" else 0.5

    @property
    def max_new_tokens(self) -> int:
        return max(1, min(self.config.max_new_tokens, self.model.config.max_thought_tokens))

    def encode_queries(
        self,
        queries: list[str],
        think: bool | ThinkMode = True,
        num_thoughts: int | None = None,
        close_threshold: float | None = None,
        fusion_alpha: float | None = None,
        skip_vector: SkipVector | None = None,
        decider: Decider | None = None,
    ) -> np.ndarray:
        """Vectors ``(n, dim)`` (float32, L2-normalised); ``.thoughts`` and ``.records`` describe each query.

        Args:
            queries: query texts.
            think: ``"auto"``, ``"always"`` (``True``) or ``"never"`` (``False``); see the module docstring.
            num_thoughts: m thoughts per query (vectors averaged); None = ``config.thoughts``.
            close_threshold: auto mode's threshold; None = ``config.close_threshold``, and when that is None too,
                the decider's own (:meth:`auto_threshold`).
            fusion_alpha: weight of the query-only vector; None = ``config.fusion_alpha``.
            skip_vector: auto mode, the vector of a query that skips (``"skip"`` or ``"query"``); None =
                ``config.skip_vector``.
            decider: auto mode, where the skip probability comes from (``"close"`` or ``"gate"``); None =
                ``config.decider``.

        Raises:
            ConfigError: settings out of range, or ``decider="gate"`` with no gate in the model folder.
        """
        mode = think_mode(think)
        c = self.config
        m = c.thoughts if num_thoughts is None else int(num_thoughts)
        decider = c.decider if decider is None else decider
        gate = self.gate if mode == "auto" and decider == "gate" else None
        threshold = 0.0  # only auto mode has one
        if mode == "auto":
            threshold = self.auto_threshold(decider) if close_threshold is None else float(close_threshold)
        alpha = c.fusion_alpha if fusion_alpha is None else float(fusion_alpha)
        if m < 1 or not 0.0 <= threshold <= 1.0 or not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"need num_thoughts >= 1 and 0 <= threshold, alpha <= 1 (got {m}, {threshold}, {alpha})")
        self._m = m
        n = len(queries)
        if not queries:
            self.thoughts, self.records = [], []
            return np.zeros((0, self.model.dim), dtype=np.float32)
        seconds = np.zeros(n)
        if mode == "never":
            t0 = time.perf_counter()
            seqs = [self.model.builder.bare_query(q) for q in queries]
            out = self.model.embed_sequences(seqs, c.doc_batch_size).numpy()
            self.thoughts = [[] for _ in queries]
            self.records = [QueryRecord(False, 0.0, (time.perf_counter() - t0) / n) for _ in queries]
            return out

        vectors = torch.empty(n, self.model.dim)  # the thought (or skip) vector of each query
        q_vectors = torch.empty(n, self.model.dim) if alpha > 0 else None
        # a skipping query takes its query-only vector
        by_query = mode == "auto" and (c.skip_vector if skip_vector is None else skip_vector) == "query"
        p_close: list[float | None] = [None] * n
        thinkers = list(range(n))
        if mode == "auto" or alpha > 0:  # one pass over the prompts: decision, skip vector, query-only vector
            bs = c.query_batch_size
            for start in range(0, n, bs):
                idx = list(range(start, min(start + bs, n)))
                t0 = time.perf_counter()
                step = self.first_step(
                    [queries[i] for i in idx], skip=mode == "auto" and not by_query, query=alpha > 0 or by_query
                )
                probs = step.p_close if gate is None else gate.skip_probability(step.state)
                skip_vecs, q_vecs = step.skip, step.query
                seconds[idx] += (time.perf_counter() - t0) / len(idx)
                for j, i in enumerate(idx):
                    if q_vectors is not None:
                        q_vectors[i] = q_vecs[j]
                    if mode == "auto":
                        p_close[i] = float(probs[j])
                        vectors[i] = q_vecs[j] if by_query else skip_vecs[j]
            if mode == "auto":
                thinkers = [i for i in range(n) if p_close[i] < threshold]
        ids: list[list[list[int]]] = [[] for _ in queries]
        self._think(queries, thinkers, m, vectors, ids, seconds)
        thinking = set(thinkers)
        self.thoughts = [self._decode(t) if i in thinking else [] for i, t in enumerate(ids)]
        self.records = [
            QueryRecord(
                thought=i in thinking,
                thought_tokens=float(np.mean([len(t) for t in ids[i]])) if i in thinking else 0.0,
                seconds=float(seconds[i]),
                p_close=p_close[i],
            )
            for i in range(n)
        ]
        out = vectors if q_vectors is None else F.normalize(alpha * q_vectors + (1 - alpha) * vectors, dim=-1)
        return out.numpy().astype(np.float32)

    def _think(
        self,
        queries: list[str],
        rows: list[int],
        m: int,
        vectors: torch.Tensor,
        ids: list[list[list[int]]],
        seconds: np.ndarray,
    ) -> None:
        """Thoughts and mean thought vectors of ``queries[rows]``, from the cache or generated; fills the outputs."""
        if not rows:
            return
        sampling = self.sampling_for(m)
        keys = {i: ThoughtCache.key(self._checksum, queries[i], sampling) for i in rows} if self._cache else {}
        hits = self._cache.get_many(list(keys.values())) if self._cache else {}
        cached = [i for i in rows if keys and keys[i] in hits]
        todo = [i for i in rows if i not in set(cached)]
        if cached:  # one full pass per cached thought: no generation
            log.info("thought cache: %d of %d queries cached", len(cached), len(rows))
            t0 = time.perf_counter()
            for i in cached:
                ids[i] = hits[keys[i]][0]
            seqs = [self.model.builder.query_example(queries[i], t).input_ids for i in cached for t in ids[i]]
            vecs = self.model.embed_sequences(seqs, self.config.doc_batch_size).view(len(cached), m, -1)
            vectors[cached] = F.normalize(vecs.mean(1), dim=-1)
            seconds[cached] += (time.perf_counter() - t0) / len(cached)
        bs = self.config.query_batch_size
        batches = range(0, len(todo), bs)
        for start in tqdm(batches, desc="thinking", disable=not self.config.show_progress):
            idx = todo[start : start + bs]
            t0 = time.perf_counter()
            thought_ids, vecs = self.think_and_embed([queries[i] for i in idx], m)
            seconds[idx] += (time.perf_counter() - t0) / len(idx)
            rows_new = []
            for j, i in enumerate(idx):
                ids[i] = thought_ids[j]
                vectors[i] = F.normalize(vecs[j].mean(0), dim=-1)
                if self._cache:
                    rows_new.append((keys[i], queries[i], ids[i], self._decode(ids[i])))
            if rows_new:
                self._cache.put_many(rows_new)

    def encode_documents(self, titles: list[str], texts: list[str]) -> np.ndarray:
        """Vectors ``(n, dim)`` of ``title text<emb>``, batched by length; no thinking."""
        if len(titles) != len(texts):
            raise ValueError(f"{len(titles)} titles for {len(texts)} texts")
        if not texts:
            return np.zeros((0, self.model.dim), dtype=np.float32)
        seqs = [self.model.builder.document(t, x) for t, x in zip(titles, texts, strict=True)]
        out = torch.empty(len(seqs), self.model.dim)
        chunk = self.config.doc_batch_size * 64  # progress granularity
        for start in tqdm(range(0, len(seqs), chunk), desc="documents", disable=not self.config.show_progress):
            out[start : start + chunk] = self.model.embed_sequences(
                seqs[start : start + chunk], self.config.doc_batch_size
            )
        return out.numpy().astype(np.float32)

    # ---- thinking ---------------------------------------------------------------------------------------------
    def _decode(self, thoughts: list[list[int]]) -> list[str]:
        return [self.model.tokenizer.decode(t, skip_special_tokens=True).strip() for t in thoughts]

    @torch.no_grad()
    def generate(self, queries: list[str], m: int | None = None):
        """Generate ``m`` thoughts for each query in one batch (``m`` None: ``config.thoughts``).

        The immediate close is suppressed (``min_new_tokens=1``): a query that thinks writes at least one token.

        Returns:
            ``(out, prompt_mask, width)``: the ``generate`` output (sequences ``(n*m, width + new)`` and its KV cache),
            the left-padded prompt mask ``(n*m, width)`` and the prompt width.
        """
        model, c = self.model, self.config
        m = c.thoughts if m is None else m
        input_ids, mask, width = self._prompts(queries)
        s = self.sampling_for(m)
        kwargs = {"do_sample": s["do_sample"], "num_return_sequences": m, "min_new_tokens": 1}
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
        return out, mask.repeat_interleave(m, dim=0), width

    def _prompts(self, queries: list[str]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Left-padded generation prompts: ``(input_ids, attention_mask)`` ``(n, width)`` and ``width``."""
        model = self.model
        prompts = [model.builder.generation_prompt(q) for q in queries]
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), model.ids.pad, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for r, p in enumerate(prompts):  # left padding: every prompt ends at the same column
            input_ids[r, width - len(p) :] = torch.tensor(p)
            mask[r, width - len(p) :] = 1
        return input_ids, mask, width

    @torch.no_grad()
    def first_step(self, queries: list[str], skip: bool = True, query: bool = True) -> FirstStep:
        """One pass over the generation prompts: the decision of ``think="auto"`` and two vectors read from its cache.

        Args:
            queries: query texts.
            skip: read the skip vector (one more token through the cache); False gives None in its place.
            query: read the query-only vector (one more token through the cache); False gives None in its place.

        Returns:
            A :class:`FirstStep`.
        """
        model, dev = self.model, self.device
        input_ids, mask, width = self._prompts(queries)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        out = model.decoder(
            input_ids=input_ids.to(dev),
            attention_mask=mask.to(dev),
            position_ids=positions.to(dev),
            use_cache=True,
        )
        state = out.last_hidden_state[:, -1]  # (n, hidden): at <thought>, the last prompt token
        logits = model.lm_head(state).float()  # (n, vocab)
        p_close = torch.softmax(logits, dim=-1)[:, model.ids.eos].cpu()
        cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
        n = len(queries)
        prompt_len = mask.sum(1)
        skip_vec, past = None, mask
        if skip:  # skip sequence: <thought> then </s> <emb>, both after the whole prompt
            tail = torch.stack([torch.full((n,), model.ids.eos), torch.full((n,), model.ids.emb)], dim=1)
            tail_pos = torch.stack([prompt_len, prompt_len + 1], dim=1)
            skip_vec, past = self._feed(cache, mask, tail, torch.ones_like(tail), tail_pos)
        q_vec = self._query_only(cache, past, mask, width) if query else None
        return FirstStep(p_close, skip_vec, q_vec, state.float().cpu())

    def decision_states(self, queries: list[str]) -> torch.Tensor:
        """The hidden state ``(n, hidden)`` auto mode decides from (what :mod:`trainer.think_gate` is fitted on),
        one prompt pass per batch of ``config.query_batch_size`` queries."""
        bs = self.config.query_batch_size
        starts = range(0, len(queries), bs)
        parts = [self.first_step(queries[s : s + bs], skip=False, query=False).state for s in starts]
        return torch.cat(parts) if parts else torch.zeros(0, self.model.dim)

    def _query_only(self, cache, past: torch.Tensor, prompt_mask: torch.Tensor, width: int) -> torch.Tensor:
        """``<emb>`` fed at the position after ``</query>``, seeing only ``<query>q</query>``: ``(rows, dim)``.

        ``past`` is the attention mask of everything the cache holds (prompt first, in columns ``0..width-1``).
        """
        n_marks = 2 if self.model.config.first_emb else 1  # [<emb>] <thought> end every prompt
        head = past.clone()
        head[:, width - n_marks :] = 0  # hide <thought>, the first <emb>, and everything after the prompt
        pos = (prompt_mask.sum(1) - n_marks)[:, None]
        tokens = torch.full_like(pos, self.model.ids.emb)
        vec, _ = self._feed(cache, head, tokens, torch.ones_like(tokens), pos)
        return vec

    def _feed(
        self,
        cache,
        past: torch.Tensor,
        tokens: torch.Tensor,
        tail_mask: torch.Tensor,
        positions: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Feed ``tokens`` ``(rows, t)`` through ``cache`` (which grows by ``t``); return the last token's unit vector.

        Args:
            past: ``(rows, cached)`` which cached positions the tokens may see.
            tail_mask: ``(rows, t)`` which fed tokens are real.
            positions: ``(rows, t)`` their positions in the unpadded sequence.

        Returns:
            ``(vectors (rows, dim), mask of the grown cache)``; in that mask the fed tokens are hidden, so a later
            read through the same cache does not see them.
        """
        dev = self.device
        decoder = self.model.decoder
        # transformers 5 names the argument `cache`; 4.x `past_key_values`.
        cache_arg = "cache" if "cache" in inspect.signature(decoder.forward).parameters else "past_key_values"
        out = decoder(
            input_ids=tokens.to(dev),
            attention_mask=torch.cat([past, tail_mask], dim=1).to(dev),
            position_ids=positions.clamp(min=0).to(dev),
            use_cache=True,
            **{cache_arg: cache},
        )
        vec = F.normalize(out.last_hidden_state[:, -1].float(), dim=-1).cpu()
        return vec, torch.cat([past, torch.zeros_like(tail_mask)], dim=1)

    @torch.no_grad()
    def think_and_embed(self, queries: list[str], m: int | None = None) -> tuple[list[list[list[int]]], torch.Tensor]:
        """Generate thoughts and read their ``<emb>`` vectors (``m`` None: ``config.thoughts``).

        Returns:
            ``(thought token ids [query][thought], vectors (n, m, dim))``; thoughts exclude the end token.
        """
        model = self.model
        m = self.config.thoughts if m is None else m
        out, prompt_mask, width = self.generate(queries, m)
        gen = out.sequences[:, width:].cpu()  # (n*m, new)
        n_rows, new = gen.shape
        finished = gen == model.ids.eos
        stop = torch.where(finished.any(1), finished.int().argmax(1), torch.full((n_rows,), new))  # eos column or new
        thoughts = [gen[r, : int(stop[r])].tolist() for r in range(n_rows)]
        if self.config.kv_reuse:
            cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
            vecs = self._emb_from_cache(cache, gen, stop, prompt_mask)
        else:
            seqs = [model.builder.query_example(queries[r // m], thoughts[r]).input_ids for r in range(n_rows)]
            vecs = model.embed_sequences(seqs, self.config.doc_batch_size)
        grouped = [thoughts[i * m : (i + 1) * m] for i in range(len(queries))]
        return grouped, vecs.view(len(queries), m, -1)

    def _emb_from_cache(self, cache, gen: torch.Tensor, stop: torch.Tensor, prompt_mask: torch.Tensor) -> torch.Tensor:
        """Feed ``[last generated token] [eos] <emb>`` through the generation cache; masks make it exact.

        The cache holds ``width + new - 1`` positions (``generate`` never feeds its last sampled token). Per row:
        a row that stopped before the last column needs only ``<emb>``; a row whose ``eos`` is the last column
        needs that ``eos`` then ``<emb>``; a row cut by the token budget needs its last token, an ``eos``, ``<emb>``.
        """
        ids = self.model.ids
        n_rows, new = gen.shape
        cols = torch.arange(new - 1)
        gen_mask = (cols[None, :] <= stop[:, None]).long()  # (n_rows, new-1): thought tokens and eos; pads after: 0
        past_mask = torch.cat([prompt_mask, gen_mask], dim=1)  # (n_rows, width + new - 1)
        last_real = stop >= new - 1  # the last generated column is a thought token or the eos
        unfinished = stop >= new  # no eos at all: append one
        tail = torch.stack(
            [gen[:, -1], torch.full((n_rows,), ids.eos), torch.full((n_rows,), ids.emb)], dim=1
        )  # (n_rows, 3)
        tail_mask = torch.stack([last_real.long(), unfinished.long(), torch.ones(n_rows, dtype=torch.long)], dim=1)
        # Positions as in the unpadded sequence: prompt tokens 0..P-1, thought and eos next, <emb> last.
        prompt_len = prompt_mask.sum(1)
        emb_pos = prompt_len + torch.minimum(stop, torch.full_like(stop, new)) + 1  # after the eos
        positions = torch.stack([emb_pos - 1 - unfinished.long(), emb_pos - 1, emb_pos], dim=1)
        vec, _ = self._feed(cache, past_mask, tail, tail_mask, positions)
        return vec  # (n_rows, dim)

    # ---- sentence-transformers-style calls (thin wrappers over encode_queries / encode_documents) --------------
    def encode_query(
        self,
        texts: str | list[str],
        think: object = _DEFAULT,
        batch_size: int | None = None,
        convert_to_numpy: bool = True,
        convert_to_tensor: bool = False,
        normalize_embeddings: bool = True,
    ) -> np.ndarray | torch.Tensor:
        """Query vectors as ``SentenceTransformer.encode_query`` returns them (sentence-transformers >= 5).

        Args:
            texts: one query (a 1-D vector comes back) or a list (``(n, dim)``).
            think: passed to :meth:`encode_queries` unchanged; left out, its default applies.
            batch_size: queries generated together (default: ``config.query_batch_size``).
            convert_to_numpy: return a float32 array (the default).
            convert_to_tensor: return a torch tensor instead (wins over ``convert_to_numpy``).
            normalize_embeddings: L2-normalise (the vectors already are; False leaves them as they come).

        Example:
            >>> q = enc.encode_query(["what causes rain?"], batch_size=8)        # doctest: +SKIP
        """
        single = isinstance(texts, str)
        kwargs = {} if think is _DEFAULT else {"think": think}
        with self._batch_size("query_batch_size", batch_size):
            vecs = self.encode_queries([texts] if single else list(texts), **kwargs)
        return _convert(vecs, single, convert_to_numpy, convert_to_tensor, normalize_embeddings)

    def encode_document(
        self,
        texts: str | dict | list[str | dict],
        batch_size: int | None = None,
        convert_to_numpy: bool = True,
        convert_to_tensor: bool = False,
        normalize_embeddings: bool = True,
    ) -> np.ndarray | torch.Tensor:
        """Document vectors, like ``SentenceTransformer.encode_document``; no thinking.

        Args:
            texts: strings (the text, no title), or dicts with ``text`` and optional ``title``; one item gives
                a 1-D vector.
            batch_size: documents per forward pass (default: ``config.doc_batch_size``).
            convert_to_numpy, convert_to_tensor, normalize_embeddings: as in :meth:`encode_query`.

        Raises:
            ValueError: an item that is neither a string nor a dict with a string ``text``.
        """
        single = isinstance(texts, (str, dict))
        items = [texts] if single else list(texts)
        titles, bodies = [], []
        for i, item in enumerate(items):
            if isinstance(item, str):
                titles.append("")
                bodies.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                titles.append(str(item.get("title") or ""))
                bodies.append(item["text"])
            else:
                raise ValueError(f"document {i}: expected a string or a dict with a string 'text', got {item!r}")
        with self._batch_size("doc_batch_size", batch_size):
            vecs = self.encode_documents(titles, bodies)
        return _convert(vecs, single, convert_to_numpy, convert_to_tensor, normalize_embeddings)

    @staticmethod
    def similarity(a, b) -> torch.Tensor:
        """Cosine similarity ``(n, m)`` of two sets of vectors (arrays or tensors, 1-D or 2-D), as
        ``SentenceTransformer.similarity`` with its default ``cos_sim``."""
        ta = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a, dtype=torch.float32)
        tb = torch.as_tensor(np.asarray(b) if not isinstance(b, torch.Tensor) else b, dtype=torch.float32)
        ta, tb = ta.reshape(1, -1) if ta.dim() == 1 else ta, tb.reshape(1, -1) if tb.dim() == 1 else tb
        return F.normalize(ta, dim=-1) @ F.normalize(tb, dim=-1).T  # (n, m)

    @contextlib.contextmanager
    def _batch_size(self, field: str, value: int | None):
        if value is None:
            yield
            return
        saved = self.config
        self.config = saved.model_copy(update={field: int(value)})
        try:
            yield
        finally:
            self.config = saved


def _convert(
    vecs: np.ndarray, single: bool, to_numpy: bool, to_tensor: bool, normalize: bool
) -> np.ndarray | torch.Tensor:
    t = torch.from_numpy(vecs)
    if normalize:
        t = F.normalize(t, dim=-1)
    if single:
        t = t[0]
    if to_tensor:
        return t
    return t.numpy() if to_numpy else list(t)
