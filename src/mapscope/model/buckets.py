"""The bucket map of Go 1.22-1.23 (and 1.24-1.25 with GOEXPERIMENT=noswissmap), as the runtime allocates it.

Facts from runtime/map.go: a 48-byte hmap header; buckets of 8 slots (tophash[8], keys[8], elems[8],
overflow pointer); a map made without a hint gets its first bucket on the first insert; a hint picks the
smallest B whose load stays at most 6.5 per bucket; arrays with B >= 4 come with 2^(B-4) preallocated
overflow buckets, more if the size class has room. Inserting a new key into a map of count > 6.5 * 2^B
entries (or with as many overflow buckets as buckets) starts a grow: the new array is allocated at
once, and each later write evacuates up to two old buckets, so old and new arrays live together for a
while. Pointer-free buckets keep their overflow buckets alive through a side list (`mapextra`), grown
by append. Delete frees nothing but out-of-line keys/values; clear keeps the main array.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapscope.model import sizeclasses
from mapscope.model.bucket_loads import binomial_quantile, evacuated_fraction, evacuation_ops, overflow_needed
from mapscope.model.engine import MachineFactory, MapMachine
from mapscope.model.entries import Entries
from mapscope.model.gotypes import MAX_INLINE, PTR_SIZE, Field, GoType, Kind, MapType
from mapscope.model.ledger import Ledger
from mapscope.model.records import Cause
from mapscope.model.scan import allocation_scan
from mapscope.model.versions import GoVersion

SLOTS = 8
HMAP_SIZE = 48
MAPEXTRA_SIZE = 24
SLICE_HEADER_SIZE = 24


PTR = GoType(Kind.POINTER, "unsafe.Pointer", PTR_SIZE, PTR_SIZE, PTR_SIZE)
UINTPTR = GoType(Kind.UINT, "uintptr", PTR_SIZE, PTR_SIZE, 0)
TOPHASH = GoType(Kind.ARRAY, "[8]uint8", SLOTS, 1, 0, elem=GoType(Kind.UINT, "uint8", 1, 1, 0), length=SLOTS)


def _align(value: int, to: int) -> int:
    return -(-value // to) * to


def _slot_array(t: GoType) -> GoType:
    ptrdata = (SLOTS - 1) * t.size + t.ptrdata if t.ptrdata else 0
    return GoType(Kind.ARRAY, f"[8]{t.name}", SLOTS * t.size, t.align, ptrdata, elem=t, length=SLOTS)


def header_size(version: GoVersion) -> int:
    """hmap: 48 bytes; Go 1.24 added clearSeq (56 bytes, so a 64-byte slot)."""
    return HMAP_SIZE + (8 if version.minor >= 24 else 0)


@dataclass(frozen=True)
class BucketLayout:
    """The compiler's bucket struct for one map type: tophash[8], keys[8], elems[8], overflow."""

    bucket: GoType

    @classmethod
    def of(cls, map_type: MapType) -> BucketLayout:
        slots = [_slot_array(PTR if t.size > MAX_INLINE else t) for t in (map_type.key, map_type.elem)]
        pointerful = any(not array.pointer_free for array in slots)
        overflow = PTR if pointerful else UINTPTR
        fields, offset = [], 0
        for name, t in (
            ("tophash", TOPHASH),
            ("keys", slots[0]),
            ("elems", slots[1]),
            ("overflow", overflow),
        ):
            offset = _align(offset, t.align)
            fields.append(Field(name, t, offset))
            offset += t.size
        ptrdata = max((f.offset + f.type.ptrdata for f in fields if f.type.ptrdata), default=0)
        bucket = GoType(
            Kind.STRUCT, "bmap", _align(offset, PTR_SIZE), PTR_SIZE, ptrdata, fields=tuple(fields)
        )
        return cls(bucket)

    @property
    def size(self) -> int:
        return self.bucket.size

    @property
    def pointerful(self) -> bool:
        return not self.bucket.pointer_free

    @property
    def noscan(self) -> bool:
        return self.bucket.pointer_free


def load_limit(b: int) -> int:
    """The largest count a map with 2^B buckets holds before the next new key triggers growth."""
    return SLOTS if b == 0 else 13 * (1 << (b - 1))


def b_for_hint(hint: int) -> int:
    b = 0
    while hint > load_limit(b):
        b += 1
    return b


@dataclass(frozen=True)
class BucketArray:
    """One bucket array: 2^B buckets plus the preallocated overflow buckets that share its allocation."""

    b: int
    nbuckets: int
    heap_bytes: int
    scan: int

    @property
    def prealloc(self) -> int:
        return self.nbuckets - (1 << self.b)

    @classmethod
    def of(cls, layout: BucketLayout, b: int) -> BucketArray:
        nbuckets = 1 << b
        if b >= 4:
            nbuckets += 1 << (b - 4)
            size = layout.size * nbuckets
            nbuckets = sizeclasses.roundupsize(size, layout.noscan) // layout.size
        alloc = sizeclasses.allocation(layout.size * nbuckets, layout.noscan)
        return cls(b, nbuckets, alloc.heap_bytes, allocation_scan(layout.bucket, nbuckets))


