"""Records from a Go program's stderr run with GODEBUG=gctrace=1|2, gcpacertrace=1 and scavtrace=1.

The runtime prints these lines under its print lock, so each starts a line of its own unless the program
left a partial line of its own output on stderr; everything else on the stream is the program's business.
Lines whose prefix promises a trace line but whose body does not match any known layout come back as
`UnrecognizedLine`, so callers can tell "nothing to see" from "a format we do not know"; trace lines glued
behind unterminated program output are rescued.

The reader is columnar: a log of millions of lines becomes one `GctraceLog`, a numpy table per kind of
line, and record objects are built only when asked for (`GctraceLog.records`, `GcColumns.record`). Each
block of input is parsed at once: lines are sorted by their first bytes, and every line of a kind is
matched against its layout together with the others (readers/bytecursor.py). Lines that layout pass
refuses go through the exact per-line regular expressions, which decide what they are.

Values keep the log's own units and rounding, as exact integers: durations are microseconds together with
the number of decimals printed (`0.058` is 58 µs to 3 decimals, `2.7` is 2700 µs to 1, `133` is 133000 µs
to 0: fmtNSAsMS prints at most three), so the text and the `Decimal` the records carry are exactly the
printed ones; the start time is milliseconds (always printed to three decimals); sizes are the printed
integers (MB for the gc line, bytes/MB/KiB where the pacer and scavenger print those). Pacer floats are
`float`: the runtime prints binary floats, either as `+8.734396e-001` (Go <= 1.25) or shortest round-trip
`0.8734396` (1.26+). Numbers must fit a signed 64-bit integer (durations: 15 digits before the point),
which holds everything the runtime prints; a line with larger ones is unrecognized.

Input is read in bounded chunks and lines are capped, so binary garbage or a gigabyte without a newline
costs time linear in its size and memory bounded by the chunk size plus the line cap, plus the columns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar, Final, Generic, Protocol, Self, TypeVar

import numpy as np
import numpy.typing as npt

from mapscope.arrays import Bools, Ints
from mapscope.readers.bytecursor import FLOAT_TEXT, PAD, PADDING, Buffer, LineCursor

CHUNK_BYTES: Final = 4 << 20
# The longest real trace line is about 230 bytes; a line far beyond that is not one.
MAX_LINE_BYTES: Final = 1 << 16
_UNRECOGNIZED_TEXT_CHARS: Final = 240
_INT64_MAX: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class GcCycle:
    """One `gc N @Ts P%: …` line: every field exactly as printed (`line` is the 1-based line number)."""

    line: int
    number: int
    start_s: Decimal
    cpu_percent: int
    leak_check: bool
    sweep_term_ms: Decimal
    mark_ms: Decimal
    mark_term_ms: Decimal
    sweep_term_cpu_ms: Decimal
    assist_cpu_ms: Decimal
    background_cpu_ms: Decimal
    idle_cpu_ms: Decimal
    mark_term_cpu_ms: Decimal
    heap_before_mb: int
    heap_after_mb: int
    heap_live_mb: int
    heap_goal_mb: int
    stacks_mb: int | None
    globals_mb: int | None
    procs: int
    forced: bool


@dataclass(frozen=True, slots=True)
class GcForced:
    """`GC forced`: the periodic (2-minute) GC; the next gc line belongs to it and is not marked forced."""

    line: int


@dataclass(frozen=True, slots=True)
class PacerAssist:
    """`pacer: assist ratio=…`, printed when a cycle starts, before its gc line."""

    line: int
    assist_ratio: float
    scan_mb: int
    heap_start_mb: int
    heap_goal_mb: int
    dedicated_workers: int
    fractional_goal: float


@dataclass(frozen=True, slots=True)
class PacerCycleEnd:
    """`pacer: U% CPU (E exp.) for …`, printed when marking ends (not for user-forced cycles)."""

    line: int
    cpu_percent: int
    cpu_goal_percent: int
    heap_scan_b: int
    stack_scan_b: int
    globals_scan_b: int
    expected_scan_b: int
    trigger_b: int
    live_b: int
    goal_delta_b: int
    cons_mark: float


@dataclass(frozen=True, slots=True)
class PacerSweepDone:
    """`pacer: sweep done at heap size …`, printed when a cycle's background sweeping finishes."""

    line: int
    heap_mb: int
    allocated_mb: int
    pages_swept: int
    pages_per_byte: float


@dataclass(frozen=True, slots=True)
class ScavLine:
    """`scav …` (scavtrace=1); `released_kib` is the field printed as `KiB now` (heap released to the OS)."""

    line: int
    bg_kib: int
    eager_kib: int
    released_kib: int
    util_percent: int
    forced: bool
    controller_reset: bool


@dataclass(frozen=True, slots=True)
class ScanTotal:
    """`scan: total …` (gctrace=2, Go 1.25+). The span breakdown exists only with the Green Tea collector."""

    line: int
    objs: int
    sparse_objs: int | None
    span_sparse_objs: int | None
    span_dense_objs: int | None
    sparse_spans: int | None
    dense_spans: int | None
    spans: int | None


@dataclass(frozen=True, slots=True)
class ScanClass:
    """`scan: class 16B …` / `scan: class L …`; `size_b` is None for large objects (`L`)."""

    line: int
    size_b: int | None
    objs: int
    sparse_objs: int | None
    span_sparse_objs: int | None
    span_dense_objs: int | None
    sparse_spans: int | None
    dense_spans: int | None
    spans: int | None


