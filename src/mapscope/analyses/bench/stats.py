"""The statistics of benchstat, bit for bit: medians and their order-statistic confidence intervals, the
Mann-Whitney U test, geometric means, and the summary and comparison of one cell of a table.

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
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources

import numpy as np

from mapscope import gomath
from mapscope.errors import MapscopeError

__all__ = [
    "Assumption",
    "SamplesEqualError",
    "Summary",
    "Test",
    "compare_samples",
    "geomean",
    "go_value",
    "mann_whitney_p",
    "median",
    "median_ci_orders",
    "min_samples_for_ci",
    "min_samples_for_difference",
    "summarize",
]

_EXACT_U_LIMIT = 50  # largest sample for the exact U distribution without ties
_EXACT_U_TIES_LIMIT = 25  # ... and with ties
_EXACT_CI_LIMIT = 30  # largest sample for the binomial (not normal) median interval
_MIN_SAMPLES_SEARCH = 50  # benchstat looks no further for "need >= N samples"
_MIN_P_SEARCH = 9  # ... and for "need >= N samples to detect a difference"


class SamplesEqualError(Exception):
    """The two samples hold one single value between them, so the U test says nothing."""


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
