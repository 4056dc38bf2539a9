"""Go's malloc size classes and what one allocation really costs on the heap.

The table is the same in every release from 1.22 to 1.27 (runtime/sizeclasses.go, later
internal/runtime/gc/sizeclasses.go). Since 1.22 a pointer-bearing small object larger than 512 bytes
carries an 8-byte malloc header inside its size-class slot, and the small-object limit is 32768 - 8:
anything larger is a large object of whole 8 KiB pages.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

CLASS_SIZES: tuple[int, ...] = (
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352,
    384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304,
    2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
    12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
)  # fmt: skip

MAX_SMALL_SIZE = 32768
PAGE_SIZE = 8192
MALLOC_HEADER_SIZE = 8
MIN_SIZE_FOR_MALLOC_HEADER = 512
TINY_SIZE = 16


@dataclass(frozen=True)
class Allocation:
    """What one `mallocgc(size)` occupies: `heap_bytes` is what HeapAlloc and TotalAlloc count."""

    request: int
    heap_bytes: int
    usable: int
    large: bool


def allocation(size: int, noscan: bool) -> Allocation:
    """The slot a single allocation of `size` bytes lands in (not for the tiny allocator)."""
    if size <= 0:
        return Allocation(size, 0, 0, large=False)
    if size <= MAX_SMALL_SIZE - MALLOC_HEADER_SIZE:
        request = size + (MALLOC_HEADER_SIZE if not noscan and size > MIN_SIZE_FOR_MALLOC_HEADER else 0)
        slot = CLASS_SIZES[bisect.bisect_left(CLASS_SIZES, request)]
        return Allocation(size, slot, slot - (request - size), large=False)
    pages = -(-size // PAGE_SIZE)
    return Allocation(size, pages * PAGE_SIZE, pages * PAGE_SIZE, large=True)


def roundupsize(size: int, noscan: bool) -> int:
    """runtime.roundupsize: the usable bytes the runtime actually hands out for `size`."""
    return allocation(size, noscan).usable


def heap_bytes(size: int, noscan: bool) -> int:
    return allocation(size, noscan).heap_bytes
