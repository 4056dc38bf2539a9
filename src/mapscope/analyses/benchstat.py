"""benchstat's summaries and A/B comparisons of Go benchmark results, number for number.

This follows golang/perf's cmd/benchstat (v2) with its default projection: one table per file configuration
(all `key: value` lines) and unit, one row per full benchmark name, one column per input file (or per value
of a chosen configuration or sub-benchmark key), the first column being the baseline. Per cell it gives the
median and a confidence interval for it from order statistics (binomial, normal approximation above 30
samples); per comparison the two-sided Mann-Whitney U p-value (exact distribution, with ties when present,
normal approximation for large samples) and the change of the medians, shown as `~` when p > alpha; per
column the geometric mean of the medians and of the ratios to the baseline. Units are tidied (`ns` → `sec`,
`MB` → `B` in the numerator) and values are scaled with SI or IEC prefixes as benchstat prints them. Units
marked `assume=exact` are summarised by their mode and compared without a test.

Floating-point results come from the same operations in the same order as benchstat's Go code, so they
match to the bit. Where Go's math library decides, its results are reproduced: binomial coefficients of
21..50 (through Lgamma and Exp; they pick the median interval for 21..30 samples) come from a table made by
running Go (scripts/gen_benchstat_choose.py), and the geometric means use copies of Go's amd64 Log and Exp.
Two places can differ from benchstat in the last bit, never seen to change a printed digit: the normal
approximations (interval above 30 samples, test above 50 samples, or 25 with ties) use Python's erfc, and
the tied U distribution is counted exactly where benchstat sums floats (identical up to 20 samples in all).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources

import numpy as np

from mapscope import gomath
from mapscope.errors import MapscopeError
from mapscope.readers.gobench import BenchFile, BenchResult

DEFAULT_ALPHA = 0.05
DEFAULT_CONFIDENCE = 0.95

_EXACT_U_LIMIT = 50  # largest sample for the exact U distribution without ties
_EXACT_U_TIES_LIMIT = 25  # ... and with ties
_EXACT_CI_LIMIT = 30  # largest sample for the binomial (not normal) median interval
_MIN_SAMPLES_SEARCH = 50  # benchstat looks no further for "need >= N samples"
_MIN_P_SEARCH = 9  # ... and for "need >= N samples to detect a difference"


class SamplesEqualError(Exception):
    """The two samples hold one single value between them, so the U test says nothing."""


# ---------------------------------------------------------------------------------------------------------
# Units: tidying, prefix classes and scaled numbers.


class UnitClass(StrEnum):
    DECIMAL = "decimal"  # SI prefixes, powers of 1000
    BINARY = "binary"  # IEC prefixes, powers of 1024, for units that count bytes


def _unit_tokens(unit: str) -> list[tuple[str, int, bool]]:
    """(token, offset, in denominator) for each token of a unit; `*` and `/` switch numerator and
    denominator, `-` and spaces separate."""
    tokens: list[tuple[str, int, bool]] = []
    denominator, start = False, -1
    for at, char in enumerate(unit + " "):
        if char in "*/-" or char.isspace():
            if start >= 0:
                tokens.append((unit[start:at], start, denominator))
                start = -1
            if char == "*":
                denominator = False
            elif char == "/":
                denominator = True
        elif start < 0:
            start = at
    return tokens


def tidy_unit(unit: str) -> tuple[str, float]:
    """(tidied unit, factor to multiply values by): `ns` becomes `sec` and `MB` becomes `B` in the
    numerator, so that prefixes can be applied without producing units like `µns/op`."""
    if unit == "ns/op":
        return "sec/op", 1e-9
    if unit == "MB/s":
        return "B/s", 1e6
    if "ns" not in unit and "MB" not in unit:
        return unit, 1.0
    factor = 1.0
    edits: list[tuple[int, int, str]] = []
    for token, at, denominator in _unit_tokens(unit):
        if denominator:
            continue
        if token == "ns":
            edits.append((at, 2, "sec"))
            factor /= 1e9
        elif token == "MB":
            edits.append((at, 2, "B"))
            factor *= 1e6
    for at, length, replacement in reversed(edits):
        unit = unit[:at] + replacement + unit[at + length :]
    return unit, factor


def unit_class(unit: str) -> UnitClass:
    """Binary when the numerator counts bytes (`B`, `MB` or `bytes`), else decimal."""
    for token, _, denominator in _unit_tokens(unit):
        if token in ("B", "MB", "bytes") and not denominator:
            return UnitClass.BINARY
    return UnitClass.DECIMAL


@dataclass(frozen=True)
class Scaler:
    """How to print a group of values: digits after the point, the prefix and its value."""

    precision: int
    factor: float
    prefix: str

    def format(self, value: float) -> str:
        return _go_fixed(value / self.factor, self.precision) + self.prefix


def _prefix_thresholds() -> dict[UnitClass, list[tuple[float, str, float, float, float]]]:
    """(factor, prefix, threshold for 100.0, for 10.00, for 1.000) per class, largest factor first; the
    thresholds are the values that print as 99.995, 9.9995 and .99995 at that factor."""
    decimal = []
    for exponent, prefix in zip(range(12, -10, -3), ("T", "G", "M", "k", "", "m", "µ", "n"), strict=True):
        decimal.append(
            (
                10.0**exponent,
                prefix,
                float(f"99.995e{exponent}"),
                float(f"9.9995e{exponent}"),
                float(f".99995e{exponent}"),
            )
        )
    binary = []
    for exponent, prefix in zip(range(40, -1, -10), ("Ti", "Gi", "Mi", "Ki", ""), strict=True):
        binary.append(
            (
                2.0**exponent,
                prefix,
                float.fromhex(f"0x1.8ffae147ae148p{6 + exponent}"),
                float.fromhex(f"0x1.3ffbe76c8b439p{3 + exponent}"),
                float.fromhex(f"0x1.fff972474538fp{exponent - 1}"),
            )
        )
    return {UnitClass.DECIMAL: decimal, UnitClass.BINARY: binary}


_PREFIXES = _prefix_thresholds()
# Below the smallest prefix, more digits: the first threshold (.99995) gives 3 after the point.
_SMALL_THRESHOLDS = [float(f"9.9995e{exponent}") for exponent in range(-1, -9, -1)]


def common_scale(values: Sequence[float], cls: UnitClass) -> Scaler:
    """The scale showing at least three significant digits of every value, set by the smallest
    non-zero magnitude."""
    smallest = min((abs(v) for v in values if v != 0), default=0.0)
    if smallest == 0:
        return Scaler(3, 1.0, "")
    factors = _PREFIXES[cls]
    for factor, prefix, t100, t10, t1 in factors:
        if smallest >= t100:
            return Scaler(1, factor, prefix)
        if smallest >= t10:
            return Scaler(2, factor, prefix)
        if smallest >= t1:
            return Scaler(3, factor, prefix)
    factor, prefix = factors[-1][0], factors[-1][1]
    scaled = smallest / factor
    for extra, threshold in enumerate(_SMALL_THRESHOLDS):
        if scaled >= threshold or extra == len(_SMALL_THRESHOLDS) - 1:
            return Scaler(3 + extra, factor, prefix)
    raise AssertionError("unreachable")


def scale(value: float, cls: UnitClass) -> str:
    return common_scale([value], cls).format(value)


def _go_fixed(value: float, precision: int) -> str:
    """strconv.FormatFloat(value, 'f', precision, 64)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.{precision}f}"


def go_value(value: float) -> str:
    """A float64 as Go's %v prints it: shortest digits, exponent form below 1e-4 or from 1e21... (%g)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    shortest = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, shortest.digits))
    point = len(digits) + int(shortest.exponent)  # digits before the decimal point
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def better_direction(unit: str, notes: dict[tuple[str, str], str]) -> int:
    """+1 when higher values are better, -1 when lower, 0 when unknown (`better=` metadata first)."""
    declared = notes.get((tidy_unit(unit)[0], "better"))
    if declared is not None:
        return {"higher": 1, "lower": -1}.get(declared, 0)
    if unit in ("ns/op", "sec/op", "B/op", "allocs/op"):
        return -1
    if unit in ("MB/s", "B/s"):
        return 1
    return 0


# ---------------------------------------------------------------------------------------------------------
# Statistics.


@cache
def _go_binomials() -> tuple[tuple[float, ...], ...]:
    """C(n, k) for n = 21..50 as Go computes them, from the float64 bits recorded by running Go."""
    raw = json.loads(resources.files("mapscope.analyses").joinpath("benchstat_choose.json").read_text())
    rows = tuple(tuple(struct.unpack(">d", bytes.fromhex(bits))[0] for bits in row) for row in raw["bits"])
    if raw["first"] != 21 or len(rows) != 30 or any(len(row) != 22 + n for n, row in enumerate(rows)):
        raise MapscopeError("benchstat_choose.json", "damaged table; rerun scripts/gen_benchstat_choose.py")
    return rows


def _choose(n: int, k: int) -> float:
    """C(n, k) as benchstat's Go code has it: exact up to n = 20, then through Lgamma and Exp."""
    if k in (0, n):
        return 1.0
    if k < 0 or k > n:
        return 0.0
    if n <= 20:
        return float(math.comb(n, k))
    return _go_binomials()[n - 21][k]  # callers stay within 50 (the exact limits above)


