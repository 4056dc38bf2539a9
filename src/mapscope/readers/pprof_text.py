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
one. Stack addresses are return addresses and become location addresses minus one, as in pprof. Values
Go never writes (negative sizes, totals past int64) are errors naming the line, where pprof would wrap.

PCs are symbolized from the `#` lines Go writes after each record (the runtime's own CallersFrames view:
one frame per PC since Go 1.23, whose profiles give inlined calls PCs of their own; before, consecutive
lines of one PC are its inlining chain, innermost first; leading runtime frames and runtime.goexit have
none); a binary, when there is one, replaces them with its own frames (see symbolize.py).

Speed: the bytes are read in chunks that start at record lines. A chunk in the exact shape Go writes is
parsed with whole-chunk regular expressions and numpy (addresses and `#` line PCs are decoded as arrays,
and only the `#` lines of PCs not yet named are looked at); any other chunk goes line by line through
the general rules. Every regular expression here runs in time linear in its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from mapscope import gomath, limits, ranges
from mapscope.errors import MapscopeError
from mapscope.readers.pprof import (
    LABEL_NUM,
    LABEL_STR,
    Function,
    Mapping,
    MemStats,
    Profile,
    ValueType,
    check_stack_depths,
    make_locations,
    make_samples,
)

Progress = Callable[[int, int], None]
"""Called with (bytes read, bytes in all) as a long read goes on."""

# Chunks of about this many bytes are parsed at a time (a chunk always ends where a record line begins).
_CHUNK_BYTES = 1 << 22

_A = re.ASCII
_HEAP_HEADER = re.compile(
    r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *(heap[_a-z0-9]*)/?(\d*)", _A
)
_GROWTH_HEADER = re.compile(r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ growthz?", _A)
_FRAGMENTATION_HEADER = re.compile(
    r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] @ fragmentationz?", _A
)
_COUNT_HEADER = re.compile(rb"(\S+) profile: total \d+")
# pprof's heapSampleRE, searched anywhere in the line. A number may not start inside a run of digits
# and runs are taken whole: the same matches, without retrying every suffix of a long run.
_HEAP_RECORD = re.compile(
    rb"(-?(?<![0-9])[0-9]++): *+(-?[0-9]++) *+\[ *+([0-9]++): *+([0-9]++) *+\] @([ x0-9a-f]*+)"
)
_COUNT_RECORD = re.compile(rb"([0-9]++) @((?: 0x[0-9a-f]++)++)")
_HEX = re.compile(rb"0x([0-9a-f]++)")
_TABS = re.compile(rb"\t+")
_SYMBOL_HEAD = re.compile(rb"#\t++0x([0-9a-f]++)(?:\t|$)")
_MEMSTAT = re.compile(rb"# (\w++) = (.*)")
_MAP_SENTINELS = (b"--- Memory map: ---", b"MAPPED_LIBRARIES:")
_LOG_PREFIX = re.compile(r"^[^\[\]]+:[0-9]+]\s", _A)
_SO_FILE = re.compile(r"([.]so$|[.]so[._][0-9]+)", _A)
_LABEL_PAIRS = re.compile(rb'\{(?:"(?:[^"\\]|\\.)*+":"(?:[^"\\]|\\.)*+"(?:, )?+)*+\}')
_LABEL_PAIR = re.compile(rb'"((?:[^"\\]|\\.)*+)":"((?:[^"\\]|\\.)*+)"')

# Go's own shape: `%d: %d [%d: %d] @ 0x...` records and `#\t0x...` symbol lines, nothing else.
_GO_RECORD = re.compile(
    rb"^([0-9]{1,18}): ([0-9]{1,18}) \[([0-9]{1,18}): ([0-9]{1,18})\] @((?: 0x[0-9a-f]{1,16})*)$", re.M
)
_GO_SYMBOL = re.compile(rb"#\t0x([0-9a-f]{1,16})(\t.*)?")
_DIGITS = frozenset(b"0123456789")
_RECORD_START = re.compile(rb"\n[0-9-]")
# Decoding hex numbers looks at the 16 bytes before and the 17 after each: buffers carry this padding.
_FRONT = b"\0" * 16
_PADDING = b"\n" * 17

# pprof's memory map lines (/proc/self/maps, and its own brief form); possessive where backtracking
# could not change the match, so a long line costs linear time.
_HEX_RANGE = r"\s*+(?:0x)?([0-9A-Fa-f]++)[\s-]?+\s*+(?:0x)?([0-9A-Fa-f]++):?"
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
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)

Frame = tuple[str, str, int]


def looks_like_text(data: bytes | bytearray) -> bool:
    """True for the legacy text headers this module reads or knowingly refuses."""
    head = bytes(data[:4096])
    if head.lstrip().startswith((b"heap profile:", b"--- ")):
        return True
    for line in head.split(b"\n"):
        if line.strip(b" \t\r\f\v") and not line.startswith(b"#"):
            return bool(re.match(rb"\S+ profile: total \d", line))
    return False


