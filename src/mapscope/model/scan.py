"""GC-scanned bytes of one allocation, as the runtime's /gc/scan/heap:bytes counts them (Go 1.22+).

The collector scans an object up to its last pointer word. Where that is depends on how the object
records its pointer layout:
- small objects up to 512 bytes keep heap bits for the bytes requested: scan ends at the last pointer of
  the last requested element;
- larger small objects keep an 8-byte header naming their type, and the type repeats over the whole
  size-class slot, so a partial element at the end of the slot counts too, as does the header;
- large objects (whole pages) are scanned in 128 KiB oblets, each counted up to its own last pointer,
  with the type repeating over all of the object's pages.
"""

from __future__ import annotations

import math

from mapscope.model import sizeclasses
from mapscope.model.gotypes import PTR_SIZE, GoType, Kind

OBLET = 128 * 1024
_ONE_WORD = {Kind.POINTER, Kind.UNSAFE_POINTER, Kind.MAP, Kind.CHAN, Kind.FUNC, Kind.STRING, Kind.SLICE}


def pointer_end_below(t: GoType, limit: int) -> int:
    """End offset of the last pointer word of `t` that starts before `limit` (0 if there is none)."""
    if t.ptrdata == 0 or limit <= 0:
        return 0
    if limit >= t.ptrdata:
        return t.ptrdata
    if t.kind in _ONE_WORD:
        return PTR_SIZE
    if t.kind is Kind.INTERFACE:
        return 2 * PTR_SIZE if limit > PTR_SIZE else PTR_SIZE
    if t.kind is Kind.ARRAY and t.elem is not None:
        elem = t.elem
        index = min(t.length - 1, (limit - 1) // elem.size)
        inner = pointer_end_below(elem, limit - index * elem.size)
        if inner:
            return index * elem.size + inner
        return (index - 1) * elem.size + elem.ptrdata if index > 0 else 0
    for field in reversed(t.fields):
        if field.offset < limit:
            inner = pointer_end_below(field.type, limit - field.offset)
            if inner:
                return field.offset + inner
    return 0


def _repeated_end(elem: GoType, span: int) -> int:
    """Last pointer end when `elem`'s layout repeats over `span` bytes."""
    whole, rest = divmod(span, elem.size)
    partial = pointer_end_below(elem, rest) if rest else 0
    if partial:
        return whole * elem.size + partial
    return (whole - 1) * elem.size + elem.ptrdata if whole else 0


def _oblet_scan(elem: GoType, size: int) -> int:
    """Sum over 128 KiB oblets of the scan up to each oblet's last pointer.

    An oblet ending at `end` falls short of `end` by a gap that depends only on `end` modulo the element
    size, so the gaps of the full oblets repeat and huge objects cost one period of work.
    """
    full, tail = divmod(size, OBLET)

    def gap(end: int) -> int:
        return end - _repeated_end(elem, end)

    total = 0
    if tail:
        total += max(0, _repeated_end(elem, size) - full * OBLET)
    period = elem.size // math.gcd(OBLET, elem.size)
    cycles = full // period
    period_gaps = sum(gap((i + 1) * OBLET) for i in range(min(period, full))) if cycles else 0
    total += cycles * (period * OBLET - period_gaps)
    for i in range(cycles * period, full):
        total += OBLET - gap((i + 1) * OBLET)
    return total


def allocation_scan(elem: GoType, count: int = 1) -> int:
    """Bytes the GC scans in one allocation of `count` elements of `elem`."""
    if elem.ptrdata == 0 or count <= 0 or elem.size == 0:
        return 0
    data = elem.size * count
    alloc = sizeclasses.allocation(data, noscan=False)
    if alloc.large:
        return _oblet_scan(elem, alloc.heap_bytes)
    if data > sizeclasses.MIN_SIZE_FOR_MALLOC_HEADER:
        return sizeclasses.MALLOC_HEADER_SIZE + _repeated_end(elem, alloc.usable)
    return (count - 1) * elem.size + elem.ptrdata
