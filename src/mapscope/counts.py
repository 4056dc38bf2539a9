"""Counts as people write them: `1000000`, `1_000_000`, `1e6`, `1.5e6`, `10k`, `2M`, `1G`, `1T`.

Shared by the command options (-n, --hint, ...) and the `--ops` parser, so every count reads the same way.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

# Beyond any map a machine can hold, and small enough that every figure derived from it stays exact.
MAX_COUNT = 10**12

# Decimal SI multipliers: a count of things, not of bytes, so k is 1000.
SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
SYNTAX = "write e.g. 1000, 1_000_000, 1e6, 10k, 2M or 1G; k, M, G, T are 10^3, 10^6, 10^9, 10^12"

_COUNT_RE = re.compile(
    r"^(?P<sign>[+-]?)(?P<digits>\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?)(?:e(?P<exponent>[+-]?\d+))?(?P<suffix>[kmgt])?$",
    re.IGNORECASE,
)


class CountError(ValueError):
    """The text is not a count within bounds; the message says why, for one error line."""


def parse_count(text: str, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    """The whole number `text` spells, between `minimum` and `maximum`."""
    stripped = text.strip()
    if not stripped:
        raise CountError(f"no count given ({SYNTAX})")
    match = _COUNT_RE.match(stripped)
    if not match:
        raise CountError(f"{text!r} is not a count ({SYNTAX})")
    digits, exponent_text = match["digits"].replace("_", ""), match["exponent"] or "0"
    if len(exponent_text.lstrip("+-")) > 4:
        # 1e99999 and beyond: decided by the exponent's sign alone, without building the number.
        if exponent_text.startswith("-"):
            raise CountError(f"{stripped} is not a count (a whole number)")
        raise CountError(f"{stripped} is too large (at most {maximum:,})")
    with localcontext() as exact:
        exact.prec = len(digits) + 16
        value = Decimal(digits).scaleb(int(exponent_text))
        if match["suffix"]:
            value *= SUFFIXES[match["suffix"].lower()]
    if match["sign"] == "-" and value:
        raise CountError(f"{stripped} is negative; a count is {minimum} or more")
    if value != value.to_integral_value():
        raise CountError(f"{stripped} is not a count (a whole number)")
    if value > maximum:
        raise CountError(f"{stripped} is too large (at most {maximum:,})")
    if value < minimum:
        raise CountError(f"{stripped} is too small (at least {minimum:,})")
    return int(value)
