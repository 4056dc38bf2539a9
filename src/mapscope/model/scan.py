"""GC-scanned bytes of one allocation, as the runtime's /gc/scan/heap:bytes counts them (Go 1.22+).

The collector scans an object up to its last pointer word. Where that is depends on how the object
records its pointer layout:
- small objects up to 512 bytes keep heap bits for the bytes requested: scan ends at the last pointer of
  the last requested element;
- larger small objects keep an 8-byte header naming their type, and the type repeats over the whole
  size-class slot, so a partial element at the end of the slot counts too, as does the header;
- large objects (whole pages) are scanned in 128 KiB oblets, each counted up to its own last pointer,
  with the type repeating over all of the object's pages.
Only the data word of an interface is a pointer to the collector, not its type word.
"""

from __future__ import annotations

import bisect
import math
from functools import lru_cache

from mapscope.model import sizeclasses
from mapscope.model.gotypes import PTR_SIZE, GoType, Kind

OBLET = 128 * 1024
_ONE_WORD = {Kind.POINTER, Kind.UNSAFE_POINTER, Kind.MAP, Kind.CHAN, Kind.FUNC, Kind.STRING, Kind.SLICE}


@lru_cache(maxsize=4096)
def pointer_words(t: GoType) -> tuple[int, ...]:
    """Offsets of the words of `t` the collector treats as pointers, in order."""
    if t.ptrdata == 0:
        return ()
    if t.kind in _ONE_WORD:
        return (0,)
    if t.kind is Kind.INTERFACE:
        return (PTR_SIZE,)
    if t.kind is Kind.ARRAY and t.elem is not None:
        inner = pointer_words(t.elem)
        count = -(-t.ptrdata // t.elem.size) if t.elem.size else 0
        return tuple(i * t.elem.size + w for i in range(count) for w in inner)
    if t.kind is Kind.STRUCT and t.fields:
        return tuple(f.offset + w for f in t.fields for w in pointer_words(f.type))
    # A named type cut where a recursive declaration closes has no fields: assume every word may point.
    return tuple(range(0, t.ptrdata, PTR_SIZE))


def _last_word_below(size: int, words: tuple[int, ...], end: int) -> int:
    """Offset of the last pointer word before `end` when the layout repeats every `size` bytes, or -1."""
    tile, rest = divmod(end, size)
    cut = bisect.bisect_left(words, rest)
    return tile * size + words[cut - 1] if cut else (tile - 1) * size + words[-1]


def _oblets(size: int, words: tuple[int, ...], total: int) -> int:
    """Sum over 128 KiB oblets of the scan up to each oblet's last pointer.

    An oblet ending at `end` falls short of it by a gap that depends only on `end` modulo the element
    size, so the gaps of the full oblets repeat and huge objects cost one period of work.
    """
    full, tail = divmod(total, OBLET)

    def scanned(start: int, end: int) -> int:
        last = _last_word_below(size, words, end)
        return last + PTR_SIZE - start if last >= start else 0

    result = scanned(full * OBLET, total) if tail else 0
    period = size // math.gcd(OBLET, size)
    cycles = full // period
    if cycles:
        result += cycles * sum(scanned(i * OBLET, (i + 1) * OBLET) for i in range(period))
    return result + sum(scanned(i * OBLET, (i + 1) * OBLET) for i in range(cycles * period, full))


def array_scan(size: int, words: tuple[int, ...], count: int = 1) -> int:
    """Bytes the GC scans in one allocation of `count` elements of `size` bytes with pointer `words`."""
    if not words or count <= 0:
        return 0
    data = size * count
    alloc = sizeclasses.allocation(data, noscan=False)
    if alloc.large:
        return _oblets(size, words, alloc.heap_bytes)
    if data > sizeclasses.MIN_SIZE_FOR_MALLOC_HEADER:
        return sizeclasses.MALLOC_HEADER_SIZE + _last_word_below(size, words, alloc.usable) + PTR_SIZE
    return (count - 1) * size + words[-1] + PTR_SIZE


def allocation_scan(elem: GoType, count: int = 1) -> int:
    """Bytes the GC scans in one allocation of `count` elements of `elem`."""
    return array_scan(elem.size, pointer_words(elem), count) if elem.size else 0
