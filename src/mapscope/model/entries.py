"""Heap objects that belong to single entries: out-of-line keys/values and interface boxes.

Keys/values over 128 bytes live in their own allocation, made when a key is inserted into an empty slot
and dropped on delete or clear. An interface key or value holds key number i boxed at insert time (the
oracle's workload): integer dynamic types below 256 use the runtime's static table and allocate nothing,
zero-size and pointer-shaped types never allocate, small pointer-free boxes go through the tiny allocator.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from mapscope.errors import MapscopeError
from mapscope.model import sizeclasses
from mapscope.model.gotypes import MAX_INLINE, POINTER_SHAPED, GoType, Kind, MapType
from mapscope.model.ledger import Ledger
from mapscope.model.records import Cause
from mapscope.model.scan import allocation_scan
from mapscope.model.tiny import TinyPattern

STATIC_SMALL_INTS = 256


@dataclass(frozen=True)
class Box:
    """How converting key number i to an interface of dynamic type `dynamic` allocates."""

    dynamic: GoType
    heap_bytes: int
    tiny: bool
    scan: int
    free_below: int

    @classmethod
    def of(cls, dynamic: GoType) -> Box:
        if dynamic.size == 0 or dynamic.kind in POINTER_SHAPED:
            return cls(dynamic, 0, False, 0, -1)
        if dynamic.kind in (Kind.INT, Kind.UINT) and dynamic.size == 1:
            return cls(dynamic, 0, False, 0, -1)
        if dynamic.kind in (Kind.INT, Kind.UINT) and dynamic.size in (2, 4, 8):
            free_below = STATIC_SMALL_INTS
        elif dynamic.kind in (Kind.INT, Kind.UINT, Kind.FLOAT, Kind.COMPLEX, Kind.BOOL):
            raise MapscopeError(
                "--boxed", f"boxing {dynamic.name} is not modelled (use an int, string or struct)"
            )
        else:
            free_below = 0
        tiny = dynamic.pointer_free and dynamic.size < sizeclasses.TINY_SIZE
        heap = 0 if tiny else sizeclasses.heap_bytes(dynamic.size, dynamic.pointer_free)
        return cls(dynamic, heap, tiny, allocation_scan(dynamic), free_below)

    @property
    def never(self) -> bool:
        return self.free_below < 0

    def allocating(self, first: int, end: int) -> tuple[int, int]:
        """The keys in [first, end) whose box allocates, as a range."""
        if self.never:
            return (end, end)
        return (max(first, self.free_below), max(end, self.free_below))


@dataclass(frozen=True)
class _Run:
    """Keys [first, end) inserted between two GCs: their tiny boxes share blocks."""

    first: int
    end: int


class Entries:
    """Per-entry objects of a map whose keys are numbered in insertion order."""

    def __init__(
        self, ledger: Ledger, map_type: MapType, key_box: GoType | None, elem_box: GoType | None
    ) -> None:
        self._ledger = ledger
        self._next_key = 0
        self._oldest = 0
        self._runs: list[_Run] = []
        self._fresh_run = True
        key, elem = map_type.key, map_type.elem
        self.indirect_key = key.size > MAX_INLINE
        self.indirect_elem = elem.size > MAX_INLINE
        self._key_object = sizeclasses.heap_bytes(key.size, key.pointer_free) if self.indirect_key else 0
        self._elem_object = sizeclasses.heap_bytes(elem.size, elem.pointer_free) if self.indirect_elem else 0
        self._key_scan = allocation_scan(key)
        self._elem_scan = allocation_scan(elem)
        self._key_box = Box.of(key_box) if key.is_interface and key_box is not None else None
        self._elem_box = Box.of(elem_box) if elem.is_interface and elem_box is not None else None
        self._tiny_allocated = self._tiny_live = self._tiny_boxes = 0

    @property
    def live(self) -> int:
        return self._next_key - self._oldest

    def _boxes(self, first: int, end: int, release: str | None = None) -> None:
        """Allocate (or, with `release`, free) the boxes that are not tiny for keys [first, end)."""
        for box, cause, account in (
            (self._key_box, Cause.KEY_BOX, "key-box"),
            (self._elem_box, Cause.ELEM_BOX, "elem-box"),
        ):
            if box is None or box.tiny:
                continue
            lo, hi = box.allocating(first, end)
            if release is None:
                self._ledger.allocate(
                    account,
                    cause,
                    "boxed at insert",
                    objects=hi - lo,
                    bytes_each=box.heap_bytes,
                    scan_each=box.scan,
                )
            else:
                self._ledger.release(account, release, hi - lo)

    def _tiny_sizes(self, key: int) -> tuple[int, ...]:
        sizes: list[int] = []
        for box in (self._key_box, self._elem_box):
            if box is not None and box.tiny and not box.never and key >= box.free_below:
                sizes.append(box.dynamic.size)
        return tuple(sizes)

    def _segments(self, run: _Run) -> list[tuple[int, int, tuple[int, ...]]]:
        """Split a run where the tiny boxes per key change (only at 256); each part packs on its own."""
        cuts = sorted(
            {run.first, run.end, *((STATIC_SMALL_INTS,) if run.first < STATIC_SMALL_INTS < run.end else ())}
        )
        return [(a, b, self._tiny_sizes(a)) for a, b in itertools.pairwise(cuts) if self._tiny_sizes(a)]

    def _tiny_blocks(self) -> tuple[int, int, int]:
        """(blocks allocated, blocks still holding a live box, boxes allocated) over all runs."""
        allocated = live = boxes = 0
        for run in self._runs:
            for a, b, sizes in self._segments(run):
                pattern = TinyPattern.of(sizes)
                total = pattern.blocks_after(b - a)
                allocated += total
                boxes += (b - a) * len(sizes)
                if b > self._oldest:
                    start = max(self._oldest, a) - a
                    live += total - (pattern.first_block_of(start) if start else 0)
        return allocated, live, boxes

    def insert(self, count: int) -> None:
        first, end = self._next_key, self._next_key + count
        ledger = self._ledger
        ledger.allocate(
            "keys", Cause.KEY, "inserted key", objects=count * self.indirect_key,
            bytes_each=self._key_object, scan_each=self._key_scan, structural=False,
        )  # fmt: skip
        ledger.allocate(
            "elems", Cause.ELEM, "inserted value", objects=count * self.indirect_elem,
            bytes_each=self._elem_object, scan_each=self._elem_scan, structural=False,
        )  # fmt: skip
        self._boxes(first, end)
        self._insert_tiny(first, end)
        self._next_key = end
        ledger.entries = self.live

    def _insert_tiny(self, first: int, end: int) -> None:
        if not any(self._tiny_sizes(k) for k in (first, max(first, end - 1))):
            return
        if self._fresh_run or not self._runs:
            self._runs.append(_Run(first, end))
        else:
            self._runs[-1] = _Run(self._runs[-1].first, end)
        self._fresh_run = False
        allocated, live, boxes = self._tiny_blocks()
        cause = Cause.KEY_BOX if self._key_box is not None and self._key_box.tiny else Cause.ELEM_BOX
        self._ledger.allocate(
            "tiny-boxes", cause, "boxed at insert (tiny allocator)", objects=allocated - self._tiny_allocated,
            bytes_each=sizeclasses.TINY_SIZE, mallocs=boxes - self._tiny_boxes, structural=False,
        )  # fmt: skip
        self._tiny_allocated, self._tiny_live, self._tiny_boxes = allocated, live, boxes

    def _release_tiny(self, reason: str) -> None:
        _, live, _ = self._tiny_blocks()
        self._ledger.release("tiny-boxes", reason, self._tiny_live - live)
        self._tiny_live = live

    def delete(self, count: int) -> None:
        first = self._oldest
        self._oldest += count
        self._ledger.release("keys", "delete", count * self.indirect_key)
        self._ledger.release("elems", "delete", count * self.indirect_elem)
        self._boxes(first, self._oldest, release="delete")
        self._release_tiny("delete")
        self._ledger.entries = self.live

    def clear(self) -> None:
        self._oldest = self._next_key
        self._ledger.release("keys", "clear")
        self._ledger.release("elems", "clear")
        self._ledger.release("key-box", "clear")
        self._ledger.release("elem-box", "clear")
        self._release_tiny("clear")
        self._ledger.entries = 0

    def gc(self) -> None:
        """A GC drops the mcache's tiny block: the next boxes start a new one."""
        self._fresh_run = True
