"""Lines of the fixture programs by their text, so tests name a statement rather than a line number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def line_finder(program: Path) -> Callable[[str], int]:
    """A function giving the 1-based line of a statement of `program` (each must appear once)."""
    lines = program.read_text().splitlines()

    def line_of(statement: str) -> int:
        found = [i + 1 for i, text in enumerate(lines) if text.strip() == statement]
        assert len(found) == 1, statement
        return found[0]

    return line_of