@dataclass(frozen=True, slots=True)
class UnrecognizedLine:
    """A line that starts like a trace line but matches no known layout (text cut to a few hundred chars)."""

    line: int
    text: str


PacerLine = PacerAssist | PacerCycleEnd | PacerSweepDone
Gctrace2Line = ScanTotal | ScanClass
GctraceRecord = GcCycle | GcForced | PacerLine | ScavLine | Gctrace2Line | UnrecognizedLine

# The patterns use possessive quantifiers: every number is followed by a fixed non-digit, so giving
# digits back can never help a match, and not offering to makes matching a quarter faster. Integers are
# at most 19 digits and checked against the int64 range after conversion.
_INT = r"(\d{1,19}+)"
_SIGNED = r"(-?\d{1,19}+)"
# fmtNSAsMS prints whole milliseconds from 10 ms on, else two significant digits with at most three decimals.
_MS = r"(\d{1,15}+(?:\.\d{1,3}+)?+)"
_F = "(" + FLOAT_TEXT + ")"
_GC_RE: Final = re.compile(
    rf"gc {_INT} @(\d{{1,15}}+\.\d{{3}})s {_INT}%( \(checking for goroutine leaks\))?+: "
    rf"{_MS}\+{_MS}\+{_MS} ms clock, "
    rf"{_MS}\+{_MS}/{_MS}/{_MS}\+{_MS} ms cpu, "
    rf"{_INT}->{_INT}->{_INT} MB, {_INT} MB goal, (?:{_INT} MB stacks, {_INT} MB globals, )?+{_INT} P"
    r"( \(forced\))?+",
    re.ASCII,
)
# Only numbers this long can be out of the int64 range.
_LONG_NUMBER_RE: Final = re.compile(r"\d{19}", re.ASCII)
# Where a gc line starts when it is glued behind program output.
_GC_START_RE: Final = re.compile(r"gc \d++ @\d++\.\d{3}s ", re.ASCII)
_PACER_ASSIST_RE: Final = re.compile(
    rf"pacer: assist ratio={_F} \(scan {_INT} MB in {_INT}->{_INT} MB\) workers={_INT}\+{_F}", re.ASCII
)
_PACER_END_RE: Final = re.compile(
    rf"pacer: {_SIGNED}% CPU \({_INT} exp\.\) for {_INT}\+{_INT}\+{_INT} B work \({_INT} B exp\.\) "
    rf"in {_INT} B -> {_INT} B \(\u2206goal {_SIGNED}, cons/mark {_F}\)",
    re.ASCII,
)
_PACER_SWEEP_RE: Final = re.compile(
    rf"pacer: sweep done at heap size {_INT}MB; allocated {_INT}MB during sweep; "
    rf"swept {_INT} pages at {_F} pages/byte",
    re.ASCII,
)
_SCAV_RE: Final = re.compile(
    rf"scav {_INT} KiB work \(bg\), {_INT} KiB work \(eager\), {_INT} KiB now, {_INT}% util"
    r"( \(forced\)| \[controller reset\])?+",
    re.ASCII,
)
# Go 1.25 without Green Tea prints only object counts; Green Tea (1.25 experiment, 1.26+ default) adds
# `a+b+c=n objs, x+y=m spans`.
_SCAN_RE: Final = re.compile(
    rf"scan: (?:total|class (?:{_INT}B|L)) "
    rf"(?:{_INT} objs|{_INT}\+{_INT}\+{_INT}={_INT} objs, {_INT}\+{_INT}={_INT} spans)",
    re.ASCII,
)
_PREFIXES: Final = ("gc ", "pacer: ", "scav ", "scan: ", "GC forced")
# Substrings that betray a trace line glued behind program output; each valid trace line of the kind
# named holds exactly one.
_GLUE_MARKERS: Final = (" ms clock, ", "pacer: ", " KiB work (bg), ")


def ms_decimal(micros: int, decimals: int) -> Decimal:
    """The `Decimal` milliseconds a duration was printed as, from its microseconds and decimals."""
    return Decimal(micros // 10 ** (3 - decimals)).scaleb(-decimals)


def _ms_parts(value: Decimal) -> tuple[int, int]:
    """(microseconds, decimals) of a printed duration: the inverse of `ms_decimal`."""
    exponent = value.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return int(value.scaleb(3)), decimals


def _int_or_none(text: str | None) -> int | None:
    return None if text is None else int(text)


def _parse_gc(line: str, number: int) -> GcCycle | None:
    match = _GC_RE.fullmatch(line)
    if match is None:
        return None
    g = match.groups()
    ms = [Decimal(text) for text in g[4:12]]
    return GcCycle(
        number,
        int(g[0]),
        Decimal(g[1]),
        int(g[2]),
        g[3] is not None,
        ms[0],
        ms[1],
        ms[2],
        ms[3],
        ms[4],
        ms[5],
        ms[6],
        ms[7],
        int(g[12]),
        int(g[13]),
        int(g[14]),
        int(g[15]),
        _int_or_none(g[16]),
        _int_or_none(g[17]),
        int(g[18]),
        g[19] is not None,
    )


def _parse_pacer(line: str, number: int) -> PacerLine | None:
    kind = line[7:8]
    if kind == "a":
        match = _PACER_ASSIST_RE.fullmatch(line)
        if match is None:
            return None
        g = match.groups()
        return PacerAssist(number, float(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), float(g[5]))
    if kind == "s":
        match = _PACER_SWEEP_RE.fullmatch(line)
        if match is None:
            return None
        g = match.groups()
        return PacerSweepDone(number, int(g[0]), int(g[1]), int(g[2]), float(g[3]))
    match = _PACER_END_RE.fullmatch(line)
    if match is None:
        return None
    g = match.groups()
    v = [int(text) for text in g[:9]]
    return PacerCycleEnd(number, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], float(g[9]))


def _parse_scav(line: str, number: int) -> ScavLine | None:
    match = _SCAV_RE.fullmatch(line)
    if match is None:
        return None
    bg, eager, released, util, suffix = match.groups()
    return ScavLine(
        number,
        int(bg),
        int(eager),
        int(released),
        int(util),
        suffix == " (forced)",
        suffix == " [controller reset]",
    )


def _parse_scan(line: str, number: int) -> Gctrace2Line | None:
    match = _SCAN_RE.fullmatch(line)
    if match is None:
        return None
    size, plain_objs, sparse, span_sparse, span_dense, objs, sparse_spans, dense_spans, spans = match.groups()
    total = int(plain_objs if plain_objs is not None else objs)
    parts = (
        _int_or_none(sparse),
        _int_or_none(span_sparse),
        _int_or_none(span_dense),
        _int_or_none(sparse_spans),
        _int_or_none(dense_spans),
        _int_or_none(spans),
    )
    if line[6:11] == "total":
        return ScanTotal(number, total, *parts)
    return ScanClass(number, _int_or_none(size), total, *parts)


def _fits_int64(record: GctraceRecord) -> bool:
    return all(
        not isinstance(value, int) or abs(value) <= _INT64_MAX
        for value in (getattr(record, f.name) for f in fields(record))
    )


def parse_line(line: str, number: int) -> GctraceRecord | None:
    """The record for one line without its newline, None for foreign output.

    `number` is the line's 1-based position in its stream and becomes the record's `line`. This is the
    exact reference the block parser must agree with.
    """
    if line.startswith(_PREFIXES):
        return _parse_prefixed(line, number)
    if any(marker in line for marker in _GLUE_MARKERS):
        return _parse_glued(line, number)
    return None


def _parse_prefixed(line: str, number: int) -> GctraceRecord:
    # Every pattern caps its numbers, so a match fails within a few hundred characters of any line.
    record: GctraceRecord | None
    head = line[:3]
    if head == "gc ":
        record = _parse_gc(line, number)
    elif head == "pac":
        record = _parse_pacer(line, number)
    elif line[:4] == "scav":
        record = _parse_scav(line, number)
    elif head == "sca":
        record = _parse_scan(line, number)
    else:
        record = GcForced(number) if line == "GC forced" else None
    if record is None or (_LONG_NUMBER_RE.search(line) is not None and not _fits_int64(record)):
        return UnrecognizedLine(number, line[:_UNRECOGNIZED_TEXT_CHARS])
    return record


def _parse_glued(line: str, number: int) -> GctraceRecord | None:
    """A trace line behind program output that lacked a newline, or None when the tail is not one."""
    gc_start = _GC_START_RE.search(line)
    starts = [gc_start.start()] if gc_start is not None else []
    starts += [at for at in (line.find("pacer: "), line.rfind("scav ")) if at > 0]
    for start in starts:
        record = _parse_prefixed(line[start:], number)
        if not isinstance(record, UnrecognizedLine):
            return record
    return None


@dataclass(frozen=True)
class _Table:
    """Columns of one kind of line: every field a numpy array with one row per line, in line order."""

    line: Ints

    def __len__(self) -> int:
        return len(self.line)

    def take(self, rows: Ints) -> Self:
        """The table of the given rows."""
        return type(self)(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self:
        """Tables of consecutive stretches of a log (each in line order) as one."""
        if len(parts) == 1:
            return parts[0]
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def merged(self, other: Self) -> Self:
        """Both tables' rows as one table in line order."""
        if not len(other):
            return self
        joined = type(self).concat([self, other])
        return joined.take(np.argsort(joined.line, kind="stable"))


class _Rows(Protocol):
    def __len__(self) -> int: ...

    def take(self, rows: Ints) -> Self: ...


_T = TypeVar("_T", bound=_Rows)


def _ints(values: Sequence[int | None], missing: int = -1) -> Ints:
    return np.array([missing if v is None else v for v in values], dtype=np.int64)


@dataclass(frozen=True)
class GcColumns(_Table):
    """The gc lines. Durations are exact microseconds (`*_us`), with the decimals each was printed with in
    `decimals` (one row per line, one column per duration in field order); `start_ms` is the `@T s` start
    in milliseconds; `stacks_mb` and `globals_mb` are -1 where the line has no such fields."""

    DURATIONS: ClassVar[tuple[str, ...]] = (
        "sweep_term_us",
        "mark_us",
        "mark_term_us",
        "sweep_term_cpu_us",
        "assist_cpu_us",
        "background_cpu_us",
        "idle_cpu_us",
        "mark_term_cpu_us",
    )

    line: Ints
    number: Ints
    start_ms: Ints
    cpu_percent: Ints
    leak_check: Bools
    sweep_term_us: Ints
    mark_us: Ints
    mark_term_us: Ints
    sweep_term_cpu_us: Ints
    assist_cpu_us: Ints
    background_cpu_us: Ints
    idle_cpu_us: Ints
    mark_term_cpu_us: Ints
    decimals: npt.NDArray[np.int8]
    heap_before_mb: Ints
    heap_after_mb: Ints
    heap_live_mb: Ints
    heap_goal_mb: Ints
    stacks_mb: Ints
    globals_mb: Ints
    procs: Ints
    forced: Bools

    def duration(self, name: str, row: int) -> Decimal:
        """One duration of one line as the `Decimal` milliseconds printed."""
        column = self.DURATIONS.index(name)
        return ms_decimal(int(getattr(self, name)[row]), int(self.decimals[row, column]))

    def record(self, row: int) -> GcCycle:
        stacks, globals_mb = int(self.stacks_mb[row]), int(self.globals_mb[row])
        ms = [self.duration(name, row) for name in self.DURATIONS]
        return GcCycle(
            int(self.line[row]),
            int(self.number[row]),
            Decimal(int(self.start_ms[row])).scaleb(-3),
            int(self.cpu_percent[row]),
            bool(self.leak_check[row]),
            ms[0],
            ms[1],
            ms[2],
            ms[3],
            ms[4],
            ms[5],
            ms[6],
            ms[7],
            int(self.heap_before_mb[row]),
            int(self.heap_after_mb[row]),
            int(self.heap_live_mb[row]),
            int(self.heap_goal_mb[row]),
            None if stacks < 0 else stacks,
            None if globals_mb < 0 else globals_mb,
            int(self.procs[row]),
            bool(self.forced[row]),
        )

    @classmethod
    def from_records(cls, records: Sequence[GcCycle]) -> GcColumns:
        durations = [[_ms_parts(getattr(r, name)) for name in _MS_FIELDS] for r in records]
        micros = np.array([[us for us, _ in row] for row in durations], dtype=np.int64).reshape(-1, 8)
        decimals = np.array([[d for _, d in row] for row in durations], dtype=np.int8).reshape(-1, 8)
        return cls(
            line=_ints([r.line for r in records]),
            number=_ints([r.number for r in records]),
            start_ms=_ints([int(r.start_s.scaleb(3)) for r in records]),
            cpu_percent=_ints([r.cpu_percent for r in records]),
            leak_check=np.array([r.leak_check for r in records], dtype=np.bool_),
            **{name: micros[:, column] for column, name in enumerate(cls.DURATIONS)},
            decimals=decimals,
            heap_before_mb=_ints([r.heap_before_mb for r in records]),
            heap_after_mb=_ints([r.heap_after_mb for r in records]),
            heap_live_mb=_ints([r.heap_live_mb for r in records]),
            heap_goal_mb=_ints([r.heap_goal_mb for r in records]),
            stacks_mb=_ints([r.stacks_mb for r in records]),
            globals_mb=_ints([r.globals_mb for r in records]),
            procs=_ints([r.procs for r in records]),
            forced=np.array([r.forced for r in records], dtype=np.bool_),
        )


# The record's field of each duration column.
_MS_FIELDS: Final = tuple(name.removesuffix("_us") + "_ms" for name in GcColumns.DURATIONS)


# The kinds of line whose record is flat (ints, floats, bools), so that its columns are its fields, one for one.
Flat = TypeVar("Flat", PacerAssist, PacerCycleEnd, PacerSweepDone, ScavLine)

_DTYPES: Final = {"int": np.int64, "float": np.float64, "bool": np.bool_}


@dataclass(frozen=True)
class RecordColumns(Generic[Flat]):
    """The lines of one flat kind: a numpy array per field of its record (`kind`), named and typed after
    the field, in the record's field order, one row per line in line order. The record is the only
    declaration of the columns."""

    kind: type[Flat]
    columns: dict[str, npt.NDArray[Any]]

    @property
    def line(self) -> Ints:
        line: Ints = self.columns["line"]
        return line

    def column(self, name: str) -> npt.NDArray[Any]:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["line"])

    @classmethod
    def of(cls, kind: type[Flat], *arrays: npt.NDArray[Any]) -> RecordColumns[Flat]:
        """The columns of `kind` from one array per field, in field order."""
        names = [f.name for f in fields(kind)]
        return cls(kind, dict(zip(names, arrays, strict=True)))

    @classmethod
    def from_records(cls, kind: type[Flat], records: Sequence[Flat]) -> RecordColumns[Flat]:
        columns: dict[str, npt.NDArray[Any]] = {
            f.name: np.array([getattr(r, f.name) for r in records], dtype=_DTYPES[str(f.type)])
            for f in fields(kind)
        }
        return cls(kind, columns)

    def record(self, row: int) -> Flat:
        return self.kind(*(column[row].item() for column in self.columns.values()))

    def take(self, rows: Ints) -> RecordColumns[Flat]:
        """The table of the given rows."""
        return RecordColumns(self.kind, {name: column[rows] for name, column in self.columns.items()})

    @classmethod
    def concat(cls, parts: Sequence[RecordColumns[Flat]]) -> RecordColumns[Flat]:
        """Tables of consecutive stretches of a log (each in line order) as one."""
        if len(parts) == 1:
            return parts[0]
        names = parts[0].columns
        return cls(parts[0].kind, {name: np.concatenate([p.columns[name] for p in parts]) for name in names})

    def merged(self, other: RecordColumns[Flat]) -> RecordColumns[Flat]:
        """Both tables' rows as one table in line order."""
        if not len(other):
            return self
        joined = RecordColumns.concat([self, other])
        return joined.take(np.argsort(joined.line, kind="stable"))


_SCAN_PARTS: Final = (
    "sparse_objs",
    "span_sparse_objs",
    "span_dense_objs",
    "sparse_spans",
    "dense_spans",
    "spans",
)


@dataclass(frozen=True)
class ScanColumns(_Table):
    """`scan:` lines (gctrace=2): `total` marks the totals line, `size_b` is -1 for it and for large
    objects (`class L`); the Green Tea breakdown is -1 where the line has none."""

    line: Ints
    total: Bools
    size_b: Ints
    objs: Ints
    sparse_objs: Ints
    span_sparse_objs: Ints
    span_dense_objs: Ints
    sparse_spans: Ints
    dense_spans: Ints
    spans: Ints

    def record(self, row: int) -> Gctrace2Line:
        return self.total_record(row) if self.total[row] else self.class_record(row)

    def total_record(self, row: int) -> ScanTotal:
        """The record of a row that is a `scan: total` line."""
        return ScanTotal(int(self.line[row]), int(self.objs[row]), *self._breakdown(row))

    def class_record(self, row: int) -> ScanClass:
        """The record of a row that is a `scan: class` line."""
        size = int(self.size_b[row])
        return ScanClass(
            int(self.line[row]), None if size < 0 else size, int(self.objs[row]), *self._breakdown(row)
        )

    def _breakdown(self, row: int) -> list[int | None]:
        parts = [int(getattr(self, name)[row]) for name in _SCAN_PARTS]
        return [None if value < 0 else value for value in parts]

    @classmethod
    def from_records(cls, records: Sequence[Gctrace2Line]) -> ScanColumns:
        return cls(
            line=_ints([r.line for r in records]),
            total=np.array([isinstance(r, ScanTotal) for r in records], dtype=np.bool_),
            size_b=_ints([r.size_b if isinstance(r, ScanClass) else None for r in records]),
            objs=_ints([r.objs for r in records]),
            **{name: _ints([getattr(r, name) for r in records]) for name in _SCAN_PARTS},
        )


@dataclass(frozen=True)
class GctraceLog:
    """Every trace line of a log by kind, each table in line order; `forced` holds the line numbers of
    `GC forced` lines. Unrecognized lines are few in any real log and stay records."""

    gc: GcColumns
    forced: Ints
    assist: RecordColumns[PacerAssist]
    end: RecordColumns[PacerCycleEnd]
    sweep: RecordColumns[PacerSweepDone]
    scav: RecordColumns[ScavLine]
    scan: ScanColumns
    unrecognized: tuple[UnrecognizedLine, ...]

    @classmethod
    def from_records(cls, records: Sequence[GctraceRecord]) -> GctraceLog:
        """The columns of records in line order (the per-line parser's results)."""
        return cls(
            gc=GcColumns.from_records([r for r in records if isinstance(r, GcCycle)]),
            forced=_ints([r.line for r in records if isinstance(r, GcForced)]),
            assist=RecordColumns.from_records(
                PacerAssist, [r for r in records if isinstance(r, PacerAssist)]
            ),
            end=RecordColumns.from_records(
                PacerCycleEnd, [r for r in records if isinstance(r, PacerCycleEnd)]
            ),
            sweep=RecordColumns.from_records(
                PacerSweepDone, [r for r in records if isinstance(r, PacerSweepDone)]
            ),
            scav=RecordColumns.from_records(ScavLine, [r for r in records if isinstance(r, ScavLine)]),
            scan=ScanColumns.from_records([r for r in records if isinstance(r, ScanTotal | ScanClass)]),
            unrecognized=tuple(r for r in records if isinstance(r, UnrecognizedLine)),
        )

    @classmethod
    def concat(cls, parts: Sequence[GctraceLog]) -> GctraceLog:
        return cls(
            gc=GcColumns.concat([p.gc for p in parts]),
            forced=np.concatenate([p.forced for p in parts]),
            assist=RecordColumns.concat([p.assist for p in parts]),
            end=RecordColumns.concat([p.end for p in parts]),
            sweep=RecordColumns.concat([p.sweep for p in parts]),
            scav=RecordColumns.concat([p.scav for p in parts]),
            scan=ScanColumns.concat([p.scan for p in parts]),
            unrecognized=tuple(r for p in parts for r in p.unrecognized),
        )

    def merged(self, other: GctraceLog) -> GctraceLog:
        """Both logs' lines of the same stretch of input (rows from two parsers) as one log."""
        return GctraceLog(
            gc=self.gc.merged(other.gc),
            forced=np.sort(np.concatenate((self.forced, other.forced))),
            assist=self.assist.merged(other.assist),
            end=self.end.merged(other.end),
            sweep=self.sweep.merged(other.sweep),
            scav=self.scav.merged(other.scav),
            scan=self.scan.merged(other.scan),
            unrecognized=tuple(sorted((*self.unrecognized, *other.unrecognized), key=lambda r: r.line)),
        )

    @property
    def records_count(self) -> int:
        tables = (self.gc, self.assist, self.end, self.sweep, self.scav, self.scan)
        return sum(len(t) for t in tables) + len(self.forced) + len(self.unrecognized)

    def records(self) -> Iterator[GctraceRecord]:
        """Every line as a record object, in line order."""
        found: list[GctraceRecord] = [GcForced(int(line)) for line in self.forced]
        found += [self.gc.record(row) for row in range(len(self.gc))]
        found += [self.assist.record(row) for row in range(len(self.assist))]
        found += [self.end.record(row) for row in range(len(self.end))]
        found += [self.sweep.record(row) for row in range(len(self.sweep))]
        found += [self.scav.record(row) for row in range(len(self.scav))]
        found += [self.scan.record(row) for row in range(len(self.scan))]
        found += self.unrecognized
        found.sort(key=lambda record: record.line)
        return iter(found)


def _kept(table: _T, good: Bools) -> _T:
    return table if good.all() else table.take(np.flatnonzero(good))


def _gc_rows(cursor: LineCursor, lines: Ints) -> tuple[Bools, GcColumns]:
    c = cursor
    c.literal(b"gc ")
    number = c.integer()
    c.literal(b" @")
    seconds = c.integer()
    c.literal(b".")
    millis = c.integer(digits=3)
    c.literal(b"s ")
    cpu = c.integer()
    c.literal(b"%")
    leak = c.optional(b" (checking for goroutine leaks)")
    c.literal(b": ")
    micros, decimals = [], []
    for separator in (b"+", b"+", b" ms clock, ", b"+", b"/", b"/", b"+", b" ms cpu, "):
        us, printed = c.milliseconds()
        micros.append(us)
        decimals.append(printed)
        c.literal(separator)
    before = c.integer()
    c.literal(b"->")
    after = c.integer()
    c.literal(b"->")
    live = c.integer()
    c.literal(b" MB, ")
    goal = c.integer()
    c.literal(b" MB goal, ")
    first = c.integer()
    stacks = c.optional(b" MB stacks, ")
    globals_mb = c.integer(stacks)
    c.literal(b" MB globals, ", stacks)
    procs = c.integer(stacks)
    c.literal(b" P")
    forced = c.optional(b" (forced)")
    good = c.finish()
    columns = GcColumns(
        line=lines,
        number=number,
        start_ms=seconds * 1000 + millis,
        cpu_percent=cpu,
        leak_check=leak,
        **dict(zip(GcColumns.DURATIONS, micros, strict=True)),
        decimals=np.stack(decimals, axis=1).astype(np.int8),
        heap_before_mb=before,
        heap_after_mb=after,
        heap_live_mb=live,
        heap_goal_mb=goal,
        stacks_mb=np.where(stacks, first, -1),
        globals_mb=np.where(stacks, globals_mb, -1),
        procs=np.where(stacks, procs, first),
        forced=forced,
    )
    return good, _kept(columns, good)


def _assist_rows(c: LineCursor, lines: Ints) -> tuple[Bools, RecordColumns[PacerAssist]]:
    c.literal(b"pacer: assist ratio=")
    ratio = c.floating()
    c.literal(b" (scan ")
    scan = c.integer()
    c.literal(b" MB in ")
    start = c.integer()
    c.literal(b"->")
    goal = c.integer()
    c.literal(b" MB) workers=")
    dedicated = c.integer()
    c.literal(b"+")
    fractional = c.floating()
    good = c.finish()
    columns = RecordColumns.of(PacerAssist, lines, ratio, scan, start, goal, dedicated, fractional)
    return good, columns.take(np.flatnonzero(good))


def _end_rows(c: LineCursor, lines: Ints) -> tuple[Bools, RecordColumns[PacerCycleEnd]]:
    c.literal(b"pacer: ")
    cpu = c.signed()
    c.literal(b"% CPU (")
    goal = c.integer()
    c.literal(b" exp.) for ")
    heap = c.integer()
    c.literal(b"+")
    stack = c.integer()
    c.literal(b"+")
    globals_b = c.integer()
    c.literal(b" B work (")
    expected = c.integer()
    c.literal(b" B exp.) in ")
    trigger = c.integer()
    c.literal(b" B -> ")
    live = c.integer()
    c.literal(" B (\u2206goal ".encode())
    delta = c.signed()
    c.literal(b", cons/mark ")
    cons_mark = c.floating()
    c.literal(b")")
    good = c.finish()
    columns = RecordColumns.of(
        PacerCycleEnd, lines, cpu, goal, heap, stack, globals_b, expected, trigger, live, delta, cons_mark
    )
    return good, _kept(columns, good)


def _sweep_rows(c: LineCursor, lines: Ints) -> tuple[Bools, RecordColumns[PacerSweepDone]]:
    c.literal(b"pacer: sweep done at heap size ")
    heap = c.integer()
    c.literal(b"MB; allocated ")
    allocated = c.integer()
    c.literal(b"MB during sweep; swept ")
    pages = c.integer()
    c.literal(b" pages at ")
    per_byte = c.floating()
    c.literal(b" pages/byte")
    good = c.finish()
    return good, _kept(RecordColumns.of(PacerSweepDone, lines, heap, allocated, pages, per_byte), good)


def _scav_rows(c: LineCursor, lines: Ints) -> tuple[Bools, RecordColumns[ScavLine]]:
    c.literal(b"scav ")
    bg = c.integer()
    c.literal(b" KiB work (bg), ")
    eager = c.integer()
    c.literal(b" KiB work (eager), ")
    now = c.integer()
    c.literal(b" KiB now, ")
    util = c.integer()
    c.literal(b"% util")
    forced = c.optional(b" (forced)")
    reset = c.optional(b" [controller reset]", ~forced)
    good = c.finish()
    return good, _kept(RecordColumns.of(ScavLine, lines, bg, eager, now, util, forced, reset), good)


def _scan_rows(c: LineCursor, lines: Ints) -> tuple[Bools, ScanColumns]:
    c.literal(b"scan: ")
    total = c.optional(b"total ")
    c.literal(b"class ", ~total)
    large = c.optional(b"L ", ~total)
    sized = ~total & ~large
    size = c.integer(sized)
    c.literal(b"B ", sized)
    first = c.integer()
    green = ~c.optional(b" objs")
    values = []
    for separator in (b"+", b"+", b"=", b" objs, ", b"+", b"="):
        c.literal(separator, green)
        values.append(np.where(green, c.integer(green), -1))
    c.literal(b" spans", green)
    good = c.finish()
    span_sparse, span_dense, objs, sparse_spans, dense_spans, spans = values
    columns = ScanColumns(
        line=lines,
        total=total,
        size_b=np.where(sized, size, -1),
        objs=np.where(green, objs, first),
        sparse_objs=np.where(green, first, -1),
        span_sparse_objs=span_sparse,
        span_dense_objs=span_dense,
        sparse_spans=sparse_spans,
        dense_spans=dense_spans,
        spans=spans,
    )
    return good, _kept(columns, good)


@functools.cache
def _empty_log() -> GctraceLog:
    """A log without lines (its arrays have no elements, so sharing it is safe)."""
    return GctraceLog.from_records([])


def _glue_candidates(data: bytes, rows: Ints, starts: Ints, ends: Ints) -> Ints:
    """The rows among `rows` (lines of `data` given by offsets) that hold a glue marker."""
    pieces = [data[start:end] for start, end in zip(starts[rows].tolist(), ends[rows].tolist(), strict=True)]
    text = b"\n".join(pieces)
    offsets = np.cumsum([0] + [len(piece) + 1 for piece in pieces[:-1]])
    found = []
    for marker in _GLUE_MARKERS:
        pattern = marker.encode()
        at = text.find(pattern)
        while at >= 0:
            found.append(at)
            at = text.find(pattern, at + 1)
    return np.unique(rows[np.searchsorted(offsets, np.array(found, dtype=np.int64), side="right") - 1])


def _parsed(buffer: Buffer, starts: Ints, ends: Ints, numbers: Ints) -> tuple[GctraceLog, Ints, Bools]:
    """Lines given by their offsets, parsed by kind in batches: the log of those that fit their layout,
    the indexes of those whose prefix promised a trace line that the batch refused (the per-line parser
    decides those), and which lines had such a prefix."""
    head = buffer.word(starts)

    def starting(text: bytes) -> Bools:
        found: Bools = (head & np.uint64((1 << (8 * len(text))) - 1)) == np.uint64(
            int.from_bytes(text, "little")
        )
        return found

    pacer = starting(b"pacer: ")
    pacer_kind = buffer.bytes[starts + 7]
    assist, sweep = pacer & (pacer_kind == ord("a")), pacer & (pacer_kind == ord("s"))
    forced = starting(b"GC force") & (buffer.bytes[starts + 8] == ord("d"))
    exact_forced = forced & (ends - starts == 9)
    prefixed = forced.copy()
    refused = [np.flatnonzero(forced & ~exact_forced)]
    empty = _empty_log()

    def batch(mask: Bools, parse: Callable[[LineCursor, Ints], tuple[Bools, _T]], blank: _T) -> _T:
        """The lines of one kind (`mask`) through its layout; the empty table when there are none."""
        np.logical_or(prefixed, mask, out=prefixed)
        rows = np.flatnonzero(mask)
        if not len(rows):
            return blank
        good, table = parse(LineCursor(buffer, starts[rows], ends[rows]), numbers[rows])
        refused.append(rows[~good])
        return table

    log = GctraceLog(
        gc=batch(starting(b"gc "), _gc_rows, empty.gc),
        forced=numbers[exact_forced],
        assist=batch(assist, _assist_rows, empty.assist),
        end=batch(pacer & ~assist & ~sweep, _end_rows, empty.end),
        sweep=batch(sweep, _sweep_rows, empty.sweep),
        scav=batch(starting(b"scav "), _scav_rows, empty.scav),
        scan=batch(starting(b"scan: "), _scan_rows, empty.scan),
        unrecognized=(),
    )
    return log, np.sort(np.concatenate(refused)), prefixed


_GC_START_BYTES_RE: Final = re.compile(_GC_START_RE.pattern.encode(), re.ASCII)


def _glued_start(line: bytes) -> int:
    """Where the trace line glued behind program output starts, as `_parse_glued` tries first; 0 if none."""
    found = _GC_START_BYTES_RE.search(line)
    if found is not None:
        return found.start()
    return next((at for at in (line.find(b"pacer: "), line.rfind(b"scav ")) if at > 0), 0)


