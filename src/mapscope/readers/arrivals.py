"""`arrivals.txt` of a run directory: in which order the program's stdout and stderr lines arrived.

`mapscope run` reads the program's two pipes in one loop; after every read that completed lines it
appends a record `o N` (stdout) or `e N` (stderr), N being how many lines that stream has completed so far
(runner/child.py, ArrivalSink). So the records are in arrival order, and a line's arrival is the first
record of its stream whose count reaches the line's number. Two lines have a known order when they
arrived in different records; lines of one stream are in order anyway.

The file comes from a run directory that may come from anywhere: every record is checked, and a file
of more records than any run writes is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from mapscope.arrays import Ints
from mapscope.errors import MapscopeError
from mapscope.readers.bytecursor import Buffer, LineCursor

_MAX_BYTES: Final = 256 << 20
_RECORDS_RE: Final = re.compile(rb"(?:[oe] [0-9]{1,15}\n)*+")


@dataclass(frozen=True)
class Arrivals:
    """Per stream, the index of each record in the file (`*_record`) and the stream's line count after it
    (`*_lines`, non-decreasing)."""

    stdout_record: Ints
    stdout_lines: Ints
    stderr_record: Ints
    stderr_lines: Ints
    records: int

    def _arrival(self, record: Ints, counts: Ints, lines: Ints) -> Ints:
        at = np.searchsorted(counts, lines, side="left")
        # Lines past the last record arrived after everything recorded (a run cut short).
        padded = np.append(record, self.records)
        found: Ints = padded[np.minimum(at, len(record))]
        return found

    def of_stdout(self, lines: Ints) -> Ints:
        """The record at which each stdout line (1-based number) had arrived."""
        return self._arrival(self.stdout_record, self.stdout_lines, lines)

    def of_stderr(self, lines: Ints) -> Ints:
        """The record at which each stderr line (1-based number) had arrived."""
        return self._arrival(self.stderr_record, self.stderr_lines, lines)


def parse_arrivals(data: bytes, source: str) -> Arrivals:
    if _RECORDS_RE.fullmatch(data) is None:
        bad = _RECORDS_RE.match(data)
        line = data[: bad.end() if bad else 0].count(b"\n") + 1
        raise MapscopeError(f"{source}:{line}", "not an arrivals record (`o N` or `e N`)")
    buffer = Buffer.of(data)
    ends = np.flatnonzero(buffer.bytes == ord("\n"))
    starts = np.concatenate(([buffer.first], ends + 1))[: len(ends)]
    streams = buffer.bytes[starts] == ord("o")
    counts = LineCursor(buffer, starts + 2, ends).integer()
    indexes = np.arange(len(starts), dtype=np.int64)
    for mask, name in ((streams, "stdout"), (~streams, "stderr")):
        if np.any(np.diff(counts[mask]) < 0):
            raise MapscopeError(source, f"{name} line counts go backwards")
    return Arrivals(indexes[streams], counts[streams], indexes[~streams], counts[~streams], len(starts))


def read_arrivals(path: Path, source: str) -> Arrivals:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
    except OSError as error:
        raise MapscopeError(source, f"cannot read: {error.strerror or error}") from None
    if len(data) > _MAX_BYTES:
        raise MapscopeError(source, f"larger than {_MAX_BYTES >> 20} MiB; not an arrivals file")
    return parse_arrivals(data, source)
