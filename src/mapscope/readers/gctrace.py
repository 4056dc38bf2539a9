"""Records from a Go program's stderr run with GODEBUG=gctrace=1|2, gcpacertrace=1 and scavtrace=1.

The runtime prints these lines under its print lock, so each starts a line of its own unless the program
left a partial line of its own output on stderr; everything else on the stream is the program's business.
The reader therefore looks at a line's first bytes before trying any regular expression, skips foreign
lines, and rescues trace lines glued behind unterminated program output. Lines whose prefix promises a
trace line but whose body does not match any known layout come back as `UnrecognizedLine`, so callers can
tell "nothing to see" from "a format we do not know".

Values keep the log's own units and rounding: durations are `Decimal` milliseconds exactly as printed
(`0.058`, `2.7`, `133`), the start time is `Decimal` seconds, sizes are the printed integers (MB for the
gc line, bytes/MB/KiB where the pacer and scavenger print those). Pacer floats are `float`: the runtime
prints binary floats, either as `+8.734396e-001` (Go <= 1.25) or shortest round-trip `0.8734396` (1.26+).

Input is read in bounded chunks and lines are capped, so binary garbage or a gigabyte without a newline
costs time linear in its size and memory bounded by the chunk size plus the line cap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import BinaryIO, Final

CHUNK_BYTES: Final = 1 << 20
# The longest real trace line is about 230 bytes; a line far beyond that is not one.
MAX_LINE_BYTES: Final = 1 << 16
_UNRECOGNIZED_TEXT_CHARS: Final = 240


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
# at most 20 digits (Go prints 64-bit values), which also keeps int() clear of its 4300-digit limit.
_INT = r"(\d{1,20}+)"
_SIGNED = r"(-?\d{1,20}+)"
# fmtNSAsMS prints whole milliseconds from 10 ms on, else two significant digits with at most three decimals.
_MS = r"(\d{1,20}+(?:\.\d{1,3}+)?+)"
# Runtime floats: `+8.734396e-001` (<= 1.25) or strconv 'g' shortest form (1.26+, at most 21 digits
# before the point), plus NaN and ±Inf.
_F = r"([+-]?+(?:\d{1,40}+(?:\.\d{0,40}+)?+(?:e[+-]?+\d{1,4}+)?+|NaN|Inf))"
_GC_RE: Final = re.compile(
    rf"gc {_INT} @(\d{{1,20}}+\.\d{{3}})s {_INT}%( \(checking for goroutine leaks\))?+: "
    rf"{_MS}\+{_MS}\+{_MS} ms clock, "
    rf"{_MS}\+{_MS}/{_MS}/{_MS}\+{_MS} ms cpu, "
    rf"{_INT}->{_INT}->{_INT} MB, {_INT} MB goal, (?:{_INT} MB stacks, {_INT} MB globals, )?+{_INT} P"
    r"( \(forced\))?+"
)
# Where a gc line starts when it is glued behind program output.
_GC_START_RE: Final = re.compile(r"gc \d++ @\d++\.\d{3}s ")
_PACER_ASSIST_RE: Final = re.compile(
    rf"pacer: assist ratio={_F} \(scan {_INT} MB in {_INT}->{_INT} MB\) workers={_INT}\+{_F}"
)
_PACER_END_RE: Final = re.compile(
    rf"pacer: {_SIGNED}% CPU \({_INT} exp\.\) for {_INT}\+{_INT}\+{_INT} B work \({_INT} B exp\.\) "
    rf"in {_INT} B -> {_INT} B \(\u2206goal {_SIGNED}, cons/mark {_F}\)"
)
_PACER_SWEEP_RE: Final = re.compile(
    rf"pacer: sweep done at heap size {_INT}MB; allocated {_INT}MB during sweep; "
    rf"swept {_INT} pages at {_F} pages/byte"
)
_SCAV_RE: Final = re.compile(
    rf"scav {_INT} KiB work \(bg\), {_INT} KiB work \(eager\), {_INT} KiB now, {_INT}% util"
    r"( \(forced\)| \[controller reset\])?+"
)
# Go 1.25 without Green Tea prints only object counts; Green Tea (1.25 experiment, 1.26+ default) adds
# `a+b+c=n objs, x+y=m spans`.
_SCAN_RE: Final = re.compile(
    rf"scan: (?:total|class (?:{_INT}B|L)) "
    rf"(?:{_INT} objs|{_INT}\+{_INT}\+{_INT}={_INT} objs, {_INT}\+{_INT}={_INT} spans)"
)
_PREFIXES: Final = ("gc ", "pacer: ", "scav ", "scan: ", "GC forced")
# Substrings that betray a trace line glued behind program output; checked only on foreign lines.
_GLUE_MARKERS: Final = (" ms clock, ", "pacer: ", " KiB work (bg), ")


def _short_ms_texts() -> Iterator[str]:
    """Every text fmtNSAsMS prints below 10 ms, plus whole milliseconds up to a second."""
    yield "0"
    yield from (f"0.{micros:03d}" for micros in range(1, 100))
    yield from (f"0.{hundredths:02d}" for hundredths in range(10, 100))
    yield from (f"{tenths // 10}.{tenths % 10}" for tenths in range(10, 100))
    yield from (str(millis) for millis in range(10, 1000))


# Eight durations per gc line: looking their Decimals up is several times cheaper than building them.
_MS_DECIMALS: Final = MappingProxyType({text: Decimal(text) for text in _short_ms_texts()})


def _ms(text: str) -> Decimal:
    value = _MS_DECIMALS.get(text)
    return Decimal(text) if value is None else value


def _int_or_none(text: str | None) -> int | None:
    return None if text is None else int(text)


def _parse_gc(line: str, number: int) -> GcCycle | None:
    match = _GC_RE.fullmatch(line)
    if match is None:
        return None
    g = match.groups()
    return GcCycle(
        number,
        int(g[0]),
        Decimal(g[1]),
        int(g[2]),
        g[3] is not None,
        _ms(g[4]),
        _ms(g[5]),
        _ms(g[6]),
        _ms(g[7]),
        _ms(g[8]),
        _ms(g[9]),
        _ms(g[10]),
        _ms(g[11]),
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
    return PacerCycleEnd(
        number,
        int(g[0]),
        int(g[1]),
        int(g[2]),
        int(g[3]),
        int(g[4]),
        int(g[5]),
        int(g[6]),
        int(g[7]),
        int(g[8]),
        float(g[9]),
    )


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


def parse_line(line: str, number: int) -> GctraceRecord | None:
    """The record for one line without its newline, None for foreign output.

    `number` is the line's 1-based position in its stream and becomes the record's `line`.
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
    return UnrecognizedLine(number, line[:_UNRECOGNIZED_TEXT_CHARS]) if record is None else record


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


class GctraceReader:
    """Streams records out of a byte stream; after iteration the counters describe what was read.

    Line numbers count `\\n`-terminated lines (a final unterminated line counts too); CRLF endings and
    invalid UTF-8 are accepted. Lines longer than `max_line_bytes` are not parsed but counted as foreign
    (one that spans reads is dropped as it arrives), which bounds memory at about one chunk plus one line.
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

    def __iter__(self) -> Iterator[GctraceRecord]:
        carry = b""
        skipping = False  # inside an over-long line: drop bytes up to the next newline
        while chunk := self._stream.read(self._chunk_bytes):
            buffer = carry + chunk if carry else chunk
            cut = buffer.rfind(b"\n")
            if cut < 0:
                carry = b"" if skipping else buffer
            else:
                block: bytes | None = buffer[:cut]
                carry = buffer[cut + 1 :]
                if skipping:
                    skipping = False
                    end = buffer.find(b"\n")
                    block = buffer[end + 1 : cut] if end < cut else None
                if block is not None:
                    yield from self._block(block)
            if len(carry) > self._max_line_bytes:
                carry = b""
                skipping = True
                self.lines += 1
                self.foreign_lines += 1
        self.unterminated_last_line = skipping or bool(carry)
        if carry:
            yield from self._block(carry)

    def _block(self, block: bytes) -> Iterator[GctraceRecord]:
        """Records from complete lines joined by newlines (the hot loop: one prefix test per line)."""
        text = block.decode("utf-8", "replace")
        if "\r" in text:
            # The block ends where a newline was cut off, so its last line may keep the CR of a CRLF.
            text = text.replace("\r\n", "\n").removesuffix("\r")
        number = self.lines
        foreign = 0
        prefixes = _PREFIXES
        markers = _GLUE_MARKERS
        longest = self._max_line_bytes
        for line in text.split("\n"):
            number += 1
            if line.startswith(prefixes) and len(line) <= longest:
                yield _parse_prefixed(line, number)
            elif (
                (markers[0] in line or markers[1] in line or markers[2] in line)
                and len(line) <= longest
                and (record := _parse_glued(line, number)) is not None
            ):
                yield record
            else:
                foreign += 1
        self.lines = number
        self.foreign_lines += foreign
