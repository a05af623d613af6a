"""The expert-LLM prompt of O1 Embedder's exploration stage: few-shot demos, message layout, output checks.

Pure functions only, so the pairing of every prompt with its query is easy to test.

The ``paper`` layout follows DESIGN.md §1: a short system message and a user message with four blocks
``Task:``, ``Examples:``, ``Query:``, ``Response:``. It already ends with the query, so the tokens a prefix cache
can reuse are the system message, the task and the demos. The ``prefix`` layout moves those fixed parts into the
system message and leaves only ``Query:`` and ``Response:`` in the user message, so the fixed parts are whole
leading messages (what message-level prompt caches and chat templates that re-render the last turn need).

Demos come from *other* training pairs: never the query itself, never a pair whose document is one of the query's
positives. The demo policy ``per_candidate`` (the paper's) draws them afresh for every candidate so candidates
differ; ``per_query`` draws once per query, so the K candidates share one prompt and a server that honours ``n``
can sample all K from one request (vLLM shares the prompt's KV cache between them).

Prompt styles vary only the Task text (:data:`STYLE_TASKS`); the demos are always query -> relevant passage.
``PromptConfig.styles`` lists the styles in use and candidate ``c`` takes ``styles[c % len(styles)]``, so the
style of a candidate, like its seed and demos, does not depend on K. The default, ``["paper"]``, is the paper's
single instruction and builds the same messages (and template hash) as before styles existed.

Example:
    >>> pool = DemoPool([("q1", "why?", "d1", "because."), ("q2", "how?", "d2", "like so.")])
    >>> demos = pool.draw("q9", {"d9"}, k=2, seed=7)
    >>> sorted(d.query_id for d in demos)
    ['q1', 'q2']
    >>> build_messages("what?", demos, PromptConfig())[1]["content"].startswith("Task:")
    True
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

SYSTEM_MESSAGE = (
    "You are an expert. Answer the task directly. Do not ask for clarification and do not repeat the query."
)
TASK_TEXT = "Think about a plausible response to address the query."

Style = Literal["paper", "passage", "keywords", "reasoning"]

# Task text of every style but "paper" (whose text is ``PromptConfig.task``, by default TASK_TEXT).
STYLE_TASKS: dict[str, str] = {
    "passage": "Write a short passage that would answer the query, in the style of the example passages.",
    "keywords": "List the key facts and terms that a document relevant to the query would contain.",
    "reasoning": "Explain what the query is really asking and what information would answer it.",
}


_LATER_FIELDS = ("demo_policy", "layout")


class PromptConfig(BaseModel):
    """How the expert's prompt is built. Every field changes the dataset version."""

    system: str = Field(SYSTEM_MESSAGE, description="System message.")
    task: str = Field(TASK_TEXT, description="Text of the Task: block.")
    num_demos: int = Field(3, ge=0, description="Query -> relevant passage demos per candidate.")
    demo_passage_words: int = Field(
        64,
        ge=8,
        description="Demo passages are cut to this many words (keeps prompts short for small servers).",
    )
    demo_query_words: int = Field(64, ge=4, description="Demo queries are cut to this many words.")
    styles: list[Style] = Field(
        ["paper"],
        min_length=1,
        description="Prompt styles; candidate c uses styles[c % len(styles)] (see STYLE_TASKS).",
    )
    demo_policy: Literal["per_candidate", "per_query"] = Field(
        "per_candidate",
        description="Demos drawn per candidate (the paper's) or once per query (K candidates share one prompt, "
        "so one request with n=K can serve them).",
    )
    layout: Literal["paper", "prefix"] = Field(
        "paper",
        description="paper: Task/Examples/Query/Response in the user message; prefix: system, task and demos "
        "in the system message, only the query in the user message.",
    )

    def style_for(self, candidate_idx: int) -> Style:
        """The style of candidate ``candidate_idx`` (independent of K)."""
        return self.styles[candidate_idx % len(self.styles)]

    def task_for(self, style: Style) -> str:
        """The Task text of ``style``."""
        return self.task if style == "paper" else STYLE_TASKS[style]

    def template_hash(self) -> str:
        """A hash of everything that shapes the prompt (recorded in the manifest, part of the version).

        Fields added later enter the hash only when set (the paper's single style, the per-candidate demos, the
        paper's layout), so datasets made before them keep their version.
        """
        later = {f for f in _LATER_FIELDS if getattr(self, f) == type(self).model_fields[f].default}
        fields = self.model_dump(exclude=later)
        if fields["styles"] == ["paper"]:
            del fields["styles"]
        blob = json.dumps({"v": 1, **fields}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Demo:
    """One few-shot example: a training query and one of its relevant passages."""

    query_id: str
    query: str
    doc_id: str
    passage: str


class DemoPool:
    """Training pairs to draw demos from, reproducibly.

    Args:
        pairs: ``(query_id, query_text, doc_id, passage_text)`` tuples; order does not matter (they are sorted).
    """

    def __init__(self, pairs: list[tuple[str, str, str, str]]):
        self.demos = [Demo(*p) for p in sorted(pairs, key=lambda p: (p[0], p[2]))]

    def __len__(self) -> int:
        return len(self.demos)

    def draw(self, query_id: str, positive_ids: set[str], k: int, seed: int) -> list[Demo]:
        """Draw ``k`` demos from distinct other queries, none of which uses one of ``positive_ids``.

        Args:
            query_id: the query the prompt is for (its own pairs are never drawn).
            positive_ids: that query's positive documents (never shown, to avoid label leaks).
            k: how many demos.
            seed: the candidate's seed; the same seed gives the same demos.

        Returns:
            Up to ``k`` demos (fewer only when the pool has fewer eligible queries).
        """
        rng = random.Random(seed)
        chosen: list[Demo] = []
        used_queries = {query_id}

        def eligible(d: Demo) -> bool:
            return d.query_id not in used_queries and d.doc_id not in positive_ids

        # Rejection sampling is O(k) in the usual case; fall back to a filtered list when the pool is tight.
        for _ in range(20 * max(k, 1)):
            if len(chosen) == k or not self.demos:
                break
            d = self.demos[rng.randrange(len(self.demos))]
            if eligible(d):
                chosen.append(d)
                used_queries.add(d.query_id)
        if len(chosen) < k:
            rest = [d for d in self.demos if eligible(d)]
            rng.shuffle(rest)
            for d in rest:
                if len(chosen) == k:
                    break
                if eligible(d):
                    chosen.append(d)
                    used_queries.add(d.query_id)
        return chosen


def _cut(text: str, words: int) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def build_messages(query: str, demos: list[Demo], cfg: PromptConfig, style: Style = "paper") -> list[dict[str, str]]:
    """Return the chat messages for one candidate thought.

    Args:
        query: the training query.
        demos: few-shot demos (see :meth:`DemoPool.draw`).
        cfg: prompt configuration.
        style: the candidate's prompt style (see :meth:`PromptConfig.style_for`); it sets the Task text only.

    Returns:
        ``[{"role": "system", ...}, {"role": "user", ...}]``; both layouts end with the query and ``Response:``.
    """
    examples = "\n\n".join(
        f"Query: {_cut(d.query, cfg.demo_query_words)}\nResponse: {_cut(d.passage, cfg.demo_passage_words)}"
        for d in demos
    )
    fixed = f"Task: {cfg.task_for(style)}\n\nExamples:\n{examples}"
    if cfg.layout == "prefix":
        system = f"{cfg.system}\n\n{fixed}"
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": f"Query: {query}\n\nResponse:"},
        ]
    user = f"{fixed}\n\nQuery: {query}\n\nResponse:"
    return [{"role": "system", "content": cfg.system}, {"role": "user", "content": user}]


