"""Go benchmark results (`go test -bench` text, or the same inside `go test -json`) as typed records.

The text follows the Go benchmark data format (golang/proposal design/14313): `key: value` configuration
lines that hold until the key is set again, `Benchmark<Name> <iterations> <value> <unit>...` result lines,
`Unit <unit> key=value...` metadata lines, and anything else ignored. Line splitting, whitespace, the
configuration-line grammar and the `-<procs>` suffix follow golang/perf's benchfmt reader, so benchstat
and mapscope see the same results; where benchfmt only warns about a malformed result or metadata line,
mapscope stops with the file and line, since a silently dropped sample changes every statistic.

Under `go test -json` the same text arrives in `output` events, and one result line may be split across
two events; each package's outputs are joined in order before the text is read, and a line's number is
the JSON line where it began.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mapscope import limits
from mapscope.errors import MapscopeError
from mapscope.readers import jsontext

_MAX_BYTES = 256 << 20  # far beyond any real benchmark log; keeps a wrong path from filling memory
_MAX_INT64 = (1 << 63) - 1

# Go's unicode.IsSpace: the ASCII controls \t..\r and space, NEL, NBSP and the other White_Space runes.
_SPACE_CHARS = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_FIELDS_RE = re.compile(f"[^{_SPACE_CHARS}]+")
_SPACE_RE = re.compile(f"[{_SPACE_CHARS}]")
# strconv.ParseFloat's syntax: decimal or hexadecimal (binary exponent required) numbers, inf and nan.
_DECIMAL_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_RE = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+")
_SPECIAL_RE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
_INTEGER_RE = re.compile(r"[+-]?\d+")
# Units the testing package writes itself: never negative. (ReportMetric's own units may be.)
_NON_NEGATIVE_UNITS = frozenset(("ns/op", "B/op", "allocs/op", "MB/s"))


class SourceKind(StrEnum):
    TEXT = "text"
    TEST2JSON = "test2json"


@dataclass(frozen=True)
class Metric:
    """One `<value> <unit>` pair of a result line, exactly as printed (no unit normalisation)."""

    value: float
    unit: str


@dataclass(frozen=True)
class BenchResult:
    """One result line: a single run of one benchmark.

    `full_name` is the name without the `Benchmark` prefix, as benchstat shows it (`MapGrow/n=1000-2`);
    `name` drops the sub-benchmark parts and the `-<procs>` suffix (`MapGrow`); `sub` holds the `/`-separated
    parts (`("n=1000",)`) and `procs` the GOMAXPROCS suffix, None when the name has none (the testing
    package omits it when GOMAXPROCS is 1). Like benchstat, a trailing `-<digits>` is always taken as the
    GOMAXPROCS suffix. `config` is the file configuration in force, in benchfmt's key order.
    """

    name: str
    full_name: str
    sub: tuple[str, ...]
    procs: int | None
    iterations: int
    metrics: tuple[Metric, ...]
    config: tuple[tuple[str, str], ...]
    line: int

    @property
    def parts(self) -> tuple[str, ...]:
        """benchfmt's name parts after the base name: `/<sub>` each, then `-<procs>` if present."""
        if self.procs is None:
            return tuple(f"/{part}" for part in self.sub)
        cut = self.full_name.rindex("-")
        return (*(f"/{part}" for part in self.sub), self.full_name[cut:])

    def config_value(self, key: str) -> str:
        """The configuration value of `key` for this result, "" when unset."""
        for have, value in self.config:
            if have == key:
                return value
        return ""


@dataclass(frozen=True)
class UnitNote:
    """A `Unit <unit> <key>=<value>` metadata line, e.g. `Unit text-bytes assume=exact`."""

    unit: str
    key: str
    value: str
    line: int


@dataclass(frozen=True)
class BenchFile:
    source: str
    kind: SourceKind
    results: tuple[BenchResult, ...]
    unit_notes: tuple[UnitNote, ...]


def split_fields(text: str) -> list[str]:
    """Go's strings.Fields: runs of non-space runes."""
    return _FIELDS_RE.findall(text)


def split_name(full_name: str) -> tuple[str, tuple[str, ...], int | None]:
    """(base name, sub-benchmark parts, procs) of a name without its `Benchmark` prefix."""
    body, procs = full_name, None
    cut = full_name.rfind("-")
    if 0 <= cut < len(full_name) - 1 and full_name[cut + 1 :].isascii() and full_name[cut + 1 :].isdigit():
        body, procs = full_name[:cut], int(full_name[cut + 1 :])
    base, *sub = body.split("/")
    return base, tuple(sub), procs


