"""The text of one document as every single-field reader sees it: ``"title text"`` (BEIR's convention).

Retrievers index it, the committee judges against it, the export writes it and the trainer encodes it.

Example:
    >>> document_text("Cells", " A cell is the unit of life. ")
    'Cells A cell is the unit of life.'
    >>> document_text(None, "no title")
    'no title'
"""

from __future__ import annotations


def document_text(title: str | None, text: str | None) -> str:
    """Return ``title`` and ``text``, each stripped, joined by one space (an empty part is left out)."""
    return " ".join(s for s in ((title or "").strip(), (text or "").strip()) if s)