def parse_text(data: bytes | bytearray, source: str, progress: Progress | None = None) -> Profile:
    """A legacy text profile -> Profile (unsampled like pprof); MapscopeError for anything else."""
    text = _Text(bytes(data), source, progress)
    first = text.line_at(0)[1]
    if first.startswith(b"---"):
        # Java heapz, contention/mutex and threadz text: formats Go's profiler does not write by default.
        shown = first.strip()[:40].decode("utf-8", "replace")
        raise MapscopeError(
            source,
            f"unsupported legacy profile ({shown!r}); only Go and C++ heap and Go count "
            "profiles are read (fetch Go profiles with debug=0 for profile.proto)",
        )
    builder = _Builder(text)
    header = first.decode("utf-8", "replace")
    if _HEAP_HEADER.search(header) or _GROWTH_HEADER.search(header) or _FRAGMENTATION_HEADER.search(header):
        _read_heap(header, text, builder)
    else:
        _read_count(text, builder)
    return builder.profile()


@dataclass
class _Text:
    """The input bytes, with line numbers for errors and the progress callback."""

    data: bytes
    source: str
    progress: Progress | None

    def error(self, offset: int, problem: str) -> MapscopeError:
        line = self.data.count(b"\n", 0, offset) + 1
        return MapscopeError(f"{self.source}:{line}", problem)

    def line_at(self, offset: int) -> tuple[int, bytes]:
        """(offset of the next line, this line without its end of line)."""
        end = self.data.find(b"\n", offset)
        if end < 0:
            end = len(self.data)
        return end + 1, self.data[offset:end].removesuffix(b"\r")

    def lines(self, start: int, stop: int) -> Iterator[tuple[int, bytes]]:
        """(offset, line) of every line that begins in [start, stop)."""
        while start < stop:
            following, line = self.line_at(start)
            yield start, line
            start = following

    def report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, len(self.data))


def _decimal(digits: bytes, text: _Text, offset: int, what: str) -> int:
    """A decimal integer as Go's strconv.ParseInt(s, 10, 64) reads it; an error past int64."""
    negative = digits.startswith(b"-")
    significant = digits.removeprefix(b"-").lstrip(b"0")
    value = int(significant) if 0 < len(significant) <= 19 else 0
    if negative:
        value = -value
    if len(significant) > 19 or not _I64_MIN <= value <= _I64_MAX:
        raise text.error(offset, f"{what} {digits[:40].decode()} does not fit in 64 bits")
    return value


def _hex_addresses(found: list[bytes], text: _Text, offset: int) -> list[int]:
    addresses = []
    for digits in found:
        significant = digits.lstrip(b"0")
        if len(significant) > 16:
            raise text.error(offset, f"address 0x{digits[:40].decode()} does not fit in 64 bits")
        addresses.append(int(significant or b"0", 16))
    return addresses


def _symbol_pc(digits: bytes) -> int | None:
    significant = digits.lstrip(b"0")
    return int(significant or b"0", 16) if len(significant) <= 16 else None


def _symbol_line(line: bytes) -> tuple[int, Frame | None] | None:
    """A `#\\t0xPC[\\tfunction+0xOFF\\tfile:line]` line -> (PC, frame or None); None for other lines."""
    head = _SYMBOL_HEAD.match(line)
    pc = _symbol_pc(head.group(1)) if head else None
    if pc is None:
        return None
    fields = _TABS.split(line)
    if len(fields) < 3 or not fields[2]:
        return pc, None
    function, plus, offset = fields[2].rpartition(b"+0x")
    name = function if plus and _is_hex(offset) else fields[2]
    file, colon, number = b"\t".join(fields[3:]).rpartition(b":")
    digits = number.lstrip(b"0")
    line_number = int(digits) if colon and digits.isdigit() and len(digits) <= 18 else 0
    if not colon:
        file = b"\t".join(fields[3:])
    return pc, (name.decode("utf-8", "replace"), file.decode("utf-8", "replace"), line_number)


def _is_hex(digits: bytes) -> bool:
    return bool(digits) and not digits.translate(None, b"0123456789abcdef")


def _chain(frames: list[Frame | None]) -> tuple[Frame, ...]:
    """One PC's inlining chain from its consecutive `#` lines: up to where the first frame comes again
    (direct recursion repeats a PC; Go never inlines a function into itself)."""
    chain: list[Frame] = []
    for frame in frames:
        if frame is None or (chain and frame == chain[0]):
            break
        chain.append(frame)
    return tuple(chain)


@dataclass
class _MutableMapping:
    start: int
    limit: int
    offset: int
    file: str
    build_id: str


