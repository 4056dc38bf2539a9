"""Renders decoded trace batches the way `go tool trace -d=wire` prints them, to compare with Go."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mapscope.readers.gotrace.records import (
    CPUSamplesBatch,
    EventBatch,
    ExperimentalBatch,
    Generation,
    StacksBatch,
    StringsBatch,
    SyncBatch,
)
from mapscope.readers.gotrace.spec import specs_for

_ESCAPES = {7: r"\a", 8: r"\b", 12: r"\f", 10: r"\n", 13: r"\r", 9: r"\t", 11: r"\v", 92: r"\\", 34: r"\""}


def _utf8_width(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 1


def go_quote(data: bytes) -> str:
    """Go's strconv.Quote of a byte string: printable runes kept, the rest escaped."""
    out = ['"']
    pos = 0
    while pos < len(data):
        lead = data[pos]
        width = _utf8_width(lead) if lead >= 0x80 else 1
        try:
            char = data[pos : pos + width].decode("utf-8") if lead >= 0x80 else chr(lead)
        except UnicodeDecodeError:
            char = ""
        if lead >= 0x80 and (width == 1 or len(char) != 1):
            out.append(f"\\x{lead:02x}")
            pos += 1
            continue
        pos += width
        code = ord(char)
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
        elif char.isprintable():
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _events(batch: EventBatch, version: int) -> Iterator[str]:
    specs = specs_for(version)
    for kind, row in zip(batch.types.tolist(), batch.args.tolist(), strict=True):
        spec = specs.get(kind)
        assert spec is not None
        yield " ".join([spec.name, *(f"{name}={value}" for name, value in zip(spec.args, row, strict=False))])


def wire_lines(generations: Iterable[Generation]) -> Iterator[str]:
    """One string per event of `go tool trace -d=wire` (continuation lines joined with newlines)."""
    for generation in generations:
        for batch in generation.batches:
            h = batch.header
            if isinstance(batch, ExperimentalBatch):
                head = f"ExperimentalBatch exp={batch.experiment} gen={h.gen} m={h.m} time={h.time}"
                yield f"{head}\n\tdata={go_quote(batch.data)}"
                continue
            yield f"EventBatch gen={h.gen} m={h.m} time={h.time} size={h.size}"
            if isinstance(batch, EventBatch):
                yield from _events(batch, generation.version)
            elif isinstance(batch, StringsBatch):
                yield "Strings"
                yield from (f"String id={s.id}\n\tdata={go_quote(s.data)}" for s in batch.strings)
            elif isinstance(batch, StacksBatch):
                yield "Stacks"
                for stack in batch.stacks:
                    frames = "".join(
                        f"\n\tpc={f.pc} func={f.func} file={f.file} line={f.line}" for f in stack.frames
                    )
                    yield f"Stack id={stack.id} nframes={len(stack.frames)}{frames}"
            elif isinstance(batch, CPUSamplesBatch):
                yield "CPUSamples"
                for s in batch.samples:
                    yield f"CPUSample time={s.time} m={s.m} p={s.p} g={s.g} stack={s.stack}"
            elif isinstance(batch, SyncBatch):
                yield from _sync(batch)
        if generation.ended_by_marker:
            yield "EndOfGeneration"


def _sync(batch: SyncBatch) -> Iterator[str]:
    if batch.marked:
        yield "Sync"
    yield f"Frequency freq={batch.frequency}"
    if batch.clock is not None:
        c = batch.clock
        yield f"ClockSnapshot dt={c.dt} mono={c.mono} sec={c.sec} nsec={c.nsec}"


def wire_text(generations: Iterable[Generation]) -> str:
    return "".join(line + "\n" for line in wire_lines(generations))