def median(values: Sequence[float]) -> float:
    """The sample median of sorted values, interpolated as benchstat does (Hyndman-Fan type 8)."""
    position = 1 / 3.0 + 0.5 * (len(values) + 1 / 3.0)
    fraction, whole = math.modf(position)
    k = int(whole)
    if k <= 0:
        return values[0]
    if k >= len(values):
        return values[-1]
    return values[k - 1] + fraction * (values[k] - values[k - 1])


def _normal_cdf(x: float, mu: float, sigma: float) -> float:
    return math.erfc(-(x - mu) / (sigma * math.sqrt(2))) / 2


def _normal_quantile(p: float, mu: float, sigma: float) -> float:
    """Acklam's rational approximation of the inverse normal CDF plus one Halley step."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    low = 0.02425
    if p < 0 or p > 1:
        return math.nan
    if p == 0:
        return -math.inf
    if p == 1:
        return math.inf
    if p < low or 1 - low < p:
        q = math.sqrt(-2 * math.log(p if p < low else 1 - p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
        x = x if p < low else -x
    else:
        q = p - 0.5
        r = q * q
        x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (
            ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1
        )
    error = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    u = error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    x = x - u / (1 + x * u / 2)
    return x * sigma + mu


def median_ci_orders(n: int, confidence: float) -> tuple[int, int]:
    """The 1-based order statistics (lo, hi) bounding the confidence interval of the median of n values;
    0 and n+1 stand for -inf and +inf (too few samples for the level)."""
    if confidence >= 1:
        return 0, n + 1
    if n <= _EXACT_CI_LIMIT:
        # Grow an interval of the binomial(n, 1/2) distribution of "samples below the median" out from
        # its (lower) mode, taking the likelier neighbour each time and the left one on ties.
        def mass(k: int) -> float:
            return 0.0 if k < 0 or k > n else _choose(n, k) * 0.5**k * 0.5 ** (n - k)

        x = math.ceil((n + 1) * 0.5) - 1
        covered = mass(x)
        lo, hi = x, x + 1
        left, right = mass(lo - 1), mass(hi)
        while covered < confidence and (left > 0 or right > 0):
            if left >= right:
                covered += left
                lo -= 1
                left = mass(lo - 1)
            else:
                covered += right
                hi += 1
                right = mass(hi)
    else:
        mu, sigma = n * 0.5, math.sqrt(n * 0.5 * 0.5)
        left_edge = _normal_quantile((1 - confidence) / 2, mu, sigma)
        right_edge = 2 * mu - left_edge
        lo = math.floor(math.floor(left_edge - 0.5) + 0.5) + 1
        hi = math.floor(math.ceil(right_edge - 0.5) + 0.5) + 1

        def covers(a: int, b: int) -> float:
            return _normal_cdf(b - 0.5, mu, sigma) - _normal_cdf(a - 0.5, mu, sigma)

        level = covers(lo, hi)
        # The symmetric band may be wider than needed; the band one shorter on the right is taken when it
        # still reaches the level.
        biased = covers(lo, hi - 1)
        if confidence <= biased < level:
            hi -= 1
    return max(lo, 0), min(hi, n + 1)


@cache
def min_samples_for_ci(confidence: float) -> tuple[str, int]:
    """(">=", n): the fewest samples giving a finite median interval at this level."""
    for n in range(2, _MIN_SAMPLES_SEARCH + 1):
        lo, hi = median_ci_orders(n, confidence)
        if lo > 0 and hi <= n:
            return ">=", n
    return ">", _MIN_SAMPLES_SEARCH


@cache
def min_samples_for_difference(alpha: float) -> tuple[str, int]:
    """(">=", n): the fewest samples per side for which a U test can reach p <= alpha at all (the
    smallest p of two samples of n is 2/C(2n, n), and 1 for n = 1)."""
    for n in range(1, _MIN_P_SEARCH + 1):
        smallest_p = 1.0 if n == 1 else 2 / math.comb(2 * n, n)
        if smallest_p <= alpha:
            return ">=", n
    return ">", _MIN_P_SEARCH + 1


def _u_probabilities(n1: int, n2: int, limit: int) -> list[float]:
    """P(U = u) for u = 0..limit without ties, by Mann and Whitney's recurrence
    p[n,m](u) = (n p[n-1,m](u-m) + m p[n,m-1](u)) / (n+m), kept in the orientation n <= m."""
    small, large = min(n1, n2), max(n1, n2)
    rows = np.zeros((small + 1, limit + 1))
    for m in range(large + 1):
        rows[0, 0] = 1.0
        for n in range(1, min(small, m) + 1):
            top = min(n * m, limit)
            # p[n,m-1]: for n == m, the mirrored p[m-1,m] computed just before.
            previous = rows[n] if n <= m - 1 else rows[m - 1]
            shifted = np.zeros(top + 1)
            if top >= m:
                shifted[m:] = n * rows[n - 1, : top + 1 - m]
            rows[n, : top + 1] = (shifted + m * previous[: top + 1]) / (n + m)
    return [float(p) for p in rows[small]]


def _u_ties_count(n1: int, ties: Sequence[int], twice_u: int) -> int:
    """How many of the C(N, n1) ways to give n1 of the tied ranks to the first sample have 2U <= twice_u.

    Taking r of the t values of a tie group, with b values of the second sample below the group, adds
    r (2b + t - r) to 2U; a dynamic programme over the groups counts exactly.
    """
    counts = np.zeros((n1 + 1, twice_u + 1), dtype=np.int64)
    counts[0, 0] = 1
    before = 0
    for size in ties:
        grown = np.zeros_like(counts)
        for taken in range(n1 + 1):
            row = counts[taken]
            if not row.any():
                continue
            for r in range(min(size, n1 - taken) + 1):
                step = r * (2 * (before - taken) + size - r)
                if step > twice_u:
                    continue
                grown[taken + r, step:] += row[: twice_u + 1 - step] * math.comb(size, r)
        counts = grown
        before += size
    return int(counts[n1].sum())


def _u_two_values_count(n1: int, low_ties: int, high_ties: int, twice_u: int) -> float:
    """The count of `_u_ties_count` when the samples hold only two distinct values, as benchstat has it.

    Taking r of the larger values gives 2U = n1 (low_ties - n1) + r (low_ties + high_ties), so r runs up to
    that bound solved for r. benchstat rounds the bound toward zero rather than down: a bound in (-1, 0)
    still admits r = 0, which can push its p-value above 1 (101 against 100, 100 gives p=1.333).
    """
    total = low_ties + high_ties
    bound = twice_u - n1 * (low_ties - n1)
    highest = bound // total if bound >= 0 else -(-bound // total)
    count = 0.0
    for r in range(max(0, n1 - low_ties), highest + 1):
        count += _choose(low_ties, n1 - r) * _choose(high_ties, r)
    return count


def mann_whitney_p(x1: Sequence[float], x2: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (ties count one half)."""
    n1, n2 = len(x1), len(x2)
    merged = sorted([(v, 1) for v in x1] + [(v, 2) for v in x2], key=lambda item: item[0])
    rank_sum, ties = 0.0, []
    start = 0
    while start < len(merged):
        end = start
        while end < len(merged) and merged[end][0] == merged[start][0]:
            end += 1
        firsts = sum(1 for _, side in merged[start:end] if side == 1)
        if firsts:
            rank_sum += (start + 1 + end) / 2 * firsts
        ties.append(end - start)
        start = end
    u1 = rank_sum - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    u_small = min(u1, u2)
    tied = any(size > 1 for size in ties)
    limit = _EXACT_U_TIES_LIMIT if tied else _EXACT_U_LIMIT
    if n1 <= limit and n2 <= limit:
        if len(ties) == 1:
            raise SamplesEqualError
        if u1 == u2:
            return 1.0
        if tied:
            if len(ties) == 2:
                below = _u_two_values_count(n1, ties[0], ties[1], int(2 * u_small))
            else:
                below = float(_u_ties_count(n1, ties, int(2 * u_small)))
            return below / _choose(n1 + n2, n1) * 2
        total = 0.0
        for p in _u_probabilities(n1, n2, int(u_small)):
            total += p
        return total * 2
    correction = float(sum(size**3 - size for size in ties))
    big_n = float(n1 + n2)
    mean = n1 * n2 / 2
    spread = math.sqrt(n1 * n2 * ((big_n + 1) - correction / (big_n * (big_n - 1))) / 12)
    if spread == 0:
        raise SamplesEqualError
    distance = u1 - mean
    distance -= math.copysign(0.5, distance) if distance else 0.0
    z = distance / spread
    below = _normal_cdf(z, 0.0, 1.0)
    return 2 * min(below, 1 - below)


