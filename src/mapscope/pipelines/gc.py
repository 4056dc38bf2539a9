"""The GC pipeline: a GODEBUG=gctrace=1 log read, joined into cycles and analysed into one `GcReport`.

`mapscope gc` and the run pipeline (a run's captured stderr) both go through here, so a log gives the same
report whichever way it arrives.
"""

from __future__ import annotations

from typing import BinaryIO

from mapscope.analyses import gc_summary, mmu
from mapscope.analyses.gc_summary import GcReport, InputStats
from mapscope.errors import MapscopeError
from mapscope.readers.gctrace import GctraceReader

__all__ = ["NoGcLinesError", "gc_report"]


class NoGcLinesError(MapscopeError):
    """The input held no `gc N @…` line: nothing to report (a run may end before its first GC)."""


def gc_report(stream: BinaryIO, name: str) -> GcReport:
    """The report of the log in `stream`, named `name`; OSError from reading is left to the caller, who
    knows what the stream is."""
    reader = GctraceReader(stream)
    joined = gc_summary.join(reader.read())
    if not len(joined):
        seen = f"{reader.lines} lines" + (
            f", {joined.unrecognized_lines} of them unrecognized trace-like lines"
            if joined.unrecognized_lines
            else ""
        )
        raise NoGcLinesError(name, f"no `gc N @…` lines from GODEBUG=gctrace=1 found ({seen})")
    return GcReport(
        source=name,
        input=InputStats(
            lines=reader.lines,
            foreign_lines=reader.foreign_lines,
            unterminated_last_line=reader.unterminated_last_line,
        ),
        joined=joined,
        summary=gc_summary.summarize(joined),
        mmu=mmu.mmu_curve(joined.log.gc, joined.run),
    )
