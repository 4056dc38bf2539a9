"""Figures with their hash-seed ranges, for terminal output."""

from __future__ import annotations

from mapscope.model.records import Spread
from mapscope.units import human_bytes


def spread_bytes(spread: Spread) -> str:
    text = (
        f"{spread.value:,} B ({human_bytes(spread.value)})" if spread.value >= 1024 else f"{spread.value:,} B"
    )
    if not spread.exact:
        text += f"  [{spread.low:,} … {spread.high:,}]"
    return text


def spread_count(spread: Spread) -> str:
    text = f"{spread.value:,}"
    if not spread.exact:
        text += f"  [{spread.low:,} … {spread.high:,}]"
    return text