def geomean(values: Sequence[float]) -> float:
    """Geometric mean by a running mean of logarithms; NaN when empty or any value is <= 0."""
    if not values:
        return math.nan
    mean = 0.0
    for i, value in enumerate(values):
        if value <= 0:
            return math.nan
        mean += (gomath.go_log(value) - mean) / (i + 1)
    return gomath.go_exp(mean)


# ---------------------------------------------------------------------------------------------------------
# Summaries and comparisons of cells.


class Assumption(StrEnum):
    MEDIAN = "median"  # no distributional assumption: median, order-statistic interval, U test
    EXACT = "exact"  # `Unit <unit> assume=exact`: the value has no noise; mode, no test


@dataclass(frozen=True)
class Summary:
    """The center of one cell's values and its confidence interval [lo, hi] (±inf when undefined)."""

    center: float
    lo: float
    hi: float
    warnings: tuple[str, ...]

    @property
    def range_text(self) -> str:
        """benchstat's `± x%`: the larger distance from the center to a bound, in percent of it."""
        if math.isinf(self.lo) or math.isinf(self.hi):
            return "∞"
        sign = _sign(self.center)
        if sign != _sign(self.lo) or sign != _sign(self.hi):
            return "?"
        if self.center == 0:
            return "0%"
        spread = max(self.hi / self.center - 1, 1 - self.lo / self.center)
        return f"{100 * spread:.0f}%"


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


