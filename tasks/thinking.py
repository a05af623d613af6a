"""The vocabulary of thinking modes, shared by the encoder (``trainer.encoder``) and the evaluation's system specs.

One definition, so a mode the evaluation accepts is a mode the encoder runs:

- ``think``: ``"always"`` (every query thinks), ``"never"`` (the bare query) or ``"auto"`` (the model decides,
  by its probability of closing the thought at once); the old booleans ``True``/``False`` mean always/never.
- ``skip_vector``: in ``auto``, the vector of a query that skips its thought: ``"skip"`` (the ``<emb>`` after the
  empty thought, the sequence the skip examples trained) or ``"query"`` (the bare query's, so the threshold sweep
  runs exactly from ``never`` to ``always``).
- ``decider``: in ``auto``, what gives each query its probability of skipping: ``"close"`` (the LM head's
  probability of closing the thought at once) or ``"gate"`` (the learned gate fitted on the model's own per-query
  gains, ``trainer.think_gate``).

Example:
    >>> think_mode(True), think_mode("auto")
    ('always', 'auto')
"""

from __future__ import annotations

from typing import Literal

from o1embed.tasks.errors import ConfigError

ThinkMode = Literal["auto", "always", "never"]
SkipVector = Literal["skip", "query"]
Decider = Literal["close", "gate"]
THINK_MODES: tuple[str, ...] = ("auto", "always", "never")


def think_mode(think: bool | str) -> ThinkMode:
    """``True``/``False`` (the old boolean) as ``"always"``/``"never"``; a mode name as itself.

    Raises:
        ConfigError: any other value.
    """
    if think is True:
        return "always"
    if think is False:
        return "never"
    if think not in THINK_MODES:
        raise ConfigError(f"think must be one of {', '.join(THINK_MODES)} (or True/False), not {think!r}")
    return think  # type: ignore[return-value]