_RESPONSE_PREFIX = re.compile(r"^\s*(response|answer)\s*:\s*", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def clean_thought(raw: str | None) -> str:
    """Strip whitespace and a leading ``Response:`` label from a model output."""
    return _RESPONSE_PREFIX.sub("", (raw or "").strip()).strip()


def thought_problem(thought: str, query: str, messages: list[dict[str, str]], task: str = TASK_TEXT) -> str | None:
    """Say why an output cannot be a candidate thought, or None when it can.

    An output is refused when it is empty or whitespace, when it only repeats the query, or when it echoes the
    prompt (its Task text ``task``, the one used for the candidate's style, or the whole user message).
    """
    if not thought.strip():
        return "empty output"
    t = _norm(thought)
    if not t:
        return "output has no words"
    if t == _norm(query):
        return "output repeats the query"
    if _norm(task) in t:
        return "output echoes the prompt"
    user = messages[-1]["content"]
    if len(thought) >= len(user) // 2 and _norm(user) in t:  # only long outputs can hold the whole prompt
        return "output echoes the prompt"
    return None


def candidate_seed(base_seed: int, query_id: str, candidate_idx: int, attempt: int = 0) -> int:
    """Deterministic per-request seed from the run seed and the request key (and retry attempt)."""
    h = hashlib.sha256(f"{base_seed}:{query_id}:{candidate_idx}:{attempt}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF
