"""JSON as Go and mapscope write it, read strictly: what no writer produces is an error, never a value.

Python's json module accepts NaN and Infinity, turns 1e999 into inf, raises ValueError (not a decode
error) past 4,300 digits and RecursionError on deep nesting. Every JSON input goes through `load`, so
each of those is one line naming the file.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mapscope.errors import MapscopeError


class _UnwritableError(ValueError):
    """A JSON token that no Go or mapscope writer emits."""


# Go writes its counters as int64: a number outside is damage, never a value.
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _integer(text: str) -> int:
    value = int(text) if len(text) <= 20 else _INT64_MAX + 1
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _UnwritableError(f"integer {text[:24]}{'…' if len(text) > 24 else ''} is outside int64")
    return value


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _UnwritableError(f"number {text[:24]} is not finite")
    return value


def _constant(text: str) -> Any:
    raise _UnwritableError(f"{text} is not JSON")


def load(data: str | bytes, source: str, what: str = "JSON") -> Any:
    """The decoded document; MapscopeError(source, "not {what}: ...") for what no writer produces."""
    try:
        return json.loads(data, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise MapscopeError(
            source, f"not {what}: {error.msg} (line {error.lineno} column {error.colno})"
        ) from None
    except _UnwritableError as error:
        raise MapscopeError(source, f"not {what}: {error}") from None
    except UnicodeDecodeError:
        raise MapscopeError(source, f"not {what}: not UTF-8") from None
    except RecursionError:
        raise MapscopeError(source, f"not {what}: nested too deeply") from None