def next_pointer_cap(length: int, cap: int) -> int:
    """runtime.growslice for a []*bmap grown by one append: the new capacity."""
    newcap = length if length > 2 * cap else (2 * cap if cap < 256 else cap)
    while cap >= 256 and newcap < length:
        newcap += (newcap + 3 * 256) >> 2
    return sizeclasses.roundupsize(newcap * PTR_SIZE, noscan=False) // PTR_SIZE


class BucketMachine(MapMachine):
    def __init__(
        self, layout: BucketLayout, version: GoVersion, ledger: Ledger, entries: Entries, luck: float
    ) -> None:
        self._layout = layout
        self._header = header_size(version)
        self._ledger = ledger
        self._entries = entries
        self._luck = luck
        self._overflow_each = sizeclasses.heap_bytes(layout.size, layout.noscan)
        self._overflow_scan = allocation_scan(layout.bucket, 1)
        self.b = 0
        self.count = 0
        self.array: BucketArray | None = None
        self.overflow = 0
        self.noverflow = 0
        self.has_extra = False
        self.list_len = 0
        self.list_cap = 0
        self.old: BucketArray | None = None
        self.old_count = 0
        self.writes_done = 0
        self.writes_needed = 0
        self.most_since_seed = 0
        self.before_reseed = 0
        self.before_delete = 0
        self.churned = False
        self.old_overflow = 0

    # -- allocation helpers -------------------------------------------------------------------------

    def _alloc_array(self, account: str, b: int, reason: str) -> BucketArray:
        array = BucketArray.of(self._layout, b)
        self._ledger.allocate(
            account, Cause.BUCKETS, reason, objects=1, bytes_each=array.heap_bytes, scan_each=array.scan
        )
        return array

    def _alloc_extra(self, reason: str) -> None:
        if not self.has_extra:
            self.has_extra = True
            extra = sizeclasses.heap_bytes(MAPEXTRA_SIZE, noscan=False)
            self._ledger.allocate(
                "extra", Cause.OVERFLOW_LIST, reason, objects=1, bytes_each=extra, scan_each=MAPEXTRA_SIZE
            )

    def _append_overflow_list(self, count: int) -> None:
        """Pointer-free buckets: each new overflow bucket is appended to h.extra.overflow."""
        if count <= 0:
            return
        self._alloc_extra("overflow bucket list")
        if self.list_len == 0 and self.list_cap == 0 and self._ledger.live_objects("list-header") == 0:
            self._ledger.allocate(
                "list-header", Cause.OVERFLOW_LIST, "overflow bucket list", objects=1,
                bytes_each=sizeclasses.heap_bytes(SLICE_HEADER_SIZE, noscan=False), scan_each=PTR_SIZE,
            )  # fmt: skip
        target = self.list_len + count
        if self.list_cap >= target:
            self.list_len = target
            return
        grown: list[int] = []
        while self.list_cap < target:
            self.list_cap = next_pointer_cap(self.list_cap + 1, self.list_cap)
            grown.append(self.list_cap)
        self._ledger.release("list-array", "overflow list grown")
        self._ledger.transient(
            Cause.OVERFLOW_LIST, "overflow list grown", objects=len(grown) - 1,
            total_bytes=sum(sizeclasses.heap_bytes(cap * PTR_SIZE, noscan=False) for cap in grown[:-1]),
        )  # fmt: skip
        self._ledger.allocate(
            "list-array", Cause.OVERFLOW_LIST, "overflow list grown", objects=1,
            bytes_each=sizeclasses.heap_bytes(self.list_cap * PTR_SIZE, noscan=False),
            scan_each=allocation_scan(PTR, self.list_cap),
        )  # fmt: skip
        self.list_len = target

    def _need_overflow(self, target: int) -> None:
        """Attach overflow buckets until the current array has `target`: preallocated ones first."""
        assert self.array is not None
        more = target - self.overflow
        if more <= 0:
            return
        from_prealloc = min(more, max(0, self.array.prealloc - self.overflow))
        fresh = more - from_prealloc
        self._ledger.allocate(
            "overflow", Cause.OVERFLOW, "bucket full: new overflow bucket", objects=fresh,
            bytes_each=self._overflow_each, scan_each=self._overflow_scan,
        )  # fmt: skip
        self.overflow = target
        self.noverflow += more >> max(0, self.b - 15)
        if self._layout.noscan:
            self._append_overflow_list(more)

    # -- growth -------------------------------------------------------------------------------------

    def _grow(self, same_size: bool) -> None:
        assert self.array is not None
        ledger = self._ledger
        ledger.rename("array", "old-array")
        ledger.rename("overflow", "old-overflow")
        ledger.rename("list-header", "old-list-header")
        ledger.rename("list-array", "old-list-array")
        self.old, self.old_count, self.old_overflow = (
            self.array,
            self.count,
            self._ledger.live_objects("old-overflow"),
        )
        self.b += 0 if same_size else 1
        reason = (
            "same-size grow (too many overflow buckets)" if same_size else f"grow to B={self.b} (load > 6.5)"
        )
        self.array = self._alloc_array("array", self.b, reason)
        if self.array.prealloc:
            self._alloc_extra("preallocated overflow buckets")
        self.overflow = self.noverflow = 0
        self.list_len = self.list_cap = 0
        self.before_reseed = self.before_delete = 0
        self.churned = False
        self.writes_done = 0
        self.writes_needed = evacuation_ops(1 << self.old.b, self._luck)

    def _finish_growth(self) -> None:
        ledger = self._ledger
        ledger.release("old-overflow", "evacuation complete")
        ledger.release("old-list-header", "evacuation complete")
        ledger.release("old-list-array", "evacuation complete")
        ledger.release("old-array", "evacuation complete")
        self.old = None

    def _evacuated_share(self) -> float:
        if self.old is None or self.writes_done >= self.writes_needed:
            return 1.0
        return evacuated_fraction(self.writes_done, 1 << self.old.b)

    def _settle_overflow(self) -> None:
        """Attach the overflow buckets the current array needs for the keys it holds now."""
        assert self.array is not None
        if self.old is not None:
            share = self._evacuated_share()
            in_new = self.count - round(self.old_count * (1.0 - share))
            if self._layout.pointerful:
                alive = binomial_quantile(self.old_overflow, 1.0 - share, self._luck)
                self._ledger.release(
                    "old-overflow", "old buckets evacuated", self._ledger.live_objects("old-overflow") - alive
                )
            need = overflow_needed(in_new, 1 << self.b, self._luck)
        elif self.churned:
            need = overflow_needed(
                self.count, 1 << self.b, self._luck, max(self.before_reseed, self.before_delete)
            )
        else:
            need = overflow_needed(self.most_since_seed, 1 << self.b, self._luck, self.before_reseed)
        self._need_overflow(need)

    def _write(self, writes: int) -> None:
        """Writes during a grow evacuate old buckets; the last one frees the old array."""
        if self.old is None:
            return
        self.writes_done += writes
        done = self.writes_done >= self.writes_needed
        if done and self._layout.pointerful:
            self._ledger.release("old-overflow", "old buckets evacuated")
        self._settle_overflow()
        if done:
            self._finish_growth()

    # -- operations ---------------------------------------------------------------------------------

    def make(self, hint: int | None) -> None:
        self._ledger.allocate(
            "hmap", Cause.HEADER, "make", objects=1,
            bytes_each=sizeclasses.heap_bytes(self._header, noscan=False), scan_each=self._header,
        )  # fmt: skip
        self.b = b_for_hint(hint or 0)
        if self.b:
            self.array = self._alloc_array("array", self.b, f"make: hint {hint} -> B={self.b}")
            if self.array.prealloc:
                self._alloc_extra("preallocated overflow buckets")

    def only_final_readings(self) -> None:
        """Bucket maps' peaks cost nothing extra to follow: nothing to skip."""

    def insert(self, count: int) -> None:
        while count > 0:
            if self.array is None:
                self.array = self._alloc_array("array", 0, "first insert")
            if self.old is None and (
                self.count >= load_limit(self.b) or self.noverflow >= 1 << min(self.b, 15)
            ):
                self._grow(same_size=self.count < load_limit(self.b))
            if self.old is not None:
                step = min(count, self.writes_needed - self.writes_done)
            else:
                step = min(count, load_limit(self.b) - self.count)
            self._entries.insert(step)
            self.count += step
            self.most_since_seed = max(self.most_since_seed, self.count)
            count -= step
            if self.old is not None:
                self._write(step)
            else:
                self._settle_overflow()

    def delete(self, count: int) -> None:
        self._entries.delete(count)
        self.before_delete = max(self.before_delete, self.most_since_seed)
        self.count -= count
        self.churned = self.count > 0
        if self.count == 0:
            self.before_reseed = max(self.before_reseed, self.most_since_seed, self.before_delete)
            self.most_since_seed = self.before_delete = 0
        self._write(count)

    def clear(self) -> None:
        if self.count == 0:
            return
        self._entries.clear()
        ledger = self._ledger
        for account in ("overflow", "list-header", "list-array", "old-overflow", "old-list-header"):
            ledger.release(account, "clear")
        ledger.release("old-list-array", "clear")
        ledger.release("old-array", "clear")
        self.old = None
        self.count = self.most_since_seed = self.before_reseed = self.before_delete = 0
        self.churned = False
        self.overflow = self.noverflow = 0
        self.list_len = self.list_cap = 0


def machine_factory(map_type: MapType, version: GoVersion) -> MachineFactory:
    """Bucket maps behave alike in every release that has them (1.22 to 1.25) but for the header."""
    layout = BucketLayout.of(map_type)

    def build(ledger: Ledger, entries: Entries, luck: float) -> MapMachine:
        return BucketMachine(layout, version, ledger, entries, luck)

    return build