@dataclass(frozen=True)
class Test:
    """A comparison with the baseline: p is 0 for exact units (no test made)."""

    p: float
    n_base: int
    n: int
    alpha: float
    warnings: tuple[str, ...]

    @property
    def significant(self) -> bool:
        return not self.p > self.alpha

    @property
    def text(self) -> str:
        """`p=0.000 n=10`, or `n=5+6` when the sizes differ; no p for exact units."""
        prefix = f"p={self.p:.3f} " if self.p != 0 else ""
        return prefix + (f"n={self.n}" if self.n == self.n_base else f"n={self.n_base}+{self.n}")

    def delta_text(self, base: float, new: float) -> str:
        """The change of the centers in percent, `~` when not significant, `?` from a zero base."""
        if not self.significant:
            return "~"
        if base == new:
            return "0.00%"
        if base == 0:
            return "?"
        return f"{((new / base) - 1.0) * 100.0:+.2f}%"


def summarize(values: Sequence[float], assumption: Assumption, confidence: float) -> Summary:
    """Summary of sorted values."""
    if assumption is Assumption.EXACT:
        best, best_count, run = values[0], 0, 0
        for i, value in enumerate(values):
            run = run + 1 if i and value == values[i - 1] else 1
            if run > best_count:
                best, best_count = value, run
        warnings: tuple[str, ...] = ()
        if best_count != len(values):
            warnings = (
                f"exact distribution expected, but values range from {go_value(values[0])} to "
                f"{go_value(values[-1])}",
            )
        return Summary(best, values[0], values[-1], warnings)
    n = len(values)
    lo_order, hi_order = median_ci_orders(n, confidence)
    lo = -math.inf if lo_order < 1 else values[lo_order - 1]
    hi = math.inf if hi_order - 1 >= n else values[hi_order - 1]
    warnings = ()
    if math.isinf(lo) or math.isinf(hi):
        op, need = min_samples_for_ci(confidence)
        warnings = (f"need {op} {need} samples for confidence interval at level {go_value(confidence)}",)
    return Summary(median(values), lo, hi, warnings)


