"""How many overflow buckets a bucket map needs: the one part of its layout the hash seed decides.

n keys spread over M buckets; a bucket holding L keys needs ceil(L/8) - 1 overflow buckets. The count
over all buckets has a known mean and variance (loads are binomial, Poisson for large n); `luck` picks a
quantile: exact for M <= 2, from the normal approximation otherwise (a slightly wide one, since the
negative correlation between buckets' loads is ignored).
"""

from __future__ import annotations

import math
import random
from functools import lru_cache
from statistics import NormalDist

SLOTS = 8
_EXACT_LIMIT = 4096
_POISSON_BELOW = 25.0


def _overflow_of(load: int) -> int:
    return max(0, -(-load // SLOTS) - 1)


@lru_cache(maxsize=4096)
def _load_pmf(n: int, buckets: int) -> tuple[float, ...]:
    """P(one bucket holds k keys) for k = 0, 1, ... until the tail is negligible."""
    if buckets == 1:
        return tuple([0.0] * n + [1.0])
    p = 1.0 / buckets
    pmf: list[float] = []
    if n <= _EXACT_LIMIT:
        log_q = math.log1p(-p)
        for k in range(n + 1):
            log_term = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            pmf.append(math.exp(log_term + k * math.log(p) + (n - k) * log_q))
            if k > n * p and pmf[-1] < 1e-18:
                break
        return tuple(pmf)
    mean = n * p
    term = math.exp(-mean)
    k = 0
    while True:
        pmf.append(term)
        k += 1
        term *= mean / k
        if k > mean and term < 1e-18:
            return tuple(pmf)


def _chain_cdf(n: int, buckets: int) -> list[float]:
    """P(a bucket needs at most j overflow buckets) for j = 0, 1, ..."""
    pmf = _load_pmf(n, buckets)
    cdf = [0.0] * (_overflow_of(len(pmf) - 1) + 1)
    for k, prob in enumerate(pmf):
        cdf[_overflow_of(k)] += prob
    for j in range(1, len(cdf)):
        cdf[j] += cdf[j - 1]
    return cdf


@lru_cache(maxsize=4096)
def overflow_moments(n: int, buckets: int, previous: int = 0) -> tuple[float, float]:
    """Mean and variance of the overflow buckets attached after n keys in `buckets` buckets.

    `previous`: keys the array held under an earlier hash seed; chains never shrink, so each bucket
    keeps the longer of its two chains.
    """
    now, before = _chain_cdf(n, buckets), _chain_cdf(previous, buckets)
    longest = max(len(now), len(before))

    def at(cdf: list[float], j: int) -> float:
        return cdf[j] if j < len(cdf) else 1.0

    pmf = [
        at(now, j) * at(before, j) - (at(now, j - 1) * at(before, j - 1) if j else 0.0)
        for j in range(longest)
    ]
    mean = sum(j * prob for j, prob in enumerate(pmf))
    square = sum(j * j * prob for j, prob in enumerate(pmf))
    return buckets * mean, buckets * max(0.0, square - mean * mean)


def overflow_needed(n: int, buckets: int, luck: float, previous: int = 0) -> int:
    """The `luck` quantile of the overflow buckets attached for n keys (see overflow_moments)."""
    if max(n, previous) <= SLOTS:
        return 0
    if buckets <= 2 and previous == 0:
        return _exact_small(n, buckets, luck)
    mean, variance = overflow_moments(n, buckets, previous)
    if variance == 0.0:
        return round(mean)
    if mean < _POISSON_BELOW:
        return _poisson_quantile(mean, luck)
    value = mean + NormalDist().inv_cdf(luck) * math.sqrt(variance)
    return max(0, round(value))


def _poisson_quantile(mean: float, luck: float) -> int:
    """Rare overflow is a count of rare events: its quantiles follow a Poisson law, not a normal one."""
    term = cumulative = math.exp(-mean)
    k = 0
    while cumulative < luck:
        k += 1
        term *= mean / k
        cumulative += term
    return k


def _exact_small(n: int, buckets: int, luck: float) -> int:
    if buckets == 1:
        return _overflow_of(n)
    outcomes: dict[int, float] = {}
    for k, prob in enumerate(_load_pmf(n, 2)):
        total = _overflow_of(k) + _overflow_of(n - k)
        outcomes[total] = outcomes.get(total, 0.0) + prob
    cumulative = 0.0
    for total in sorted(outcomes):
        cumulative += outcomes[total]
        if cumulative >= luck:
            return total
    return max(outcomes)


_TRIALS = 300
_SIMULATE_UP_TO = 64


@lru_cache(maxsize=64)
def _evacuation_trials(old_buckets: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Completion times of incremental evacuation, and the mean share evacuated after each write.

    For small arrays the process is replayed with a fixed pseudo-random sequence (so the answer is the
    same every time): each write evacuates the bucket its key hashes to, then the bucket at the mark;
    evacuating the bucket at the mark moves the mark past every bucket already done.
    """
    rng = random.Random(old_buckets)
    finish: list[int] = []
    totals = [0.0] * (old_buckets + 1)
    for _ in range(_TRIALS):
        done = bytearray(old_buckets)
        mark = evacuated = writes = 0
        while mark < old_buckets:
            writes += 1
            for hashed in (True, False):
                if mark >= old_buckets:
                    break
                bucket = rng.randrange(old_buckets) if hashed else mark
                if not done[bucket]:
                    done[bucket] = 1
                    evacuated += 1
                if bucket == mark:
                    mark += 1
                    while mark < old_buckets and done[mark]:
                        mark += 1
            totals[writes] += evacuated
        finish.append(writes)
        for later in range(writes + 1, old_buckets + 1):
            totals[later] += old_buckets
    share = tuple(total / (_TRIALS * old_buckets) for total in totals)
    return tuple(sorted(finish)), share


def evacuated_fraction(writes: int, old_buckets: int) -> float:
    """Expected share of old buckets evacuated after `writes` writes (see evacuation_ops)."""
    if old_buckets <= _SIMULATE_UP_TO:
        _, share = _evacuation_trials(old_buckets)
        return share[min(writes, old_buckets)]
    ratio = writes / old_buckets
    mark = min(1.0, math.exp(ratio) - 1.0)
    return min(1.0, mark + (1.0 - mark) * (1.0 - math.exp(-ratio)))


def evacuation_ops(old_buckets: int, luck: float) -> int:
    """Writes (inserts or deletes, the growing one included) until incremental evacuation completes.

    Each write evacuates the bucket it hashes to and the bucket at the mark; the mark skips buckets
    already done, so it reaches the end after about M ln 2 writes, never fewer than M/2.
    """
    if old_buckets <= _SIMULATE_UP_TO:
        finish, _ = _evacuation_trials(old_buckets)
        return finish[min(len(finish) - 1, int(luck * len(finish)))]
    spread = 0.5 * math.sqrt(old_buckets)
    value = round(old_buckets * math.log(2) + NormalDist().inv_cdf(luck) * spread)
    return min(old_buckets, max(-(-old_buckets // 2), value))


def binomial_quantile(n: int, p: float, luck: float) -> int:
    """The `luck` quantile of Binomial(n, p): e.g. how many of n old overflow buckets are not evacuated yet."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if n > _EXACT_LIMIT:
        value = n * p + NormalDist().inv_cdf(luck) * math.sqrt(n * p * (1.0 - p))
        return min(n, max(0, round(value)))
    log_q = math.log1p(-p)
    cumulative = 0.0
    for k in range(n + 1):
        log_term = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        cumulative += math.exp(log_term + k * math.log(p) + (n - k) * log_q)
        if cumulative >= luck:
            return k
    return n
