"""What the oracle measures: cases (map type, hint, operation sequence) and the matrix that covers every rule.

The matrix is chosen so that each rule of the map model is seen from both sides on every target: maps of
up to 8 entries and just past them, every growth threshold of both implementations (buckets grow past
6.5 entries per bucket: 8, 13, 26, 52, ...; swiss tables past 7/8 of their capacity: 14, 28, 56, ...,
896, then split), keys and values of 128 bytes (inline) and 129 (out of line), pointer-free and
pointer-bearing types, zero-size values, interface keys and values with several boxed types, strings,
hints below, at and above N, and deletes, clear and churn. A handful of cases go to 100,000 entries.

`boxed` names the dynamic type stored in interface keys and values (default int). Key number i becomes:
an integer or float type -> i, string -> strconv.Itoa(i), array or struct -> i little-endian in its first
min(size, 8) bytes, or, when those bytes hold pointers, its first element or field numbered the same way;
a pointer or channel key points to an object of its own. Keys are built before measuring; the harness
fails if they collide (bool keys, small integer types). Boxed values are numbered the same way and
converted to the interface at insert time, so what the conversion allocates is measured: nothing for
zero-size, one-byte and pointer-shaped types or for 2-, 4- and 8-byte values below 256 (the runtime's
static table), one object otherwise. Interface keys and values must be interfaces the boxed type
implements, in practice `any`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mapscope.errors import MapscopeError
from mapscope.model.ops import Op, OpKind, parse_ops, validate
from mapscope.model.versions import GoVersion, Target

__all__ = [
    "FIXTURE_TARGETS",
    "LARGE_MATRIX",
    "LARGE_TARGETS",
    "LIVE_SUBSET",
    "LIVE_TARGET",
    "MATRIX",
    "Case",
    "Target",
]

# The largest key count and hint the oracle accepts: enough for real questions, bounded memory.
MAX_KEYS = 10_000_000
MAX_HINT = 100_000_000
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+/=-]*$")


@dataclass(frozen=True)
class Case:
    """One measured workload: `make(type_expr[, hint])`, then `ops`, with `declarations` pasted in."""

    id: str
    type_expr: str
    declarations: str = ""
    hint: int | None = None
    ops: tuple[Op, ...] = ()
    boxed: str | None = None
    track_peak: bool = False

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise MapscopeError(repr(self.id), "a case id uses letters, digits and _ . + / = - only")
        if self.hint is not None and not 0 <= self.hint <= MAX_HINT:
            raise MapscopeError("--hint", f"{self.hint} is outside 0..{MAX_HINT}")
        validate(self.ops)
        if self.inserts > MAX_KEYS:
            raise MapscopeError(
                "--ops", f"{self.inserts} inserts in all; the oracle measures up to {MAX_KEYS}"
            )

    @property
    def inserts(self) -> int:
        return sum(op.count for op in self.ops if op.kind is OpKind.INSERT)

    @property
    def ops_text(self) -> str:
        return "; ".join(str(op) for op in self.ops)

    @property
    def boxed_type(self) -> str:
        return self.boxed or "int"


def _case(
    id: str,
    type_expr: str,
    ops: str = "",
    *,
    hint: int | None = None,
    boxed: str | None = None,
    peak: bool = False,
    declarations: str = "",
) -> Case:
    parsed = parse_ops(ops) if ops.strip() else ()
    return Case(id, type_expr, declarations, hint, parsed, boxed, peak)


def _walk(points: tuple[int, ...]) -> str:
    """Insert ops that stop at each of `points`, so one case reads the map at every one of them."""
    steps, previous = [], 0
    for point in points:
        steps.append(f"insert {point - previous}")
        previous = point
    return "; ".join(steps)


# Both sides of every growth threshold of both implementations, up to 1000 entries.
WALK_POINTS: tuple[int, ...] = (
    1, 7, 8, 9, 13, 14, 15, 26, 27, 28, 29, 52, 53, 56, 57, 104, 105, 112, 113,
    208, 209, 224, 225, 416, 417, 448, 449, 832, 833, 896, 897, 1000,
)  # fmt: skip
_WALK = _walk(WALK_POINTS)

_POINT = "type Point struct {\n\tX, Y int32\n\tTag  uint16\n}\n"
_RECORD = "type Record struct {\n\tName string\n\tData [120]byte\n}\n"
_ANY_KEY = "type AnyKey interface{}\n"

MATRIX: tuple[Case, ...] = (
    # Controls: nothing but the map header may be allocated.
    _case("control/make", "map[int]int"),
    _case("control/noop", "map[int]int", "insert 0; delete 0"),
    _case("control/hint0", "map[int]int", "insert 0", hint=0),
    # Growth walks: pointer-free and pointer-bearing, small and large slots, inline and out-of-line.
    _case("walk/int-int", "map[int]int", _WALK, peak=True),
    _case("walk/int-ptr", "map[int]*int", _WALK),
    _case("walk/string-int", "map[string]int", _WALK, peak=True),
    _case("walk/string-string", "map[string]string", _WALK),
    _case("walk/int32-empty", "map[int32]struct{}", _WALK),
    _case("walk/uint16-uint8", "map[uint16]uint8", _WALK),
    _case("walk/arr16-empty", "map[[16]byte][0]int64", _WALK),
    _case("walk/int-arr128", "map[int][128]byte", _WALK),
    _case("walk/int-arr129", "map[int][129]byte", _WALK, peak=True),
    _case("walk/arr128-int", "map[[128]byte]int", _WALK),
    _case("walk/arr129-int", "map[[129]byte]int", _WALK),
    _case("walk/any-int", "map[any]int", _WALK),
    _case("walk/int-any", "map[int]any", _WALK),
    _case("walk/point-float", "map[Point]float64", _WALK, declarations=_POINT),
    _case("walk/int-record", "map[int]Record", _WALK, declarations=_RECORD),
    # Hints: below, at and above the number of entries, on both sides of 8 and of growth thresholds.
    *(
        _case(f"hint/int-int-{hint}", "map[int]int", f"insert {hint}; insert 1", hint=hint)
        for hint in (0, 1, 7, 8, 9, 13, 14, 15, 16, 27, 57, 100, 1024, 1025)
    ),
    _case("hint/int-int-1000-n10", "map[int]int", "insert 10", hint=1000),
    _case("hint/int-int-100000-n100", "map[int]int", "insert 100; insert 99900; insert 1", hint=100_000),
    _case("hint/string-int-100", "map[string]int", "insert 100; insert 1", hint=100),
    _case("hint/int-arr129-50", "map[int][129]byte", "insert 50; insert 1", hint=50),
    _case("hint/any-any-300", "map[any]any", "insert 300", hint=300),
    _case("hint/int-empty-1000", "map[int]struct{}", "insert 5", hint=1000),
    _case("hint/arr129-int-20", "map[[129]byte]int", "insert 3", hint=20),
    # Interface keys and values: boxes below 256 are free, tiny boxes share blocks, other types allocate.
    _case("iface/any-int-static-edge", "map[any]int", "insert 255; insert 1; insert 44"),
    _case("iface/any-int-peak", "map[any]int", "insert 300", peak=True),
    _case("iface/any-int-string", "map[any]int", "insert 100", boxed="string"),
    _case("iface/any-int-arr32", "map[any]int", "insert 100", boxed="[32]byte"),
    _case("iface/any-int-arr8", "map[any]int", "insert 50", boxed="[8]byte"),
    _case("iface/any-bool-uint8", "map[any]bool", "insert 200", boxed="uint8"),
    _case("iface/any-int-int16", "map[any]int", "insert 255; insert 1; insert 50", boxed="int16"),
    _case("iface/any-int-point", "map[any]int", "insert 40", boxed="Point", declarations=_POINT),
    _case("iface/anykey-int64", "map[AnyKey]int64", "insert 20", declarations=_ANY_KEY),
    _case("iface/interface-int", "map[interface{}]int", "insert 9"),
    _case("iface/int-any-string", "map[int]any", "insert 100; delete 50", boxed="string"),
    _case("iface/any-any", "map[any]any", "insert 300; delete 100; clear"),
    # Deletes, clear and churn.
    _case("churn/small", "map[int]int", "insert 8; delete 1; insert 1; delete 8; insert 9; clear; insert 8"),
    _case("churn/int-int-delete-all", "map[int]int", "insert 1000; delete 1000; insert 1000"),
    _case("churn/int-int-clear", "map[int]int", "insert 1000; clear; insert 1000", peak=True),
    _case(
        "churn/int-int-cycles",
        "map[int]int",
        "insert 100; delete 50; insert 50; delete 50; insert 50; delete 50; insert 50; delete 50; insert 50",
    ),
    _case("churn/tombstones", "map[int]int", "insert 896; delete 448; insert 448; delete 448; insert 448"),
    _case("churn/string-arr129", "map[string][129]byte", "insert 100; delete 60; clear; insert 10"),
    _case("churn/arr129-int", "map[[129]byte]int", "insert 50; delete 50; insert 5"),
    _case("churn/int-ptr-clear", "map[int]*int", "insert 5000; clear; insert 10"),
    _case("churn/any-int", "map[any]int", "insert 1000; delete 500; clear"),
    _case(
        "churn/int-int-20000",
        "map[int]int",
        "insert 20000; delete 10000; insert 10000; delete 10000; insert 10000",
        peak=True,
    ),
    # Large maps.
    _case("large/int-int-100000", "map[int]int", "insert 100000", peak=True),
    _case("large/string-ptr-100000", "map[string]*int", "insert 100000"),
    _case("large/int64-arr16-hint-100000", "map[int64][16]byte", "insert 100000", hint=100_000),
    _case("large/any-int-50000", "map[any]int", "insert 50000"),
    _case("large/int-arr129-20000", "map[int][129]byte", "insert 20000", peak=True),
)

_LIVE_IDS = (
    "control/make",
    "control/noop",
    "hint/int-int-9",
    "hint/string-int-100",
    "iface/any-int-static-edge",
    "churn/small",
)
LIVE_SUBSET: tuple[Case, ...] = tuple(case for case in MATRIX if case.id in _LIVE_IDS)

FIXTURE_TARGETS: tuple[Target, ...] = tuple(
    Target(GoVersion.from_release(release), noswissmap)
    for release, noswissmap in (
        ("1.22.10", False),
        ("1.23.9", False),
        ("1.24.11", False),
        ("1.24.11", True),
        ("1.25.5", False),
        ("1.25.5", True),
        ("1.26.6", False),
        ("1.27.3", False),
    )
)
LIVE_TARGET = Target(GoVersion.from_release("1.27.3"))


def _large(name: str, type_expr: str, n: int, hint: int | None = None) -> Case:
    suffix = "" if hint is None else f"-hint-{hint}"
    return _case(f"seeds/{name}-{n}{suffix}", type_expr, f"insert {n}", hint=hint)


# Swiss tables split by hash bits, so without a hint the number of tables at large N depends on the seed
# (what delete and clear leave is the same structure). Measured on the Swiss releases with many
# repetitions, each a fresh map (a fresh seed).
LARGE_MATRIX: tuple[Case, ...] = (
    *(_large("int-int", "map[int]int", n) for n in (100_000, 1_000_000)),
    _case("seeds/ten-million-int-int", "map[int]int", "insert 10000000"),
    *(_large("string-int", "map[string]int", n) for n in (100_000, 1_000_000)),
    *(_large("int-arr128", "map[int][128]byte", n) for n in (100_000, 1_000_000)),
    *(_large("any-any", "map[any]any", n) for n in (100_000, 1_000_000)),
    _large("int-int", "map[int]int", 1_000_000, hint=1_000_000),
    _large("string-int", "map[string]int", 1_000_000, hint=1_000_000),
    # What `mapscope size` calls churn: every key deleted, then as many new ones inserted.
    _case("seeds/churn-int-int-1000000", "map[int]int", "insert 1000000; delete 1000000; insert 1000000"),
)
LARGE_TARGETS: tuple[Target, ...] = tuple(
    Target(GoVersion.from_release(release)) for release in ("1.24.11", "1.25.5", "1.26.6", "1.27.3")
)
