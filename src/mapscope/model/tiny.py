"""Go's tiny allocator: pointer-free objects under 16 bytes share 16-byte blocks.

A block stays on the heap while any object in it is live. The mcache's current block is dropped at every
GC (and by runtime.ReadMemStats), so each run of allocations between two GCs starts a fresh block.
Packing follows mallocgc: align the offset (8 for sizes that are multiples of 8, then 4, then 2), use the
current block if the object fits, otherwise take a new block and keep it as the current one only if it
then has more room left than the old one.
"""

from __future__ import annotations

from dataclasses import dataclass

TINY_BLOCK = 16


def _align(offset: int, size: int) -> int:
    for step in (8, 4, 2):
        if size % step == 0:
            return -(-offset // step) * step
    return offset


@dataclass(frozen=True)
class TinyPattern:
    """Block usage of a run of keys that each allocate the same tiny objects, in the same order.

    `first_block[j]` is the block holding key j's first object and `blocks[j]` the blocks used after
    key j, for the keys before the pattern repeats; keys from `cycle_start` on repeat every `period`
    keys, using `period_blocks` more blocks per period.
    """

    first_block: tuple[int, ...]
    blocks: tuple[int, ...]
    cycle_start: int
    period: int
    period_blocks: int

    @classmethod
    def of(cls, sizes: tuple[int, ...]) -> TinyPattern:
        offset: int | None = None
        blocks = 0
        seen: dict[int | None, int] = {}
        first_block: list[int] = []
        used: list[int] = []
        key = 0
        while offset not in seen:
            seen[offset] = key
            first: int | None = None
            for size in sizes:
                aligned = _align(offset, size) if offset is not None else None
                if aligned is not None and aligned + size <= TINY_BLOCK:
                    offset = aligned + size
                    where = blocks - 1
                else:
                    blocks += 1
                    where = blocks - 1
                    if offset is None or size < offset:
                        offset = size
                first = where if first is None else first
            first_block.append(first if first is not None else blocks)
            used.append(blocks)
            key += 1
        start = seen[offset]
        before = used[start - 1] if start else 0
        return cls(tuple(first_block), tuple(used), start, key - start, used[-1] - before)

    def _index(self, j: int) -> tuple[int, int]:
        if j < len(self.blocks):
            return j, 0
        cycles, rest = divmod(j - self.cycle_start, self.period)
        return self.cycle_start + rest, cycles * self.period_blocks

    def blocks_after(self, keys: int) -> int:
        """Blocks allocated by a run of `keys` keys."""
        if keys <= 0:
            return 0
        index, extra = self._index(keys - 1)
        return self.blocks[index] + extra

    def first_block_of(self, j: int) -> int:
        index, extra = self._index(j)
        return self.first_block[index] + extra
