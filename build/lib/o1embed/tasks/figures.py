"""Matplotlib figures as PNG bytes, for atomic writes and Prefect artifacts.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> png_bytes(fig)[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import io
from typing import Any


def png_bytes(fig: Any, dpi: float | None = None) -> bytes:
    """Render ``fig`` as PNG and close it (so long runs do not accumulate open figures).

    Args:
        fig: a ``matplotlib.figure.Figure``.
        dpi: resolution (None: matplotlib's default).

    Returns:
        The PNG file's bytes; write them with :func:`tasks.atomic.write_bytes_atomic`.
    """
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **({"dpi": dpi} if dpi else {}))
    plt.close(fig)
    return buf.getvalue()
