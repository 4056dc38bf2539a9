"""The one error type users see: a single line naming the input and what is wrong."""

from __future__ import annotations

from mapscope import limits

# Every character str.splitlines() breaks on, written as its escape: quoted input stays on one line.
_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def _shortened(text: str, most: int) -> str:
    """Input quoted into an error (a 5,000-digit number, a megabyte-long type) is cut, not echoed, and
    keeps to one line."""
    text = text.translate(_LINE_BREAKS)
    return text if len(text) <= most else f"{text[: most - 1]}…"


class MapscopeError(Exception):
    """A problem with the user's input or environment; the CLI prints it on one line and exits 2."""

    def __init__(self, source: str, problem: str) -> None:
        source = _shortened(source, limits.ERROR_CHARS_MAX // 2)
        problem = _shortened(problem, limits.ERROR_CHARS_MAX // 2)
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem
