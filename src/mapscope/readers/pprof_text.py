"""Legacy text profiles -> the same Profile records as profile.proto.

Covered: Go's heap/allocs text (`/debug/pprof/heap?debug=1`: `heap profile: ... @ heap/<2*rate>`, `#` symbol
lines, `# runtime.MemStats` trailer), Go's count profiles (`goroutine profile: total N`, `threadcreate
profile: ...`, debug=1) and the C++ heap formats google/pprof still reads (`@ heapz_v2/N`, `heap_v2/N`,
`heapprofile`, `@ growthz`, `@ fragmentationz`, with their `--- Memory map: ---` section). Other legacy
formats (binary CPU profiles, Java and contention text) are recognised and refused with a clear error.

The numbers follow google/pprof's legacy reader exactly, because that is what `go tool pprof` shows for the
same file: record values are raw samples and are unsampled here with the formula of pprof's
scaleHeapSample (the header's `heap/N` means a rate of N/2), including float64 rounding and truncation
toward zero. The exponential inside that formula is evaluated bit for bit as Go's math.Exp on amd64 with
FMA (the assembly routine every x86-64 CPU since 2013 runs), since one ulp can move a truncated total by
one. Stack addresses are return addresses and become location addresses minus one, as in pprof.

PCs are symbolized from the `#` lines Go writes after each record (the runtime's own CallersFrames view,
one frame per PC); a binary, when there is one, replaces them with its own frames (see symbolize.py).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mapscope import gomath
from mapscope.errors import MapscopeError
from mapscope.readers.pprof import (
    LABEL_NUM,
    LABEL_STR,
    Function,
    Line,
    Location,
    Locations,
    Mapping,
    MemStats,
    Profile,
    ValueType,
    make_samples,
)

_A = re.ASCII
_HEAP_HEADER = re.compile(
    r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *(heap[_a-z0-9]*)/?(\d*)", _A
)
_GROWTH_HEADER = re.compile(r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ growthz?", _A)
_FRAGMENTATION_HEADER = re.compile(
    r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ fragmentationz?", _A
)
_HEAP_RECORD = re.compile(r"(-?\d+): *(-?\d+) *\[ *(\d+): *(\d+) *] @([ x0-9a-f]*)", _A)
_COUNT_HEADER = re.compile(r"(\S+) profile: total \d+", _A)
_COUNT_RECORD = re.compile(r"(\d+) @((?: 0x[0-9a-f]+)+)", _A)
_HEX = re.compile(r"0x[0-9a-f]+", _A)
_SYMBOL = re.compile(r"#\t(0x[0-9a-f]+)(?:\t+(.+?)\+0x[0-9a-f]+\t+(.*):(\d+))?", _A)
_MEMSTAT = re.compile(r"# (\w+) = (.*)", _A)
_MAP_SENTINELS = ("--- Memory map: ---", "MAPPED_LIBRARIES:")
_LOG_PREFIX = re.compile(r"^[^\[\]]+:[0-9]+]\s", _A)
_SO_FILE = re.compile(r"([.]so$|[.]so[._][0-9]+)", _A)

_HEX_RANGE = r"\s*(?:0x)?([0-9A-Fa-f]+)[\s-]?\s*(?:0x)?([0-9A-Fa-f]+):?"
_PERM = r"(?:\s+([-rwxp]+))?"
_PROC_MAPS = re.compile(
    "^"
    + _HEX_RANGE
    + _PERM
    + r"(?:\s+([0-9A-Fa-f]+))?"
    + r"\s+[0-9A-Fa-f]+:[0-9A-Fa-f]+\s+[0-9]+(?:\s+(\S+))?",
    _A,
)
_BRIEF_MAPS = re.compile(
    "^" + _HEX_RANGE + _PERM + r"(?:\s+(\S+))?(?:\s+\(@([0-9A-Fa-f]+)\))?(?:\s+([0-9A-Fa-f]+))?", _A
)

# Frames google/pprof hides below the first user frame of legacy heap profiles (its allocRxStr and
# allocSkipRxStr), and of other legacy profiles (cpuProfilerRxStr); the analyses apply them like pprof.
_ALLOC_DROP = "|".join(
    [
        "calloc", "cfree", "malloc", "free", "memalign", "do_memalign", "(__)?posix_memalign", "pvalloc",
        "valloc", "realloc", "tcmalloc::.*", "tc_calloc", "tc_cfree", "tc_malloc", "tc_free", "tc_memalign",
        "tc_posix_memalign", "tc_pvalloc", "tc_valloc", "tc_realloc", "tc_new", "tc_delete", "tc_newarray",
        "tc_deletearray", "tc_new_nothrow", "tc_newarray_nothrow", "malloc_zone_malloc", "malloc_zone_calloc",
        "malloc_zone_valloc", "malloc_zone_realloc", "malloc_zone_memalign", "malloc_zone_free",
        r"runtime\..*", "BaseArena::.*", "(::)?do_malloc_no_errno", "(::)?do_malloc_pages", "(::)?do_malloc",
        "DoSampledAllocation", "MallocedMemBlock::MallocedMemBlock", "_M_allocate",
        "__builtin_(vec_)?delete", "__builtin_(vec_)?new", "__gnu_cxx::new_allocator::allocate",
        "__libc_malloc", "__malloc_alloc_template::allocate", "allocate", "cpp_alloc", r"operator new(\[\])?",
        "simple_alloc::allocate",
    ]
)  # fmt: skip
_ALLOC_KEEP = r"runtime\.panic|runtime\.reflectcall|runtime\.call[0-9]*"
_CPU_DROP = (
    "ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|__pthread_sighandler|__restore"
)
_HEAP_TYPE_SETS = (
    ("allocations", "size"),
    ("objects", "space"),
    ("inuse_objects", "inuse_space"),
    ("alloc_objects", "alloc_space"),
    ("alloc_objects", "alloc_space", "inuse_objects", "inuse_space"),
)

_U64 = 1 << 64
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def looks_like_text(data: bytes | bytearray) -> bool:
    """True for the legacy text headers this module reads or knowingly refuses."""
    head = data[:4096].lstrip()
    return head.startswith((b"heap profile:", b"--- ")) or bool(
        re.match(rb"(#[^\n]*\n|\s*\n)*\S+ profile: total \d+", data[:4096])
    )


def parse_text(data: bytes | bytearray, source: str) -> Profile:
    """A legacy text profile -> Profile (unsampled like pprof); MapscopeError for anything else."""
    lines = [line.removesuffix("\r") for line in data.decode("utf-8", "replace").split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    first = lines[0] if lines else ""
    if first.startswith("---"):
        # Java heapz, contention/mutex and threadz text: formats Go's profiler does not write by default.
        raise MapscopeError(
            source,
            f"unsupported legacy profile ({first.strip()[:40]!r}); only Go and C++ heap and Go count "
            "profiles are read (fetch Go profiles with debug=0 for profile.proto)",
        )
    builder = _Builder(source)
    if _HEAP_HEADER.search(first) or _GROWTH_HEADER.search(first) or _FRAGMENTATION_HEADER.search(first):
        _read_heap(lines, builder)
    else:
        _read_count(lines, builder)
    return builder.profile()


def _is_space_or_comment(line: str) -> bool:
    trimmed = line.strip()
    return not trimmed or trimmed.startswith("#")


def _go_int(text: str, source: str, what: str) -> int:
    value = int(text)
    if not _I64_MIN <= value <= _I64_MAX:
        raise MapscopeError(source, f"{what} {text} does not fit in 64 bits")
    return value


def _hex_addresses(text: str, source: str) -> list[int]:
    addresses = []
    for digits in _HEX.findall(text):
        value = int(digits, 16)
        if value >= _U64:
            raise MapscopeError(source, f"address {digits} does not fit in 64 bits")
        addresses.append(value)
    return addresses


@dataclass
class _MutableMapping:
    start: int
    limit: int
    offset: int
    file: str
    build_id: str


@dataclass
class _Builder:
    """Collects what a text parser finds, then builds the Profile the way google/pprof finishes one."""

    source: str
    format: str = ""
    sample_types: list[ValueType] = field(default_factory=list)
    period_type: ValueType | None = None
    period: int = 0
    values: list[list[int]] = field(default_factory=list)
    stacks: list[list[int]] = field(default_factory=list)
    labels: list[list[tuple[str, str | None, int]]] = field(default_factory=list)
    addresses: dict[int, int] = field(default_factory=dict)
    symbols: dict[int, list[tuple[str, str, int]]] = field(default_factory=dict)
    mappings: list[_MutableMapping] = field(default_factory=list)
    memstats: MemStats | None = None
    drop_frames: str = ""
    keep_frames: str = ""

    def add_sample(
        self, values: list[int], addresses: list[int], labels: list[tuple[str, str | None, int]]
    ) -> None:
        stack = []
        for address in addresses:
            # A return address, moved back onto the call instruction (wrapping like Go's uint64).
            pc = (address - 1) % _U64
            stack.append(self.addresses.setdefault(pc, len(self.addresses)))
        self.values.append(values)
        self.stacks.append(stack)
        self.labels.append(labels)

    def add_symbols(self, record_symbols: list[tuple[int, str, str, int]]) -> None:
        """`#` lines of one record; consecutive lines with one PC are an inlining chain, innermost first."""
        chains: dict[int, list[tuple[str, str, int]]] = {}
        for pc, function, file, line in record_symbols:
            if function:
                chains.setdefault(pc, []).append((function, file, line))
        for pc, chain in chains.items():
            self.symbols.setdefault(pc, chain)

    def profile(self) -> Profile:
        order = list(self.addresses)  # location i has address order[i], in order of first appearance
        mapping_of = self.assign_mappings(order)
        symbols = self.symbols
        strings = _Strings()
        functions: list[Function] = []
        function_index: dict[tuple[str, str], int] = {}
        locations = []
        for i, pc in enumerate(order):
            lines = []
            for name, file, line in symbols.get(pc, []):
                identity = (name, file)
                if identity not in function_index:
                    function_index[identity] = len(functions)
                    functions.append(Function(len(functions) + 1, name, name, file, 0))
                lines.append(Line(function_index[identity], line, 0))
            locations.append(Location(i + 1, mapping_of[i], pc, tuple(lines), False))
        mappings = tuple(
            Mapping(i + 1, m.start, m.limit, m.offset, m.file, m.build_id, False, False, False, False)
            for i, m in enumerate(self.mappings)
        )  # fmt: skip
        n = len(self.values)
        k = len(self.sample_types)
        values = np.array(self.values, dtype=np.int64).reshape(n, k)
        counts = np.array([len(s) for s in self.stacks], dtype=np.int64)
        stack_offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=stack_offsets[1:])
        stack_locations = np.fromiter(
            (i for s in self.stacks for i in s), dtype=np.int32, count=int(counts.sum())
        )
        label_counts = np.array([len(lbs) for lbs in self.labels], dtype=np.int64)
        label_offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(label_counts, out=label_offsets[1:])
        flat = [label for lbs in self.labels for label in lbs]
        key = np.array([strings.index(lb[0]) for lb in flat], dtype=np.int64)
        str_ = np.array([strings.index(lb[1]) if lb[1] is not None else 0 for lb in flat], dtype=np.int64)
        num = np.array([lb[2] for lb in flat], dtype=np.int64)
        kind = np.array([LABEL_STR if lb[1] is not None else LABEL_NUM for lb in flat], dtype=np.int8)
        samples = make_samples(
            values, stack_offsets, stack_locations, (label_offsets, key, str_, num, np.zeros_like(num), kind)
        )
        for vt in self.sample_types:
            strings.index(vt.type)
            strings.index(vt.unit)
        return Profile(
            source=self.source,
            format=self.format,
            sample_types=tuple(self.sample_types),
            default_sample_type="",
            period_type=self.period_type,
            period=self.period,
            time_nanos=0,
            duration_nanos=0,
            comments=(),
            drop_frames=self.drop_frames,
            keep_frames=self.keep_frames,
            doc_url="",
            mappings=mappings,
            locations=Locations.of(locations),
            functions=tuple(functions),
            samples=samples,
            strings=strings.table(),
            memstats=self.memstats,
        )

    def assign_mappings(self, order: list[int]) -> list[int | None]:
        """Which mapping each location falls in, adjusting mappings the way pprof's legacy reader does."""
        maps = self.mappings
        if len(maps) > 1 and maps[0].file.startswith("/anon_hugepage") and maps[0].limit == maps[1].start:
            del maps[0]
        if maps and (maps[0].start - maps[0].offset) % _U64 == 0x400000:
            maps[0].start, maps[0].offset = 0x400000, 0
        result: list[int | None] = []
        fake: int | None = None
        for address in order:
            found: int | None = None
            if address == 0:
                result.append(None)
                continue
            for j, m in enumerate(maps):
                if m.start <= address < m.limit:
                    found = j
                    break
            if found is None:
                for j, m in enumerate(maps):
                    if m.offset != 0 and (m.start - m.offset) % _U64 <= address < m.start:
                        m.start, m.offset = (m.start - m.offset) % _U64, 0
                        found = j
                        break
            if found is None:
                if fake is None:
                    fake = len(maps)
                    maps.append(_MutableMapping(0, _U64 - 1, 0, "", ""))
                found = fake
            result.append(found)
        return result


class _Strings:
    def __init__(self) -> None:
        self._index: dict[str, int] = {"": 0}

    def index(self, text: str) -> int:
        return self._index.setdefault(text, len(self._index))

    def table(self) -> tuple[str, ...]:
        return tuple(self._index)


def _read_heap(lines: list[str], b: _Builder) -> None:
    header = lines[0]
    sampled = False
    has_alloc = False
    b.period_type = ValueType("space", "bytes")
    if match := _HEAP_HEADER.search(header):
        tag, rate = match.group(5), match.group(6)
        period = _go_int(rate, b.source, "header rate") if rate else 0
        inuse_n, inuse_b, alloc_n, alloc_b = match.group(1, 2, 3, 4)
        # pprof compares the header's numbers as text to tell 4-column profiles from 2-column ones.
        has_alloc = (alloc_n not in (inuse_n, "0")) or (alloc_b not in (inuse_b, "0"))
        if tag in ("heapz_v2", "heap_v2"):
            sampled, b.period, b.format = True, period, "heapz-text"
        elif tag == "heapprofile":
            b.period, b.format = 1, "heapz-text"
        elif tag == "heap":
            # Go writes 2 * MemProfileRate here, for the old C++ heap profiler's sake.
            sampled, b.period, b.format = True, period // 2, "go-heap-text"
        else:
            raise MapscopeError(b.source, f"unknown heap profile sampling {tag!r}")
    else:
        b.period = 1
        b.format = "growthz-text" if _GROWTH_HEADER.search(header) else "fragmentationz-text"
    if has_alloc:
        names = [("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"),
                 ("inuse_space", "bytes")]  # fmt: skip
    else:
        names = [("objects", "count"), ("space", "bytes")]
    b.sample_types = [ValueType(t, u) for t, u in names]
    scale = _Unsampler(b.period) if sampled else None
    rest = _read_records(lines, 1, b, lambda line, number: _heap_record(line, number, b, scale, has_alloc))
    _read_memory_map(lines, rest, b)
    types = tuple(vt.type for vt in b.sample_types)
    if types in _HEAP_TYPE_SETS:
        b.drop_frames, b.keep_frames = _ALLOC_DROP, _ALLOC_KEEP


def _heap_record(line: str, number: int, b: _Builder, scale: _Unsampler | None, has_alloc: bool) -> None:
    match = _HEAP_RECORD.search(line)
    if match is None:
        raise MapscopeError(b.source, f"line {number}: not a heap profile record: {line[:80]!r}")
    values: list[int] = []
    block_size = 0
    pairs = [("allocation", match.group(3), match.group(4))] if has_alloc else []
    pairs.append(("inuse", match.group(1), match.group(2)))
    for what, count_text, size_text in pairs:
        count = _go_int(count_text, b.source, f"line {number}: {what} count")
        size = _go_int(size_text, b.source, f"line {number}: {what} bytes")
        if count == 0 and size != 0:
            raise MapscopeError(b.source, f"line {number}: {what} count is 0 but {what} bytes is {size}")
        if count != 0:
            block_size = _truncating_div(size, count)
            if scale is not None:
                count, size = scale(count, size)
        values.extend((count, size))
    b.add_sample(values, _hex_addresses(match.group(5), b.source), [("bytes", None, block_size)])


def _truncating_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _read_count(lines: list[str], b: _Builder) -> None:
    start = 0
    while start < len(lines) and _is_space_or_comment(lines[start]):
        start += 1
    match = _COUNT_HEADER.fullmatch(lines[start]) if start < len(lines) else None
    if match is None:
        raise MapscopeError(b.source, "not a pprof profile (neither profile.proto nor a known text format)")
    kind = match.group(1)
    b.format = "count-text"
    b.sample_types = [ValueType(kind, "count")]
    b.period_type, b.period = ValueType(kind, "count"), 1

    def record(line: str, number: int) -> None:
        found = _COUNT_RECORD.fullmatch(line)
        if found is None:
            raise MapscopeError(b.source, f"line {number}: not a {kind} profile record: {line[:80]!r}")
        count = _go_parse_int_base0(found.group(1), b.source, number)
        b.add_sample([count], _hex_addresses(found.group(2), b.source), [])

    rest = _read_records(lines, start + 1, b, record, stop_at_dashes=True)
    _read_memory_map(lines, rest, b)
    b.drop_frames = _CPU_DROP


def _go_parse_int_base0(text: str, source: str, number: int) -> int:
    """strconv.ParseInt(text, 0, 64) for a string of decimal digits: a leading 0 means octal."""
    try:
        value = int(text, 8) if len(text) > 1 and text.startswith("0") else int(text)
    except ValueError:
        raise MapscopeError(source, f"line {number}: bad count {text!r}") from None
    return _go_int(str(value), source, f"line {number}: count")


def _read_records(
    lines: list[str],
    start: int,
    b: _Builder,
    record: Callable[[str, int], None],
    stop_at_dashes: bool = False,
) -> int:
    """Feed record lines to `record`, gather `#` symbol/label/MemStats lines; returns where a map begins."""
    symbols: list[tuple[int, str, str, int]] = []
    memstats: dict[str, str] | None = None
    i = start
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        if line.startswith("#"):
            if symbol := _SYMBOL.fullmatch(line):
                name, file, number = symbol.group(2, 3, 4)
                symbols.append((int(symbol.group(1), 16), name or "", file or "", int(number or 0)))
            elif line.startswith("# labels:") and b.labels:
                b.labels[-1].extend(_goroutine_labels(line.removeprefix("# labels:").strip()))
            elif line == "# runtime.MemStats":
                memstats = {}
            elif memstats is not None and (stat := _MEMSTAT.fullmatch(line)):
                memstats[stat.group(1)] = stat.group(2)
        elif line:
            if any(s in raw for s in _MAP_SENTINELS) or (stop_at_dashes and raw.startswith("---")):
                break
            b.add_symbols(symbols)
            symbols = []
            record(raw if stop_at_dashes else line, i + 1)
        i += 1
    b.add_symbols(symbols)
    if memstats is not None:
        b.memstats = _memstats(memstats, b.source)
    return i


def _goroutine_labels(text: str) -> list[tuple[str, str | None, int]]:
    """`{"key":"value", ...}` as Go prints goroutine labels (quoted with %q, which JSON nearly always reads)."""
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = dict(re.findall(r'"((?:[^"\\]|\\.)*)":"((?:[^"\\]|\\.)*)"', text))
    if not isinstance(decoded, dict):
        return []
    return [(str(k), str(v), 0) for k, v in decoded.items()]


def _memstats(fields: dict[str, str], source: str) -> MemStats:
    values: list[tuple[str, int]] = []
    pairs: list[tuple[str, int, int]] = []
    pause_ns: tuple[int, ...] = ()
    pause_end: tuple[int, ...] = ()
    fraction: float | None = None
    debug_gc: bool | None = None
    try:
        for name, text in fields.items():
            if name in ("PauseNs", "PauseEnd"):
                numbers = tuple(int(x) for x in text.strip("[]").split())
                if name == "PauseNs":
                    pause_ns = numbers
                else:
                    pause_end = numbers
            elif name == "GCCPUFraction":
                fraction = float(text)
            elif name == "DebugGC":
                debug_gc = text == "true"
            elif " / " in text:
                inuse, sys = text.split(" / ")
                pairs.append((name, int(inuse), int(sys)))
            else:
                values.append((name, int(text)))
    except ValueError:
        raise MapscopeError(source, f"unreadable runtime.MemStats line: {name} = {text[:60]}") from None
    return MemStats(tuple(values), tuple(pairs), pause_ns, pause_end, fraction, debug_gc)


def _read_memory_map(lines: list[str], start: int, b: _Builder) -> None:
    """The optional memory map after a sentinel line (/proc/self/maps or pprof's brief form)."""
    while start < len(lines) and not any(s in lines[start] for s in _MAP_SENTINELS):
        start += 1
    variables: list[tuple[str, str]] = []
    for raw in lines[start + 1 :]:
        line = _LOG_PREFIX.sub("", raw, count=1)
        for name, value in variables:
            line = line.replace(name, value)
        entry = _mapping_entry(line)
        if entry is None:
            name, sep, value = line.partition("=")
            if sep:
                variables.append(("$" + name.strip(), value.strip()))
            continue
        if entry.file != "\0":
            b.mappings.append(entry)
    _massage_mappings(b.mappings)


def _mapping_entry(line: str) -> _MutableMapping | None:
    """One memory map line; None when unrecognised, a file of NUL for a non-executable entry to skip."""
    if proc := _PROC_MAPS.match(line):
        start, end, perm, offset, file = proc.groups()
        build_id = ""
    elif brief := _BRIEF_MAPS.match(line):
        start, end, perm, file, offset, build_id = brief.groups()
    else:
        return None
    if perm and "x" not in perm:
        return _MutableMapping(0, 0, 0, "\0", "")
    numbers = [int(start, 16), int(end, 16), int(offset or "0", 16)]
    if any(n >= _U64 for n in numbers):
        return None
    return _MutableMapping(numbers[0], numbers[1], numbers[2], file or "", build_id or "")


def _massage_mappings(maps: list[_MutableMapping]) -> None:
    """Merge split neighbours and move the main binary first, as pprof does for legacy profiles."""
    merged: list[_MutableMapping] = []
    for m in maps:
        last = merged[-1] if merged else None
        if last is not None and _adjacent(last, m):
            last.limit = m.limit
            last.file = m.file or last.file
            last.build_id = m.build_id or last.build_id
            continue
        merged.append(m)
    maps[:] = merged
    for i, m in enumerate(maps):
        file = m.file.replace("(deleted)", "").strip()
        if not file or _SO_FILE.search(file) or file.startswith("["):
            continue
        maps[0], maps[i] = m, maps[0]
        break


def _adjacent(a: _MutableMapping, b: _MutableMapping) -> bool:
    if a.file and b.file and a.file != b.file:
        return False
    if a.build_id and b.build_id and a.build_id != b.build_id:
        return False
    if a.limit != b.start:
        return False
    return not (a.offset and b.offset and (a.offset + a.limit - a.start) % _U64 != b.offset)


class _Unsampler:
    """pprof's scaleHeapSample for one sampling rate, with Go's float64 arithmetic and math.Exp."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._exp: dict[float, float] = {}

    def __call__(self, count: int, size: int) -> tuple[int, int]:
        if count == 0 or size == 0:
            return 0, 0
        if self.rate <= 1:
            return count, size
        average = float(size) / float(count)
        x = -average / float(self.rate)
        e = self._exp.get(x)
        if e is None:
            e = self._exp[x] = gomath.go_exp(x)
        scale = 1 / (1 - e)
        return _go_int64(float(count) * scale), _go_int64(float(size) * scale)


def _go_int64(x: float) -> int:
    """Go's int64(float64) on amd64: truncation, and the 'integer indefinite' value when out of range."""
    if math.isnan(x) or not -(2.0**63) <= x < 2.0**63:
        return _I64_MIN
    return int(x)
