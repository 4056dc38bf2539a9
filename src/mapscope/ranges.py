"""Vectorized index ranges, shared by the profile reader and the analyses and writers built on it."""

from __future__ import annotations

import numpy as np


def offsets(counts: np.ndarray) -> np.ndarray:
    """Start offsets of consecutive runs of `counts` items, with the grand total appended."""
    result = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=result[1:])
    return result


def expand(begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """All integers of the half-open ranges [begin[i], end[i]), concatenated."""
    sizes = end - begin
    keep = sizes > 0
    begin, sizes = begin[keep], sizes[keep]
    if begin.size == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(begin - offsets(sizes)[:-1], sizes)
    expanded: np.ndarray = np.arange(int(sizes.sum()), dtype=np.int64) + shift
    return expanded