def compare_samples(
    base: Sequence[float], new: Sequence[float], assumption: Assumption, alpha: float
) -> Test:
    if assumption is Assumption.EXACT:
        return Test(0.0, len(base), len(new), 0.0, ())
    try:
        p = mann_whitney_p(base, new)
    except SamplesEqualError:
        return Test(1.0, len(base), len(new), alpha, ("all samples are equal",))
    warnings: tuple[str, ...] = ()
    if p > alpha:
        op, need = min_samples_for_difference(alpha)
        if len(base) < need and len(new) < need:
            warnings = (f"need {op} {need} samples to detect a difference at alpha level {go_value(alpha)}",)
    return Test(p, len(base), len(new), alpha, warnings)


# ---------------------------------------------------------------------------------------------------------
# Tables.


@dataclass(frozen=True)
class Cell:
    column: str
    values: tuple[float, ...]  # tidied, ascending
    summary: Summary
    center_text: str  # scaled with the row's common scale
    test: Test | None  # None in the baseline column or without a baseline cell
    delta_text: str | None
    delta_pct: float | None  # change of the center against the baseline, significant or not


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell | None, ...]  # one per table column


@dataclass(frozen=True)
class Geomean:
    column: str
    value: float | None
    value_text: str | None
    ratio: float | None
    delta_text: str | None  # None in the baseline column
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    config: tuple[tuple[str, str], ...]  # every configuration key seen, "" where this table has none
    unit: str
    assumption: Assumption
    better: int
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    geomean: tuple[Geomean, ...] | None  # only with two rows or more


@dataclass(frozen=True)
class BenchReport:
    column_key: str
    alpha: float
    confidence: float
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class LabeledFile:
    label: str
    file: BenchFile


def parse_key(key: str, option: str) -> str:
    """Check a grouping key given to --col (`.file` allowed) or --ignore: a sub-benchmark key `/name` or a
    file configuration key."""
    if key == ".file" and option == "col":
        return key
    if key.startswith("/") and len(key) > 1:
        return key
    if key and not key.startswith(".") and not any(c.isspace() or c in ":," for c in key):
        return key
    kinds = ".file, " if option == "col" else ""
    raise MapscopeError(f"--{option}", f"{key!r} is not {kinds}/<sub-benchmark key> or a configuration key")


def _name_part(result: BenchResult, key: str) -> str:
    """The value of sub-benchmark key `/key` (`/gomaxprocs` from the -N suffix), "" when absent."""
    parts = result.parts
    if key == "/gomaxprocs" and parts and parts[-1].startswith("-"):
        return parts[-1][1:]
    prefix = key + "="
    for part in parts:
        if part.startswith(prefix):
            return part[len(prefix) :]
    return ""


