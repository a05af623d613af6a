"""Hard negatives: the committee's top-ranked non-positive documents for a search query.

Each member returns its top documents; the committee ranks their union by reciprocal-rank fusion
(``sum over members of 1 / (rrf_k + rank)``, ties by corpus position), removes the query's positives (and a document
whose id equals the query id, as in ArguAna), skips the first ``skip`` (they may be unlabelled positives) and keeps
the next ``count``.

Example:
    >>> import numpy as np
    >>> idx, s = hard_negatives([np.array([5, 1, 2, 3, 4])], exclude={1}, skip=1, count=2)
    >>> idx.tolist()          # fused order 5, 2, 3, 4 (1 is a positive); skip 5
    [2, 3]
"""

from __future__ import annotations

import numpy as np


def hard_negatives(
    member_tops: list[np.ndarray], exclude: set[int], skip: int, count: int, rrf_k: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Pick hard negatives from several members' rankings.

    Args:
        member_tops: per member, corpus positions best first (``-1`` pads are ignored).
        exclude: corpus positions that may never be negatives (the query's positives).
        skip: how many top non-positive documents to pass over.
        count: how many negatives to return.
        rrf_k: fusion constant.

    Returns:
        ``(positions, fused scores)``, at most ``count`` each, best first.
    """
    fused: dict[int, float] = {}
    for top in member_tops:
        for r, d in enumerate(top.tolist(), start=1):
            if d < 0:
                continue
            fused[d] = fused.get(d, 0.0) + 1.0 / (rrf_k + r)
    ranked = sorted((d for d in fused if d not in exclude), key=lambda d: (-fused[d], d))
    chosen = ranked[skip : skip + count]
    return np.asarray(chosen, dtype=np.int64), np.asarray([fused[d] for d in chosen], dtype=np.float32)