def _parse_block(buffer: Buffer, base: int, longest: int) -> tuple[GctraceLog, int, int]:
    """The trace lines among the buffer's complete lines, numbered from `base` + 1; also how many lines
    the block has and how many of them are foreign (not trace lines)."""
    if buffer.data.find(b"\r", buffer.first, buffer.last) >= 0:
        # The block ends where a newline was cut off, so its last line may keep the CR of a CRLF.
        block = buffer.data[buffer.first : buffer.last]
        buffer = Buffer.of(block.replace(b"\r\n", b"\n").removesuffix(b"\r"))
    data, first, last = buffer.data, buffer.first, buffer.last
    newlines = np.flatnonzero(buffer.bytes[first:last] == 10) + first
    starts = np.concatenate(([first], newlines + 1))
    ends = np.concatenate((newlines, [last]))
    count = len(starts)
    numbers = np.arange(base + 1, base + 1 + count, dtype=np.int64)
    usable = np.flatnonzero(ends - starts <= longest)
    if len(usable) == count:
        log, refused, prefixed = _parsed(buffer, starts, ends, numbers)
    else:
        log, refused, prefixed = _parsed(buffer, starts[usable], ends[usable], numbers[usable])
        starts, ends, numbers = starts[usable], ends[usable], numbers[usable]
    slow: list[GctraceRecord] = []
    accounted = {
        _GLUE_MARKERS[0]: len(log.gc),
        _GLUE_MARKERS[1]: len(log.assist) + len(log.end) + len(log.sweep),
        _GLUE_MARKERS[2]: len(log.scav),
    }
    for row in refused.tolist():
        line = data[starts[row] : ends[row]]
        for marker in _GLUE_MARKERS:
            accounted[marker] += line.count(marker.encode())
        slow.append(_parse_prefixed(line.decode("utf-8", "replace"), int(numbers[row])))
    # Program output can hold a glued trace line only where there is program output, and only when the
    # block holds markers that its trace lines do not explain. The glued tails are parsed in a batch
    # too; the per-line parser decides the tails the batch refuses.
    foreign = np.flatnonzero(~prefixed)
    if len(foreign) and any(data.count(m.encode(), first, last) != n for m, n in accounted.items()):
        rows = _glue_candidates(data, foreign, starts, ends)
        tails = starts[rows] + [_glued_start(data[starts[row] : ends[row]]) for row in rows.tolist()]
        glued, refused_tails, _ = _parsed(buffer, tails, ends[rows], numbers[rows])
        log = log.merged(glued)
        for row in rows[refused_tails].tolist():
            text = data[starts[row] : ends[row]].decode("utf-8", "replace")
            record = _parse_glued(text, int(numbers[row]))
            if record is not None:
                slow.append(record)
    if slow:
        log = log.merged(GctraceLog.from_records(sorted(slow, key=lambda r: r.line)))
    return log, count, count - log.records_count


class GctraceReader:
    """Reads a byte stream into a `GctraceLog` (`read`) or into records (iteration, one block at a time);
    afterwards the counters describe what was read.

    Line numbers count `\\n`-terminated lines (a final unterminated line counts too); CRLF endings and
    invalid UTF-8 are accepted. Lines longer than `max_line_bytes` are not parsed but counted as foreign
    (one that spans reads is dropped as it arrives), which bounds the memory of a block at about one chunk
    plus one line.
    """

    def __init__(
        self, stream: BinaryIO, *, chunk_bytes: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self._stream = stream
        self._chunk_bytes = chunk_bytes
        self._max_line_bytes = max_line_bytes
        self.lines = 0
        self.foreign_lines = 0
        self.unterminated_last_line = False

    def read(self) -> GctraceLog:
        """The whole stream's trace lines as columns."""
        parts = list(self._logs())
        return GctraceLog.concat(parts) if parts else _empty_log()

    def __iter__(self) -> Iterator[GctraceRecord]:
        for log in self._logs():
            yield from log.records()

    def _logs(self) -> Iterator[GctraceLog]:
        carry = b""
        skipping = False  # inside an over-long line: drop bytes up to the next newline
        while chunk := self._stream.read(self._chunk_bytes):
            # One copy: the carried partial line, the chunk, and the padding the block parser reads past.
            data = b"".join((PADDING, carry, chunk, PADDING))
            end = len(data) - PAD
            cut = data.rfind(b"\n", PAD, end)
            if cut < 0:
                carry = b"" if skipping else data[PAD:end]
            else:
                start = PAD
                if skipping:
                    skipping = False
                    start = data.find(b"\n", PAD, end) + 1
                if start <= cut:
                    yield self._block(Buffer(data, start, cut))
                carry = data[cut + 1 : end]
            if len(carry) > self._max_line_bytes:
                carry = b""
                skipping = True
                self.lines += 1
                self.foreign_lines += 1
        self.unterminated_last_line = skipping or bool(carry)
        if carry:
            yield self._block(Buffer.of(carry))

    def _block(self, buffer: Buffer) -> GctraceLog:
        log, lines, foreign = _parse_block(buffer, self.lines, self._max_line_bytes)
        self.lines += lines
        self.foreign_lines += foreign
        return log