def _row_label(result: BenchResult, dropped: Sequence[str]) -> str:
    """The full name without the dropped sub-benchmark keys (their `/key=value` parts)."""
    prefixes = [key + "=" for key in dropped]
    no_procs = "/gomaxprocs" in dropped
    full = result.full_name
    if not any(p in full for p in prefixes) and not (no_procs and "-" in full):
        return full
    kept = [
        part
        for part in result.parts
        if not any(part.startswith(p) for p in prefixes) and not (no_procs and part.startswith("-"))
    ]
    return result.name + "".join(kept)


@dataclass
class _TableDraft:
    config: dict[str, str]
    unit: str
    cells: dict[tuple[str, str], list[float]] = field(default_factory=dict)


def _unit_notes(inputs: Sequence[LabeledFile]) -> dict[tuple[str, str], str]:
    """Unit metadata of all inputs by (tidied unit, key); a unit given two values for one key is an error."""
    notes: dict[tuple[str, str], tuple[str, str]] = {}
    for item in inputs:
        for note in item.file.unit_notes:
            key = (tidy_unit(note.unit)[0], note.key)
            have = notes.get(key)
            if have is None:
                notes[key] = (note.value, note.unit)
            elif have[0] != note.value:
                raise MapscopeError(
                    f"{item.file.source}:{note.line}",
                    f"unit {note.unit}: {note.key}={note.value} contradicts earlier {note.key}={have[0]}",
                )
    return {key: value for key, (value, _) in notes.items()}


def compare(
    inputs: Sequence[LabeledFile],
    column_key: str = ".file",
    ignore: Sequence[str] = (),
    alpha: float = DEFAULT_ALPHA,
    confidence: float = DEFAULT_CONFIDENCE,
) -> BenchReport:
    """benchstat's tables for these inputs: columns by `column_key`, rows by full name, tables by file
    configuration and unit; `ignore` drops keys from the grouping (a configuration key stops splitting
    tables, a `/key` is removed from row names)."""
    if not 0 <= alpha <= 1:
        raise MapscopeError("--alpha", f"{alpha} is not in [0, 1]")
    if not 0 <= confidence <= 1:
        raise MapscopeError("--confidence", f"{confidence} is not in [0, 1]")
    parse_key(column_key, "col")
    keys = [parse_key(key, "ignore") for key in ignore]
    dropped_config = {key for key in [column_key, *keys] if not key.startswith(("/", "."))}
    dropped_names = [key for key in [column_key, *keys] if key.startswith("/")]
    for item in inputs:
        if not item.file.results:
            raise MapscopeError(item.file.source, "no benchmark results")
    notes = _unit_notes(inputs)

    fields: dict[str, None] = {}
    rows: dict[str, int] = {}
    columns: dict[str, int] = {}
    units: dict[str, int] = {}
    drafts: dict[tuple[frozenset[tuple[str, str]], str], _TableDraft] = {}
    for item in inputs:
        for result in item.file.results:
            row = _row_label(result, dropped_names)
            if column_key == ".file":
                column = item.label
            elif column_key.startswith("/"):
                column = _name_part(result, column_key)
            else:
                column = result.config_value(column_key)
            rows.setdefault(row, len(rows))
            columns.setdefault(column, len(columns))
            config = [(k, v) for k, v in result.config if k not in dropped_config]
            for key, _ in config:
                fields.setdefault(key)
            for metric in result.metrics:
                unit, factor = tidy_unit(metric.unit)
                value = metric.value * factor
                if value == metric.value:
                    # benchfmt keeps the unit as written when tidying leaves the number alone (zero, ...),
                    # so a zero `ns/op` lands in an `ns/op` table of its own, not in `sec/op`.
                    unit = metric.unit
                units.setdefault(unit, len(units))
                draft = drafts.setdefault((frozenset(config), unit), _TableDraft(dict(config), unit))
                draft.cells.setdefault((row, column), []).append(value)

    def order(draft: _TableDraft) -> tuple[tuple[str, ...], int]:
        # benchstat orders tables by configuration values as strings, then units by first appearance.
        return tuple(draft.config.get(key, "") for key in fields), units[draft.unit]

    tables = tuple(
        _table(draft, fields, rows, columns, notes, alpha, confidence)
        for draft in sorted(drafts.values(), key=order)
    )
    return BenchReport(column_key, alpha, confidence, tables)


