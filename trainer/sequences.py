"""Token-id sequences of the O1 format, with per-part truncation and LM labels.

Every sequence is assembled from token ids, never by tokenising marker strings inside text, so a query that
happens to contain ``<emb>`` cannot fake a marker, and each part is cut to its own budget before the markers are
added (the markers always survive truncation)::

    query example    [bos] <query> q </query> [<emb>] <thought> t eos <emb>     labels on t and eos only
    skip example     [bos] <query> q </query> [<emb>] <thought> eos <emb>       label on eos: close at once
    bare query       [bos] <query> q </query> <emb>
    generation       [bos] <query> q </query> [<emb>] <thought>                  the model writes t eos
    document         [bos] title text <emb>

``[<emb>]`` is the ``first_emb`` option; ``[bos]`` is added only for tokenizers that add one themselves (Llama), so
a sequence looks like what the backbone was trained on.

Example:
    >>> b = SequenceBuilder(tokenizer, O1ModelConfig())                # doctest: +SKIP
    >>> enc = b.query_example("what is a cell?", "A cell is ...")      # doctest: +SKIP
    >>> enc.input_ids[enc.emb_index] == b.ids.emb                       # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from o1embed.tasks.documents import document_text
from o1embed.trainer.config import EMB, QUERY_END, QUERY_START, THOUGHT, O1ModelConfig

IGNORE = -100  # label of positions that carry no LM loss


@dataclass(frozen=True)
class TokenIds:
    """Ids of the markers and of the tokenizer's own special tokens."""

    query_start: int
    query_end: int
    thought: int
    emb: int
    eos: int
    pad: int
    bos: int | None  # prepended only when the tokenizer adds it on its own

    @classmethod
    def from_tokenizer(cls, tokenizer) -> TokenIds:
        ids = tokenizer.convert_tokens_to_ids([QUERY_START, QUERY_END, THOUGHT, EMB])
        unk = tokenizer.unk_token_id
        if any(i is None or (unk is not None and i == unk) for i in ids):
            raise ValueError("tokenizer lacks the O1 special tokens; load it through O1Model.load")
        probe = tokenizer("a").input_ids
        bos = tokenizer.bos_token_id if probe and probe[0] == tokenizer.bos_token_id else None
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        return cls(*ids, eos=tokenizer.eos_token_id, pad=pad, bos=bos)


@dataclass
class Encoded:
    """One sequence: ids, LM labels (``IGNORE`` outside thought + eos) and where its ``<emb>`` tokens are."""

    input_ids: list[int]
    labels: list[int] = field(default_factory=list)
    emb_index: int = -1  # the last <emb>: the vector of this sequence
    first_emb_index: int = -1  # the <emb> after </query> when first_emb is on, else -1
    decision_index: int = -1  # the <thought> whose next token is the decision (eos: close at once), else -1

    @property
    def n_label_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


class SequenceBuilder:
    """Build O1 sequences for one tokenizer and one :class:`~trainer.config.O1ModelConfig`.

    Args:
        tokenizer: a Hugging Face tokenizer holding the special tokens.
        config: the per-part lengths and ``first_emb``.
        ids: precomputed :class:`TokenIds` (read from the tokenizer when None).
    """

    def __init__(self, tokenizer, config: O1ModelConfig, ids: TokenIds | None = None):
        self.tokenizer = tokenizer
        self.config = config
        self.ids = ids or TokenIds.from_tokenizer(tokenizer)

    def text_ids(self, text: str, limit: int) -> list[int]:
        """Token ids of ``text`` without special tokens, cut to the first ``limit``."""
        if limit <= 0 or not text:
            return []
        enc = self.tokenizer(
            text, add_special_tokens=False, split_special_tokens=True, truncation=True, max_length=limit
        )  # split_special_tokens: "<emb>" typed inside a text stays text, never a marker
        return list(enc.input_ids)

    def _head(self, query: str) -> list[int]:
        i = self.ids
        bos = [i.bos] if i.bos is not None else []
        return [*bos, i.query_start, *self.text_ids(query, self.config.max_query_tokens), i.query_end]

    def bare_query(self, query: str) -> list[int]:
        """``<query>q</query><emb>``: the query-only sequence (``think=False`` and dropped thoughts)."""
        return [*self._head(query), self.ids.emb]

    def generation_prompt(self, query: str) -> list[int]:
        """``<query>q</query>[<emb>]<thought>``: what the model continues with its thought."""
        first = [self.ids.emb] if self.config.first_emb else []
        return [*self._head(query), *first, self.ids.thought]

    def query_example(self, query: str, thought: str | list[int] | None) -> Encoded:
        """A query sequence with LM labels; an empty or None thought gives the bare query (no labels).

        Args:
            query: the query text.
            thought: the thought text, or its token ids (as generated), or None/"" for a query-only example.
        """
        if thought is None or (isinstance(thought, str) and not thought.strip()):
            ids = self.bare_query(query)
            return Encoded(ids, [IGNORE] * len(ids), emb_index=len(ids) - 1)
        if isinstance(thought, str):
            t_ids = self.text_ids(thought, self.config.max_thought_tokens)
        else:
            t_ids = list(thought)[: self.config.max_thought_tokens]
        prompt = self.generation_prompt(query)
        ids = [*prompt, *t_ids, self.ids.eos, self.ids.emb]
        labels = [IGNORE] * len(prompt) + [*t_ids, self.ids.eos] + [IGNORE]
        first = len(prompt) - 2 if self.config.first_emb else -1
        return Encoded(ids, labels, emb_index=len(ids) - 1, first_emb_index=first, decision_index=len(prompt) - 1)

    def skip_example(self, query: str) -> Encoded:
        """``<query>q</query>[<emb>]<thought></s><emb>``: the model learns to close the thought at once.

        The LM label sits on that ``</s>`` only; the vector is read at the last ``<emb>``, which is what
        ``think="auto"`` reads when the model closes the thought at its first step.
        """
        prompt = self.generation_prompt(query)
        ids = [*prompt, self.ids.eos, self.ids.emb]
        labels = [IGNORE] * len(prompt) + [self.ids.eos, IGNORE]
        first = len(prompt) - 2 if self.config.first_emb else -1
        return Encoded(ids, labels, emb_index=len(ids) - 1, first_emb_index=first, decision_index=len(prompt) - 1)

    def document(self, title: str | None, text: str | None) -> list[int]:
        """``title text<emb>`` with ``title text`` cut to ``max_passage_tokens``."""
        body = document_text(title, text)
        bos = [self.ids.bos] if self.ids.bos is not None else []
        return [*bos, *self.text_ids(body, self.config.max_passage_tokens), self.ids.emb]