def _parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64), or None where Go reports a syntax or range error."""
    if _SPECIAL_RE.fullmatch(text):
        return float(text)
    if _DECIMAL_RE.fullmatch(text):
        value = float(text)
    elif _HEX_RE.fullmatch(text):
        value = float.fromhex(text)
    else:
        return None
    return None if value in (float("inf"), float("-inf")) else value


def _is_lower(char: str) -> bool:
    return unicodedata.category(char) == "Ll"


def _key_value(line: str) -> tuple[str, str] | None:
    """A configuration line's (key, value): the key starts lower-case and has no space or upper-case rune;
    an empty value (the colon ends the line) unsets the key; otherwise spaces or tabs must follow the colon.
    """
    colon = line.find(":")
    if colon <= 0 or not _is_lower(line[0]):
        return None
    key = line[:colon]
    if _SPACE_RE.search(key) or any(unicodedata.category(c) == "Lu" for c in key):
        return None
    value = line[colon + 1 :]
    if not value:
        return key, ""
    stripped = value.lstrip(" \t")
    return (key, stripped) if len(stripped) < len(value) else None


class _Stream:
    """The reading state of one text stream: configuration in force plus what has been read so far."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.config: list[tuple[str, str]] = []
        self.positions: dict[str, int] = {}  # key -> index in config
        self.snapshot: tuple[tuple[str, str], ...] | None = ()  # config as results share it
        self.cells = 0  # configuration pairs held by all snapshots together
        self.results: list[BenchResult] = []
        self.notes: list[UnitNote] = []

    def fail(self, line: int, problem: str) -> MapscopeError:
        return MapscopeError(f"{self.source}:{line}", problem)

    def feed(self, text: str, line: int) -> None:
        if text.startswith("Benchmark"):
            after = text[len("Benchmark") : len("Benchmark") + 1]
            # The testing package's rule for benchmark names: `Benchmark` then no lower-case letter, so
            # `Benchmarking...` is ordinary output.
            if not after or not _is_lower(after):
                self._result(text, line)
                return
        if text.startswith("Unit"):
            fields = split_fields(text)
            if fields and fields[0] == "Unit":
                self._unit_note(fields[1:], line)
                return
        pair = _key_value(text)
        if pair is not None:
            self._set_config(*pair)

    def _set_config(self, key: str, value: str) -> None:
        # benchfmt keeps keys in first-set order and removes one by moving the last key into its place;
        # that order decides benchstat's table headers, so it is kept here too.
        index = self.positions.get(key)
        self.snapshot = None
        if value:
            if index is None:
                self.positions[key] = len(self.config)
                self.config.append((key, value))
            else:
                self.config[index] = (key, value)
        elif index is not None:
            del self.positions[key]
            last = self.config.pop()
            if index < len(self.config):
                self.config[index] = last
                self.positions[last[0]] = index

    def _config(self, line: int) -> tuple[tuple[str, str], ...]:
        """The configuration in force, one tuple shared by every result until it changes."""
        if self.snapshot is None:
            self.cells += len(self.config)
            if self.cells > limits.BENCH_CONFIG_CELLS_MAX:
                raise self.fail(
                    line,
                    f"the configuration changes too often: results would hold over "
                    f"{limits.BENCH_CONFIG_CELLS_MAX} key/value pairs",
                )
            self.snapshot = tuple(self.config)
        return self.snapshot

    def _result(self, text: str, line: int) -> None:
        rest = text[len("Benchmark") :]
        fields = split_fields(rest)
        if not rest or fields == [rest]:
            return  # `go test -v` prints the bare name when a benchmark starts
        if _SPACE_RE.match(rest):
            raise self.fail(line, "benchmark result line without a benchmark name")
        full_name = fields[0]
        if len(fields) < 2:
            raise self.fail(line, f"benchmark result {full_name} has no iteration count")
        if not _INTEGER_RE.fullmatch(fields[1]) or len(fields[1]) > 20 or abs(int(fields[1])) > _MAX_INT64:
            raise self.fail(
                line, f"benchmark result {full_name}: iteration count {fields[1]!r} is not an int64"
            )
        pairs = fields[2:]
        if not pairs:
            raise self.fail(line, f"benchmark result {full_name} has no measurements")
        metrics = []
        for at in range(0, len(pairs), 2):
            value = _parse_float(pairs[at])
            if value is None:
                raise self.fail(line, f"benchmark result {full_name}: {pairs[at]!r} is not a float64")
            if at + 1 == len(pairs):
                raise self.fail(line, f"benchmark result {full_name}: value {pairs[at]} has no unit")
            unit = pairs[at + 1]
            if not math.isfinite(value) or (value < 0 and unit in _NON_NEGATIVE_UNITS):
                raise self.fail(
                    line, f"benchmark result {full_name}: {pairs[at]} {unit} is not a measurement"
                )
            metrics.append(Metric(value, unit))
        base, sub, procs = split_name(full_name)
        self.results.append(
            BenchResult(
                name=base,
                full_name=full_name,
                sub=sub,
                procs=procs,
                iterations=int(fields[1]),
                metrics=tuple(metrics),
                config=self._config(line),
                line=line,
            )
        )

    def _unit_note(self, fields: list[str], line: int) -> None:
        if not fields:
            raise self.fail(line, "unit metadata line names no unit")
        unit = fields[0]
        for item in fields[1:]:
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise self.fail(line, f"unit metadata for {unit}: expected key=value, got {item!r}")
            self.notes.append(UnitNote(unit, key, value, line))


def _lines(text: str) -> list[str]:
    """bufio.ScanLines: split on \\n, drop one trailing \\r per line, no empty last line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _read_text(text: str, source: str) -> _Stream:
    stream = _Stream(source)
    for number, line in enumerate(_lines(text), start=1):
        stream.feed(line, number)
    return stream


def _output_events(text: str, source: str) -> dict[str, list[tuple[str, int]]]:
    """The `output` strings of a test2json stream, per package in order, each with its JSON line."""
    outputs: dict[str, list[tuple[str, int]]] = {}
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        event = jsontext.load(line, f"{source}:{number}", "a go test -json event")
        if not isinstance(event, dict):
            raise MapscopeError(f"{source}:{number}", "not a go test -json event: not a JSON object")
        action, package, output = event.get("Action"), event.get("Package", ""), event.get("Output")
        if not isinstance(action, str) or not isinstance(package, str):
            raise MapscopeError(f"{source}:{number}", "go test -json event without a string Action/Package")
        if action != "output":
            continue
        if not isinstance(output, str):
            raise MapscopeError(f"{source}:{number}", "go test -json output event without a string Output")
        outputs.setdefault(package, []).append((output, number))
    return outputs


def _read_test2json(text: str, source: str) -> tuple[list[BenchResult], list[UnitNote]]:
    results: list[BenchResult] = []
    notes: list[UnitNote] = []
    for chunks in _output_events(text, source).values():
        # Each package printed its own configuration, so each is read as a stream of its own.
        stream = _Stream(source)
        pending, started = "", 0
        for output, number in chunks:
            if not pending:
                started = number
            *complete, tail = output.split("\n")
            for piece in complete:
                stream.feed((pending + piece).removesuffix("\r"), started)
                pending, started = "", number
            pending += tail
        if pending:
            stream.feed(pending, started)
        results.extend(stream.results)
        notes.extend(stream.notes)
    results.sort(key=lambda result: result.line)
    notes.sort(key=lambda note: note.line)
    return results, notes


def parse_bench(data: bytes, source: str) -> BenchFile:
    """Read benchmark output given as bytes; `go test -json` streams are recognised by their first byte."""
    text = data.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        results, notes = _read_test2json(text, source)
        return BenchFile(source, SourceKind.TEST2JSON, tuple(results), tuple(notes))
    stream = _read_text(text, source)
    return BenchFile(source, SourceKind.TEXT, tuple(stream.results), tuple(stream.notes))


def read_bench(path: Path, source: str | None = None) -> BenchFile:
    """Read a benchmark output file; `source` names it in errors (default: the path)."""
    name = source if source is not None else str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
    except OSError as error:
        raise MapscopeError(name, f"cannot read: {error.strerror or error}") from None
    if len(data) > _MAX_BYTES:
        raise MapscopeError(name, f"larger than {_MAX_BYTES >> 20} MiB; not benchmark output")
    return parse_bench(data, name)