def _table(
    draft: _TableDraft,
    fields: dict[str, None],
    row_order: dict[str, int],
    column_order: dict[str, int],
    notes: dict[tuple[str, str], str],
    alpha: float,
    confidence: float,
) -> Table:
    tidied = tidy_unit(draft.unit)[0]  # metadata is filed under tidied units
    assumption = Assumption.EXACT if notes.get((tidied, "assume")) == "exact" else Assumption.MEDIAN
    cls = unit_class(draft.unit)
    labels = sorted({row for row, _ in draft.cells}, key=row_order.__getitem__)
    columns = sorted({column for _, column in draft.cells}, key=column_order.__getitem__)
    base = columns[0]
    samples = {key: tuple(sorted(values)) for key, values in draft.cells.items()}
    summaries = {key: summarize(values, assumption, confidence) for key, values in samples.items()}

    table_rows = []
    for label in labels:
        present = [column for column in columns if (label, column) in samples]
        scaler = common_scale([summaries[label, column].center for column in present], cls)
        cells: list[Cell | None] = []
        for column in columns:
            key = (label, column)
            if key not in samples:
                cells.append(None)
                continue
            summary = summaries[key]
            test = delta = pct = None
            if column != base and (label, base) in samples:
                old = summaries[label, base].center
                test = compare_samples(samples[label, base], samples[key], assumption, alpha)
                delta = test.delta_text(old, summary.center)
                pct = (summary.center / old - 1.0) * 100.0 if old != 0 else None
            cells.append(Cell(column, samples[key], summary, scaler.format(summary.center), test, delta, pct))
        table_rows.append(Row(label, tuple(cells)))

    geomeans = None
    if len(labels) > 1:
        with_base = sum(1 for label in labels if (label, base) in samples)
        geomeans = tuple(
            _geomean(column, column == base, labels, base, summaries, with_base, cls) for column in columns
        )
    return Table(
        config=tuple((key, draft.config.get(key, "")) for key in fields),
        unit=draft.unit,
        assumption=assumption,
        better=better_direction(draft.unit, notes),
        columns=tuple(columns),
        rows=tuple(table_rows),
        geomean=geomeans,
    )


def _geomean(
    column: str,
    is_base: bool,
    labels: Sequence[str],
    base: str,
    summaries: dict[tuple[str, str], Summary],
    with_base: int,
    cls: UnitClass,
) -> Geomean:
    """The column's geometric mean of centers and of ratios to the baseline (the mean of ratios, not the
    ratio of means, so differing benchmark sets still give a column-wise figure)."""
    centers: list[float] = []
    ratios: list[float] = []
    zero_base = False
    for label in labels:
        if (label, column) not in summaries:
            continue
        center = summaries[label, column].center
        centers.append(center)
        if is_base or (label, base) not in summaries:
            continue
        old = summaries[label, base].center
        if center == old:
            ratios.append(1.0)
        elif old == 0:
            zero_base = True
            ratios.append(0.0)
        else:
            ratios.append(center / old)
    warnings = []
    if not is_base and with_base != len(ratios):
        warnings.append("benchmark set differs from baseline; geomeans may not be comparable")
    mean = geomean(centers)
    value = None if math.isnan(mean) else mean
    if value is None:
        warnings.append("summaries must be >0 to compute geomean")
    ratio = None
    if not is_base and not zero_base:
        mean_ratio = geomean(ratios)
        ratio = None if math.isnan(mean_ratio) else mean_ratio
        if ratio is None:
            warnings.append("ratios must be >0 to compute geomean")
    delta = None if is_base else ("?" if ratio is None else f"{(ratio - 1) * 100:+.2f}%")
    value_text = None if value is None else scale(value, cls)
    return Geomean(column, value, value_text, ratio, delta, tuple(warnings))
