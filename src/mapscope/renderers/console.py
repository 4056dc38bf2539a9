"""The one way a command gets a rich console, so every command treats terminals and pipes alike.

Highlighting is always off (rich would colour numbers and paths inside names from the input). Markup is off
unless a caller asks for it: names from the input (`map[int]T`) must print as they are. On a pipe the width
is fixed (`pipe_width`) rather than squeezed into rich's default 80 columns; on a terminal it follows the
terminal.
"""

from __future__ import annotations

import sys

from rich.console import Console

__all__ = ["PIPE_WIDTH", "console"]

# Wide enough for the widest table (model and profile views) without folding.
PIPE_WIDTH = 160


def console(
    *,
    stderr: bool = False,
    pipe_width: int | None = PIPE_WIDTH,
    soft_wrap: bool = False,
    markup: bool = False,
) -> Console:
    """A console on stdout (or stderr); `pipe_width` None keeps rich's own choice when not on a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if pipe_width is None or stream.isatty() else pipe_width
    return Console(stderr=stderr, highlight=False, soft_wrap=soft_wrap, markup=markup, width=width)