class _Numbered:
    """Numbered PCs, looked up many at a time (a sorted array, grown a batch at a time)."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.numbers = np.zeros(0, dtype=np.int64)

    def find(self, pcs: np.ndarray) -> np.ndarray:
        """The number of each PC, -1 for those not added."""
        if self.keys.size == 0:
            return np.full(pcs.size, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, pcs), self.keys.size - 1)
        return np.where(self.keys[at] == pcs, self.numbers[at], -1)

    def add(self, pcs: np.ndarray, numbers: np.ndarray) -> None:
        keys = np.concatenate((self.keys, pcs))
        order = np.argsort(keys, kind="stable")
        self.keys, self.numbers = keys[order], np.concatenate((self.numbers, numbers))[order]


@dataclass
class _Builder:
    """Collects what the parsers find, then builds the Profile the way google/pprof finishes one."""

    text: _Text
    format: str = ""
    sample_types: list[ValueType] = field(default_factory=list)
    period_type: ValueType | None = None
    period: int = 0
    sampled: bool = False
    # Per chunk: raw record values, record offsets, stack lengths, location indices; the location of
    # each PC (return address - 1).
    values: list[np.ndarray] = field(default_factory=list)
    offsets: list[np.ndarray] = field(default_factory=list)
    depths: list[np.ndarray] = field(default_factory=list)
    stacks: list[np.ndarray] = field(default_factory=list)
    locations: list[int] = field(default_factory=list)
    location_of: _Numbered = field(default_factory=_Numbered)
    records: int = 0
    labels: dict[int, list[tuple[str, str | None, int]]] = field(default_factory=dict)
    symbols: dict[int, tuple[Frame, ...]] = field(default_factory=dict)
    named: _Numbered = field(default_factory=_Numbered)
    mappings: list[_MutableMapping] = field(default_factory=list)
    memstats: MemStats | None = None
    drop_frames: str = ""
    keep_frames: str = ""

    def add_records(
        self, values: np.ndarray, offsets: np.ndarray, depths: np.ndarray, pcs: np.ndarray
    ) -> None:
        """Records of one chunk; their PCs become location indices, numbered in order of appearance."""
        found = self.location_of.find(pcs)
        missing = found < 0
        if missing.any():
            new, first = np.unique(pcs[missing], return_index=True)
            new = new[np.argsort(first, kind="stable")]
            self.location_of.add(new, np.arange(len(self.locations), len(self.locations) + new.size))
            self.locations.extend(new.tolist())
            found = self.location_of.find(pcs)
        self.values.append(values)
        self.offsets.append(offsets)
        self.depths.append(depths)
        self.stacks.append(found.astype(np.int32))
        self.records += len(offsets)

    def add_runs(self, runs: list[tuple[int, list[bytes]]]) -> None:
        """Runs of consecutive `#` lines of one PC; the first named run of a PC not named yet names it."""
        new = []
        for pc, lines in runs:
            if pc not in self.symbols:
                frames = [symbol[1] if (symbol := _symbol_line(line)) else None for line in lines]
                if frames[0] is not None:
                    self.symbols[pc] = _chain(frames)
                    new.append(pc)
        if new:
            self.named.add(np.array(new, dtype=np.uint64), np.zeros(len(new), dtype=np.int64))

    def profile(self) -> Profile:
        width = 1 if self.format == "count-text" else 4
        raw = np.concatenate(self.values) if self.values else np.zeros((0, width), dtype=np.int64)
        offsets = np.concatenate(self.offsets) if self.offsets else np.zeros(0, dtype=np.int64)
        depths = np.concatenate(self.depths) if self.depths else np.zeros(0, dtype=np.int64)
        check_stack_depths(depths, self.text.source)
        stacks = np.concatenate(self.stacks) if self.stacks else np.zeros(0, dtype=np.int32)
        values = self.finish_values(raw, offsets)
        order = np.array(self.locations, dtype=np.uint64)  # location i has address order[i]
        mapping_of = self.assign_mappings(order)
        symbols = self.symbols
        strings = _Strings()
        functions: list[Function] = []
        function_index: dict[tuple[str, str], int] = {}
        line_counts = np.zeros(order.size, dtype=np.int64)
        line_function: list[int] = []
        line_number: list[int] = []
        for i, pc in enumerate(order.tolist()):
            chain = symbols.get(pc, ())
            line_counts[i] = len(chain)
            for name, file, line in chain:
                identity = (name, file)
                index = function_index.get(identity)
                if index is None:
                    index = function_index[identity] = len(functions)
                    functions.append(Function(len(functions) + 1, name, name, file, 0))
                line_function.append(index)
                line_number.append(line)
        locations = make_locations(
            ids=np.arange(1, order.size + 1, dtype=np.uint64),
            mapping=mapping_of,
            address=order,
            is_folded=np.zeros(order.size, dtype=bool),
            line_counts=line_counts,
            line_function=np.array(line_function, dtype=np.int64),
            line_number=np.array(line_number, dtype=np.int64),
            line_column=np.zeros(len(line_number), dtype=np.int64),
        )
        mappings = tuple(
            Mapping(i + 1, m.start, m.limit, m.offset, m.file, m.build_id, False, False, False, False)
            for i, m in enumerate(self.mappings)
        )
        samples = make_samples(values, ranges.offsets(depths), stacks, self.label_columns(raw, strings))
        for vt in self.sample_types:
            strings.index(vt.type)
            strings.index(vt.unit)
        return Profile(
            source=self.text.source,
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
            locations=locations,
            functions=tuple(functions),
            samples=samples,
            strings=strings.table(),
            memstats=self.memstats,
        )

    def finish_values(self, raw: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Sample values from the raw record columns; heap records are checked and unsampled here."""
        if self.format == "count-text":
            return raw
        values = np.zeros((raw.shape[0], len(self.sample_types)), dtype=np.int64)
        pairs = [(0, "allocation", 2), (2, "inuse", 0)] if len(self.sample_types) == 4 else [(0, "inuse", 0)]
        for column, what, source in pairs:
            count, size = raw[:, source], raw[:, source + 1]
            for bad, problem in (
                (count < 0, f"negative {what} count"),
                (size < 0, f"negative {what} bytes"),
                ((count == 0) & (size != 0), f"{what} count is 0 but {what} bytes is not"),
            ):
                if bad.any():
                    raise self.text.error(int(offsets[np.argmax(bad)]), problem)
            values[:, column], values[:, column + 1] = self.unsample(count, size, offsets)
        for column in range(values.shape[1]):
            magnitude = np.abs(values[:, column]).astype(np.float64).sum()
            if magnitude >= 2.0**62 and sum(abs(int(v)) for v in values[:, column]) > _I64_MAX:
                raise MapscopeError(
                    self.text.source, f"the {self.sample_types[column].type} values add up past 64 bits"
                )
        return values

    def unsample(
        self, count: np.ndarray, size: np.ndarray, offsets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """pprof's scaleHeapSample, with Go's float64 arithmetic and math.Exp; overflow is an error."""
        live = (count != 0) & (size != 0)
        if not self.sampled or self.period <= 1:
            return np.where(live, count, 0), np.where(live, size, 0)
        counts, sizes = count.astype(np.float64), size.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = -(sizes / counts) / float(self.period)
            keys, where = np.unique(x[live], return_inverse=True)
            exps = np.array([gomath.go_exp(float(v)) for v in keys.tolist()], dtype=np.float64)
            scale = np.ones(x.size, dtype=np.float64)
            scale[live] = 1 / (1 - exps[where])
            scaled_counts, scaled_sizes = counts * scale, sizes * scale
        result = []
        for scaled in (scaled_counts, scaled_sizes):
            bad = live & ~(np.abs(scaled) < 2.0**63)
            if bad.any():
                raise self.text.error(
                    int(offsets[np.argmax(bad)]), "the unsampled value does not fit in 64 bits"
                )
            result.append(np.where(live, np.trunc(np.where(live, scaled, 0)).astype(np.int64), 0))
        return result[0], result[1]

    def label_columns(
        self, raw: np.ndarray, strings: _Strings
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Heap records carry pprof's numeric `bytes` label (the block size); count records their labels."""
        n = raw.shape[0]
        if self.format != "count-text":
            block = np.zeros(n, dtype=np.int64)
            for source in (2, 0) if len(self.sample_types) == 4 else (0,):
                count, size = raw[:, source], raw[:, source + 1]
                nonzero = count != 0
                block[nonzero] = size[nonzero] // count[nonzero]
            key = np.full(n, strings.index("bytes"), dtype=np.int64)
            zeros = np.zeros(n, dtype=np.int64)
            return (np.arange(n + 1, dtype=np.int64), key, zeros, block, zeros.copy(),
                    np.full(n, LABEL_NUM, dtype=np.int8))  # fmt: skip
        counts = np.zeros(n, dtype=np.int64)
        flat: list[tuple[str, str | None, int]] = []
        for record in sorted(self.labels):
            counts[record] = len(self.labels[record])
            flat.extend(self.labels[record])
        key = np.array([strings.index(lb[0]) for lb in flat], dtype=np.int64)
        str_ = np.array([strings.index(lb[1]) if lb[1] is not None else 0 for lb in flat], dtype=np.int64)
        num = np.array([lb[2] for lb in flat], dtype=np.int64)
        kind = np.array([LABEL_STR if lb[1] is not None else LABEL_NUM for lb in flat], dtype=np.int8)
        return ranges.offsets(counts), key, str_, num, np.zeros_like(num), kind

    def assign_mappings(self, order: np.ndarray) -> np.ndarray:
        """Which mapping each location falls in (-1: none), adjusting mappings as pprof's legacy reader
        does: the first mapping that holds the address, else the first with an offset that reaches back
        over it (that mapping then starts lower), else a fake mapping over everything."""
        maps = self.mappings
        if len(maps) > 1 and maps[0].file.startswith("/anon_hugepage") and maps[0].limit == maps[1].start:
            del maps[0]
        if maps and (maps[0].start - maps[0].offset) % _U64 == 0x400000:
            maps[0].start, maps[0].offset = 0x400000, 0
        result = np.full(order.size, -1, dtype=np.int64)
        by_address = np.argsort(order, kind="stable")
        addresses = order[by_address]

        def claim(index: int, start: int, limit: int, after: int) -> None:
            """Locations past `after` in [start, limit) that no lower-numbered mapping holds go to index."""
            lo, hi = np.searchsorted(addresses, [start, limit], side="left")
            chosen = by_address[lo:hi]
            chosen = chosen[(chosen > after) & ((result[chosen] < 0) | (result[chosen] > index))]
            result[chosen] = index

        for j, m in enumerate(maps):
            if m.start < m.limit:
                claim(j, m.start, m.limit, -1)
        for i in np.flatnonzero(result < 0).tolist():
            address = int(order[i])
            if result[i] >= 0 or address == 0:
                continue
            for j, m in enumerate(maps):
                if m.offset != 0 and (m.start - m.offset) % _U64 <= address < m.start:
                    old = m.start
                    m.start, m.offset = (m.start - m.offset) % _U64, 0
                    result[i] = j
                    claim(j, m.start, old, i)
                    break
            else:
                maps.append(_MutableMapping(0, _U64 - 1, 0, "", ""))
                rest = np.flatnonzero(result < 0)
                result[rest[rest >= i]] = len(maps) - 1
                break
        result[order == 0] = -1
        return result


class _Strings:
    def __init__(self) -> None:
        self._index: dict[str, int] = {"": 0}

    def index(self, text: str) -> int:
        return self._index.setdefault(text, len(self._index))

    def table(self) -> tuple[str, ...]:
        return tuple(self._index)


def _read_heap(header: str, text: _Text, b: _Builder) -> None:
    b.period_type = ValueType("space", "bytes")
    has_alloc = False
    if match := _HEAP_HEADER.search(header):
        tag, rate = match.group(5), match.group(6)
        period = _decimal(rate.encode(), text, 0, "header rate") if rate else 0
        inuse_n, inuse_b, alloc_n, alloc_b = match.group(1, 2, 3, 4)
        # pprof compares the header's numbers as text to tell 4-column profiles from 2-column ones.
        has_alloc = (alloc_n not in (inuse_n, "0")) or (alloc_b not in (inuse_b, "0"))
        if tag in ("heapz_v2", "heap_v2"):
            b.sampled, b.period, b.format = True, period, "heapz-text"
        elif tag == "heapprofile":
            b.period, b.format = 1, "heapz-text"
        elif tag == "heap":
            # Go writes 2 * MemProfileRate here, for the old C++ heap profiler's sake.
            b.sampled, b.period, b.format = True, period // 2, "go-heap-text"
        else:
            raise text.error(0, f"unknown heap profile sampling {tag!r}")
    else:
        b.period = 1
        b.format = "growthz-text" if _GROWTH_HEADER.search(header) else "fragmentationz-text"
    if has_alloc:
        names = [("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"),
                 ("inuse_space", "bytes")]  # fmt: skip
    else:
        names = [("objects", "count"), ("space", "bytes")]
    b.sample_types = [ValueType(t, u) for t, u in names]
    start = text.line_at(0)[0]
    stop = _records_end(text, start, dashes=False)
    _read_records(text, start, stop, b, _HeapRecords(text, b))
    _read_memory_map(text, stop, b)
    if tuple(vt.type for vt in b.sample_types) in _HEAP_TYPE_SETS:
        b.drop_frames, b.keep_frames = _ALLOC_DROP, _ALLOC_KEEP


def _read_count(text: _Text, b: _Builder) -> None:
    start = 0
    while start < len(text.data):
        following, line = text.line_at(start)
        if line.strip() and not line.strip().startswith(b"#"):
            break
        start = following
    match = _COUNT_HEADER.fullmatch(text.line_at(start)[1]) if start < len(text.data) else None
    if match is None:
        raise MapscopeError(
            text.source, "not a pprof profile (neither profile.proto nor a known text format)"
        )
    kind = match.group(1).decode("utf-8", "replace")
    b.format = "count-text"
    b.sample_types = [ValueType(kind, "count")]
    b.period_type, b.period = ValueType(kind, "count"), 1
    start = text.line_at(start)[0]
    stop = _records_end(text, start, dashes=True)
    _read_records(text, start, stop, b, _CountRecords(text, b, kind))
    _read_memory_map(text, stop, b)
    b.drop_frames = _CPU_DROP


def _records_end(text: _Text, start: int, dashes: bool) -> int:
    """Where the records end: the first line that is no comment and holds a memory map sentinel (or,
    in count profiles, starts with `---`); the end of the input if none does."""
    data = text.data
    position = start
    while True:
        found = [data.find(s, position) for s in _MAP_SENTINELS]
        if dashes:
            found.append(data.find(b"---", position))
        hits = [f for f in found if f >= 0]
        if not hits:
            return len(data)
        hit = min(hits)
        newline = data.rfind(b"\n", position, hit)
        line_start = newline + 1 if newline >= 0 else position
        following, line = text.line_at(line_start)
        stripped = line.strip()
        is_sentinel = any(s in line for s in _MAP_SENTINELS)
        if stripped and not stripped.startswith(b"#") and (is_sentinel or line.startswith(b"---")):
            return line_start
        position = following


@dataclass
class _Trailer:
    """What comment lines say outside the symbols: MemStats (heap) and goroutine labels (count)."""

    memstats: dict[str, bytes] | None = None


class _HeapRecords:
    """Heap record lines: raw columns inuse count, inuse bytes, alloc count, alloc bytes."""

    width = 4

    def __init__(self, text: _Text, b: _Builder) -> None:
        self.text, self.b = text, b

    def record(self, offset: int, raw: bytes, line: bytes) -> tuple[list[int], list[int]]:
        match = _HEAP_RECORD.search(line)
        if match is None:
            raise self.text.error(offset, f"not a heap profile record: {_shown(line)}")
        whats = ("inuse count", "inuse bytes", "allocation count", "allocation bytes")
        row = [_decimal(match.group(i + 1), self.text, offset, what) for i, what in enumerate(whats)]
        return row, _hex_addresses(_HEX.findall(match.group(5)), self.text, offset)

    def fast(self, chunk: bytes, base: int) -> bool:
        """A chunk in exactly Go's shape, parsed as a whole; False (nothing taken) for any other.

        `#` lines repeat a lot (one per frame of every record), so they are judged by their distinct
        texts; only the lines of PCs not named yet are then looked for in order."""
        symbols: dict[int, bool] = {}  # PC -> whether its lines are named
        for line in set(chunk.split(b"\n")):
            if not line or line[0] in _DIGITS:
                continue
            shape = _GO_SYMBOL.fullmatch(line)
            if shape is None or line[-1:].isspace():  # a line the general rules would strip
                return False
            pc, named = int(shape.group(1), 16), shape.group(2) is not None
            if symbols.setdefault(pc, named) != named:
                return False
        padded = np.frombuffer(_FRONT + chunk + _PADDING, dtype=np.uint8)
        data = padded[len(_FRONT) : len(_FRONT) + len(chunk)]
        newlines = np.flatnonzero(data == 10)
        starts = np.concatenate(([0], newlines + 1))
        starts = starts[starts < data.size]
        first = data[starts]
        record_starts = starts[(first >= ord("0")) & (first <= ord("9"))]
        symbol_starts = starts[first == ord("#")]
        record_ends = np.append(newlines, data.size)[np.searchsorted(newlines, record_starts)]
        spans = zip(record_starts.tolist(), record_ends.tolist(), strict=True)
        rows = _GO_RECORD.findall(b"\n".join([chunk[a:z] for a, z in spans]))
        if record_starts.size != len(rows):
            return False
        addresses = np.frombuffer(_FRONT + b"\n".join([row[4] for row in rows]) + _PADDING, dtype=np.uint8)
        x = np.flatnonzero(addresses == ord("x"))
        depths = np.bincount(np.searchsorted(np.flatnonzero(addresses == 10), x), minlength=len(rows))
        values = np.array([row[:4] for row in rows], dtype="S18").astype(np.int64).reshape(len(rows), 4)
        pcs = _hex_tokens(addresses, x + 1)[0] - np.uint64(1)
        self.b.add_records(values, record_starts + base, depths.astype(np.int64), pcs)
        new = {pc for pc, named in symbols.items() if named and pc not in self.b.symbols}
        if new:
            self.name(chunk, padded, symbol_starts, new)
        return True

    def name(self, chunk: bytes, padded: np.ndarray, symbol_starts: np.ndarray, new: set[int]) -> None:
        """The chains of PCs named for the first time: the run of `#` lines that starts at the first
        line of each (its lines are all named, so that is its first named run)."""
        pcs = _hex_tokens(padded, symbol_starts + len(_FRONT) + 4)[0]
        hit = np.isin(pcs, np.array(sorted(new), dtype=np.uint64))
        unique, first = np.unique(pcs[hit], return_index=True)
        starts = symbol_starts[hit][first]
        self.b.add_runs(
            [(pc, _run(chunk, at, pc)) for pc, at in zip(unique.tolist(), starts.tolist(), strict=True)]
        )


def _run(chunk: bytes, at: int, pc: int) -> list[bytes]:
    """The `#` lines of `pc` from `at` on (blank lines between them skipped, as the general rules do),
    up to a record line or a line of another PC."""
    lines = []
    while at < len(chunk):
        end = chunk.find(b"\n", at)
        end = len(chunk) if end < 0 else end
        line = chunk[at:end]
        at = end + 1
        if not line:
            continue
        if not line.startswith(b"#") or int(line[4:].split(b"\t", 1)[0], 16) != pc:
            break
        lines.append(line)
    return lines


class _CountRecords:
    """Count profile record lines (`N @ 0x...`), with their goroutine labels."""

    width = 1

    def __init__(self, text: _Text, b: _Builder, kind: str) -> None:
        self.text, self.b, self.kind = text, b, kind

    def record(self, offset: int, raw: bytes, line: bytes) -> tuple[list[int], list[int]]:
        found = _COUNT_RECORD.fullmatch(raw)
        if found is None:
            raise self.text.error(offset, f"not a {self.kind} profile record: {_shown(raw)}")
        digits = found.group(1)
        # strconv.ParseInt(s, 0, 64): a leading 0 means octal.
        octal = len(digits) > 1 and digits.startswith(b"0")
        significant = digits.lstrip(b"0")
        if octal and significant.translate(None, b"01234567"):
            raise self.text.error(offset, f"bad count {_shown(digits)}")
        if len(significant) > (22 if octal else 19):
            raise self.text.error(offset, f"count {_shown(digits)} does not fit in 64 bits")
        count = int(significant or b"0", 8 if octal else 10)
        if count > _I64_MAX:
            raise self.text.error(offset, f"count {_shown(digits)} does not fit in 64 bits")
        return [count], _hex_addresses(_HEX.findall(found.group(2)), self.text, offset)

    def fast(self, chunk: bytes, base: int) -> bool:
        return False


def _shown(line: bytes) -> str:
    return repr(line[:80].decode("utf-8", "replace"))


def _hex_tokens(padded: np.ndarray, begin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hex numbers starting at each of `begin` in a buffer padded with _FRONT and _PADDING: (values
    as uint64, digit counts, the byte after). A count of 0 (no digit, or more than 16) is the caller's
    to refuse."""
    digits = _HEX_VALUE[np.lib.stride_tricks.sliding_window_view(padded, 17)[begin]]
    count = np.argmax(digits > 15, axis=1)
    values = np.zeros(begin.size, dtype=np.uint64)
    for column in range(int(count.max(initial=0))):
        values = np.where(column < count, (values << 4) | digits[:, column], values)
    return values, count, padded[begin + count]


def _read_records(
    text: _Text, start: int, stop: int, b: _Builder, reader: _HeapRecords | _CountRecords
) -> None:
    """Records and their `#` lines in [start, stop), chunk by chunk, each Go-shaped one at once."""
    trailer = _Trailer()
    data = text.data
    # Go's MemStats comments close the records: a chunk of their own, so the last records stay fast.
    memstats = data.rfind(b"\n# runtime.MemStats", start, stop) + 1
    position = start
    while position < stop:
        end = memstats if position < memstats else stop
        if end - position > 2 * _CHUNK_BYTES:
            target = position + _CHUNK_BYTES
            record = _RECORD_START.search(data, target, target + _CHUNK_BYTES)
            newline = data.find(b"\n", target, end)
            end = record.start() + 1 if record else (newline + 1 if newline >= 0 else end)
        if not reader.fast(data[position:end], position):
            _read_lines(text, position, end, b, reader, trailer)
        text.report(end)
        position = end
    if trailer.memstats is not None:
        b.memstats = _memstats(trailer.memstats, text.source)


def _read_lines(
    text: _Text, start: int, stop: int, b: _Builder, reader: _HeapRecords | _CountRecords, trailer: _Trailer
) -> None:
    """The general rules, line by line: pprof's for records, Go's for `#` lines."""
    rows: list[list[int]] = []
    offsets: list[int] = []
    depths: list[int] = []
    pcs: list[int] = []
    runs: list[tuple[int, list[bytes]]] = []
    for offset, raw in text.lines(start, stop):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(b"#"):
            if head := _SYMBOL_HEAD.match(line):
                pc = _symbol_pc(head.group(1))
                if pc is None:
                    continue
                if runs and runs[-1][0] == pc and runs[-1][1]:
                    runs[-1][1].append(line)
                else:
                    runs.append((pc, [line]))
            elif line.startswith(b"# labels:") and b.records + len(offsets) > 0:
                labels = b.labels.setdefault(b.records + len(offsets) - 1, [])
                labels.extend(_goroutine_labels(line.removeprefix(b"# labels:").strip()))
            elif line == b"# runtime.MemStats":
                trailer.memstats = {}
            elif trailer.memstats is not None and (stat := _MEMSTAT.fullmatch(line)):
                trailer.memstats[stat.group(1).decode()] = stat.group(2)
            continue
        runs.append((0, []))  # a record ends a run
        row, addresses = reader.record(offset, raw, line)
        rows.append(row)
        offsets.append(offset)
        depths.append(len(addresses))
        pcs.extend((a - 1) % _U64 for a in addresses)
    b.add_runs([run for run in runs if run[1]])
    b.add_records(
        np.array(rows, dtype=np.int64).reshape(len(rows), reader.width),
        np.array(offsets, dtype=np.int64),
        np.array(depths, dtype=np.int64),
        np.array(pcs, dtype=np.uint64),
    )


def _goroutine_labels(text: bytes) -> list[tuple[str, str | None, int]]:
    """`{"key":"value", ...}` as Go prints goroutine labels (quoted with %q, which JSON nearly always reads)."""
    try:
        decoded = json.loads(text)
    except ValueError:
        if not _LABEL_PAIRS.fullmatch(text):
            return []
        decoded = {
            k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in _LABEL_PAIR.findall(text)
        }
    if not isinstance(decoded, dict):
        return []
    return [(str(k), str(v), 0) for k, v in decoded.items()]


def _memstats(fields: dict[str, bytes], source: str) -> MemStats:
    values: list[tuple[str, int]] = []
    pairs: list[tuple[str, int, int]] = []
    pause_ns: tuple[int, ...] = ()
    pause_end: tuple[int, ...] = ()
    fraction: float | None = None
    debug_gc: bool | None = None
    for name, raw in fields.items():
        text = raw.decode("utf-8", "replace")
        try:
            if name in ("PauseNs", "PauseEnd"):
                numbers = tuple(_stat(x) for x in text.strip("[]").split())
                if name == "PauseNs":
                    pause_ns = numbers
                else:
                    pause_end = numbers
            elif name == "GCCPUFraction":
                fraction = float(text)
            elif name == "DebugGC":
                debug_gc = text == "true"
            elif " / " in text:
                inuse, sys = text.split(" / ", 1)
                pairs.append((name, _stat(inuse), _stat(sys)))
            else:
                values.append((name, _stat(text)))
        except ValueError:
            raise MapscopeError(source, f"unreadable runtime.MemStats line: {name} = {text[:60]}") from None
    return MemStats(tuple(values), tuple(pairs), pause_ns, pause_end, fraction, debug_gc)


def _stat(text: str) -> int:
    """A MemStats number: a uint64 in decimal (ValueError for anything else)."""
    digits = text.strip()
    significant = digits.lstrip("0") or "0"
    if not digits.isascii() or not digits.isdigit() or len(significant) > 20 or int(significant) >= _U64:
        raise ValueError(text)
    return int(significant)


def _read_memory_map(text: _Text, start: int, b: _Builder) -> None:
    """The optional memory map after a sentinel line (/proc/self/maps or pprof's brief form)."""
    data = text.data
    found = [f for f in (data.find(s, start) for s in _MAP_SENTINELS) if f >= 0]
    if not found:
        return
    expander = _Expander(text, len(data) + limits.MAP_EXPANSION_SLACK_BYTES)
    for offset, raw in text.lines(text.line_at(min(found))[0], len(data)):
        line = expander.expand(offset, _LOG_PREFIX.sub("", raw.decode("utf-8", "replace"), count=1))
        entry = _mapping_entry(line)
        if entry is None:
            name, sep, value = line.partition("=")
            if sep:
                expander.define(offset, "$" + name.strip(), value.strip())
            continue
        if entry.file != "\0":
            b.mappings.append(entry)
    _massage_mappings(b.mappings)
    if len(b.mappings) > limits.MAPPINGS_MAX:
        raise MapscopeError(
            text.source, f"more than {limits.MAPPINGS_MAX} executable mappings in the memory map"
        )


class _Expander:
    """`$NAME` -> value in memory map lines, as pprof's strings.Replacer does it: one pass, at each
    position the earliest defined name that matches; bounded in work and in output."""

    def __init__(self, text: _Text, budget: int) -> None:
        self.text = text
        self.budget = budget
        self.work = 0
        self.values: dict[str, str] = {}
        self.names_size = 0
        self.pattern: re.Pattern[str] | None = None

    def define(self, offset: int, name: str, value: str) -> None:
        if len(self.values) >= limits.MAP_VARIABLES_MAX:
            raise self.text.error(offset, f"more than {limits.MAP_VARIABLES_MAX} variables in the memory map")
        if name not in self.values:
            self.values[name] = value
            self.names_size += len(name)
            self.pattern = None

    def expand(self, offset: int, line: str) -> str:
        if not self.values or "$" not in line:
            return line
        self.work += line.count("$") * self.names_size
        if self.work > limits.MAP_SUBSTITUTION_WORK_MAX:
            raise self.text.error(offset, "the memory map's $NAME substitutions take too long to expand")
        if self.pattern is None:
            self.pattern = re.compile("|".join(re.escape(name) for name in self.values))
        grown = sum(len(self.values[m.group()]) - len(m.group()) for m in self.pattern.finditer(line))
        self.budget -= len(line) + max(grown, 0)
        if self.budget < 0:
            raise self.text.error(offset, "the memory map's $NAME substitutions expand past the input's size")
        return self.pattern.sub(lambda m: self.values[m.group()], line)


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
    if max(len(start.lstrip("0")), len(end.lstrip("0")), len((offset or "").lstrip("0"))) > 16:
        return None
    return _MutableMapping(int(start, 16), int(end, 16), int(offset or "0", 16), file or "", build_id or "")


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
