"""Go's math.Exp and math.Log on amd64, operation for operation.

Numbers mapscope prints must equal what Go tools print: pprof unsamples legacy heap profiles with
math.Exp, and benchstat's geometric means go through math.Log and math.Exp; libm's results differ from
Go's in the last bit often enough to change a printed digit. Exp is exp_amd64.s on CPUs with FMA (any
x86-64 since 2013); Log is the FreeBSD algorithm of src/math/log.go.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

_LOG_COEFFICIENTS = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_LOG_LN2_HI, _LOG_LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634073599246810018920
_EXP_LN2_HI = 0.69314718055966295651160180568695068359375
_EXP_LN2_LO = 0.28235290563031577122588448175013436025525412068e-12
_EXP_OVERFLOW = 7.09782712893384e02
_TAYLOR = (
    2.4801587301587301587e-5,
    1.9841269841269841270e-4,
    1.3888888888888888889e-3,
    8.3333333333333333333e-3,
    4.1666666666666666667e-2,
    1.6666666666666666667e-1,
    0.5,
    1.0,
)


def _bits(value: float) -> int:
    return int.from_bytes(struct.pack(">d", value), "big")


def _from_bits(bits: int) -> float:
    return float(struct.unpack(">d", bits.to_bytes(8, "big"))[0])


def _fma(a: float, b: float, c: float) -> float:
    """a*b+c rounded once, like the FMA instruction (exact rational arithmetic, then one rounding)."""
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def go_exp(x: float) -> float:
    """math.Exp(x) exactly as Go computes it on amd64 with FMA (src/math/exp_amd64.s).

    The argument is reduced by the nearest multiple of ln 2 (k, rounded half to even like CVTSD2SL),
    divided by 16, put through a degree-8 Taylor polynomial for e^r - 1, squared back four times with
    y*(y+2), and scaled by 2^k.
    """
    if math.isnan(x) or x == math.inf:
        return x
    if x == -math.inf:
        return 0.0
    if x > _EXP_OVERFLOW:
        return math.inf
    t = _LOG2E * x
    k = round(t) if abs(t) < 2.0**31 else -(2**31)
    fk = float(k)
    r = _fma(-fk, _EXP_LN2_HI, x)
    r = _fma(-fk, _EXP_LN2_LO, r)
    r *= 0.0625
    p = _TAYLOR[0]
    for c in _TAYLOR[1:]:
        p = _fma(p, r, c)
    y = r * p
    for _ in range(3):
        y = y * (y + 2.0)
    y = _fma(y, y + 2.0, 1.0)
    biased = k + 0x3FF
    if biased <= 0:
        if biased < -52:
            return 0.0
        return (y * math.ldexp(1.0, biased + 0x3FE - 0x3FF)) * math.ldexp(1.0, -1022)
    if biased >= 0x7FF:
        return math.inf
    return y * math.ldexp(1.0, k)


def go_log(x: float) -> float:
    """math.Log(x) exactly as Go computes it (the FreeBSD algorithm, src/math/log.go)."""
    if x == 0:
        return -math.inf
    if x < 0 or math.isnan(x):
        return math.nan
    if math.isinf(x):
        return x
    bits = _bits(x)
    fraction = _from_bits((bits & ((1 << 52) - 1)) | _bits(0.5))  # in [0.5, 1)
    k = float(((bits >> 52) & 0x7FF) - 0x3FE)
    if fraction <= 7.07106781186547524401e-01:
        k -= 1.0
        fraction *= 2.0
    f = fraction - 1
    s = f / (2.0 + f)
    s2 = s * s
    s4 = s2 * s2
    c = _LOG_COEFFICIENTS
    t1 = s2 * (c[0] + s4 * (c[2] + s4 * (c[4] + s4 * c[6])))
    t2 = s4 * (c[1] + s4 * (c[3] + s4 * c[5]))
    half_square = 0.5 * f * f
    return k * _LOG_LN2_HI - ((half_square - (s * (half_square + (t1 + t2)) + k * _LOG_LN2_LO)) - f)
