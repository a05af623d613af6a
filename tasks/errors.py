"""Exception types raised at o1embed's boundaries."""

from __future__ import annotations


class O1EmbedError(Exception):
    """Base class of every error o1embed raises on purpose."""


class InputError(O1EmbedError):
    """Input that cannot be used, located by file, line and field.

    Args:
        message: what is wrong, in words a user can act on.
        file: the file the problem is in, if any.
        line: the 1-based line number, if any.
        field: the field name, if any.

    Example:
        >>> str(InputError("not valid JSON", file="q.jsonl", line=3))
        'q.jsonl:3: not valid JSON'
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = file or ""
        if line is not None:
            where += f":{line}"
        if field:
            where += f" [{field}]"
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(O1EmbedError):
    """A configuration that cannot work (missing model, unreachable endpoint, conflicting options)."""


class ConcurrentWriterError(O1EmbedError):
    """Another run holds the write lock of a dataset version."""
