"""The click type of every count option (-n, --hint, --reps, ...): counts as people write them."""

from __future__ import annotations

from typing import Any

import click

from mapscope.counts import MAX_COUNT, CountError, parse_count


class Count(click.ParamType[int]):
    """A whole number between `minimum` and `maximum`, written as mapscope.counts reads it."""

    name = "count"

    def __init__(self, minimum: int = 0, maximum: int = MAX_COUNT) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value) if isinstance(value, int) else value
        try:
            return parse_count(text, self.minimum, self.maximum)
        except CountError as error:
            self.fail(str(error), param, ctx)

    def __repr__(self) -> str:
        return f"Count({self.minimum}, {self.maximum})"
