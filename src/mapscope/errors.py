"""The one error type users see: a single line naming the input and what is wrong."""

from __future__ import annotations


class MapscopeError(Exception):
    """A problem with the user's input or environment; the CLI prints it on one line and exits 2."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem
