"""The Swiss-table map of Go 1.24 and later, as the runtime allocates it.

Facts from internal/runtime/maps, runtime/map*.go and cmd/compile/internal/reflectdata/map*.go:

- `make` puts a 48-byte `Map` header on the heap (pointer words in its first 24 bytes) and, without a
  hint above 8, nothing else. The first insert allocates one group: the small map of up to 8 entries.
- A group is a control word plus 8 slots; a slot is the struct {key; elem} with the compiler's padding
  (one extra byte after a trailing zero-size value); keys and values over 128 bytes are stored as pointers
  to objects of their own.
- The 9th key turns the small map into a table: a 32-byte table struct (pointers in its first 24 bytes),
  an array of 2 groups (16 slots) and a one-entry directory `[]*table`.
- A table of capacity c holds 7c/8 entries counting tombstones (c-1 for a single group); the next new key
  that reuses no tombstone rebuilds it: a new table of twice the capacity up to 1024 slots, after that two
  1024-slot tables split by the next hash bit, with the directory doubling when the table used as many
  hash bits as the directory. The old table struct and groups become garbage at once.
- `make(m, hint)` with hint > 8 sizes for hint*8/7 slots: pow2(ceil(slots/1024)) tables in a directory of
  that length, each of pow2(max(8, slots/tables)) slots; hints whose groups would pass maxAlloc make an
  empty map.
- delete frees nothing of the map's own; a deleted slot of a group without an empty slot becomes a
  tombstone. clear empties all tables but keeps them and the directory (a small map keeps its group).

Version differences (each is a case in the model):

- 1.24: growth ignores tombstones' reusability: a table full of tombstones doubles or splits; clear of a
  map with no live entries does nothing, even with tombstones.
- 1.25: before growing, the fast assignment paths (4- and 8-byte pointer-free keys, strings) prune
  tombstones no probe needs (the generic path, taken by every other key type and by values over 128
  bytes, never does); clear also resets a map whose entries were all deleted if a tombstone may remain.
- 1.26: no change to maps. (Its collector, on CPUs with the AVX-512 span scanner, counts a small-object
  span's objects whole in /gc/scan/heap:bytes when enough were marked before the span was visited, which
  varies from one collection to the next; the model, like the oracle, counts without that scanner.)
- 1.27: the 8-byte pointer key path (`map[*T]V`) prunes tombstones too; the small map grows on a failed
  slot search rather than on a count (same allocations).

A map filled from empty (no hint, no delete or clear yet) follows the split rule in closed form: how
many tables split at each depth is a binomial quantile (swiss_loads.split_profile), so its figures at any
N cost a few dozen evaluations; after a delete or clear, the step-wise occupancy model takes over.

GC scan bytes follow the collector: a small pointer-bearing object (<= 512 bytes) is scanned up to its
last pointer word; a larger one carries an 8-byte type header and the collector tiles its type over the
whole size-class slot (so the slot's tail counts); a large object is tiled over its pages and scanned in
128 KiB oblets, each up to its last pointer word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache

from mapscope.model import sizeclasses
from mapscope.model.engine import MachineFactory, MapMachine
from mapscope.model.entries import Entries
from mapscope.model.gotypes import MAX_INLINE, PTR_SIZE, GoType, Kind, MapType
from mapscope.model.ledger import Ledger
from mapscope.model.records import Cause
from mapscope.model.scan import array_scan, pointer_words
from mapscope.model.swiss_loads import (
    MAX_TABLE_CAPACITY,
    SLOTS,
    Filler,
    Signature,
    Step,
    TableClass,
    cleared,
    delete_below,
    filled_events,
    filled_signature,
)
from mapscope.model.versions import GoVersion

HEADER_SIZE = 48
HEADER_PTRDATA = 24
TABLE_SIZE = 32
TABLE_PTRDATA = 24
SMALL_MAP_ENTRIES = SLOTS
MAX_ALLOC = 1 << 48


class AssignPath(StrEnum):
    """The runtime routine the compiler picks for `m[k] = v` (cmd/compile/internal/walk.mapfast)."""

    FAST32 = "fast32"
    FAST64 = "fast64"
    FAST64PTR = "fast64ptr"
    FASTSTR = "faststr"
    SLOW = "slow"


@dataclass(frozen=True)
class Rules:
    """What changed between releases in the maps package and the collector."""

    prune_tombstones: bool
    clear_after_deletes: bool

    @classmethod
    def of(cls, version: GoVersion, path: AssignPath) -> Rules:
        pruning_paths = {AssignPath.FAST32, AssignPath.FAST64, AssignPath.FASTSTR}
        if version.minor >= 27:
            pruning_paths.add(AssignPath.FAST64PTR)
        return cls(
            prune_tombstones=version.minor >= 25 and path in pruning_paths,
            clear_after_deletes=version.minor >= 25,
        )


def _memory_comparable(t: GoType) -> bool:
    """types.AlgType == AMEM: compared as plain memory (no floats, strings, interfaces or padding)."""
    if t.kind in (Kind.FLOAT, Kind.COMPLEX, Kind.STRING, Kind.INTERFACE):
        return False
    if t.kind is Kind.ARRAY:
        return t.elem is None or t.length == 0 or _memory_comparable(t.elem)
    if t.kind is Kind.STRUCT:
        named = [f for f in t.fields if f.name != "_"]
        if len(t.fields) == 1 and named:
            return _memory_comparable(t.fields[0].type)
        for index, f in enumerate(t.fields):
            end = t.fields[index + 1].offset if index + 1 < len(t.fields) else t.size
            if f.name == "_" or f.offset + f.type.size != end or not _memory_comparable(f.type):
                return False
    return True


def _string_like(t: GoType) -> bool:
    """A string, or a one-element array or one-field struct of one (same algorithm as string)."""
    if t.kind is Kind.STRING:
        return True
    if t.kind is Kind.ARRAY and t.length == 1 and t.elem is not None:
        return _string_like(t.elem)
    if t.kind is Kind.STRUCT and len(t.fields) == 1 and t.fields[0].name != "_":
        return _string_like(t.fields[0].type)
    return False


def assign_path(map_type: MapType) -> AssignPath:
    key, elem = map_type.key, map_type.elem
    if elem.size > MAX_INLINE:
        return AssignPath.SLOW
    if _string_like(key):
        return AssignPath.FASTSTR
    if _memory_comparable(key) and key.size == 4 and key.ptrdata == 0:
        return AssignPath.FAST32
    if _memory_comparable(key) and key.size == 8:
        return AssignPath.FAST64 if key.ptrdata == 0 else AssignPath.FAST64PTR
    return AssignPath.SLOW


def _align(value: int, to: int) -> int:
    return -(-value // to) * to


def _stored(t: GoType) -> tuple[int, int, tuple[int, ...]]:
    """Size, alignment and pointer words of what a slot holds for `t`: the value, or a pointer to it."""
    if t.size > MAX_INLINE:
        return PTR_SIZE, PTR_SIZE, (0,)
    return t.size, t.align, pointer_words(t)


@dataclass(frozen=True)
class SwissLayout:
    """The compiler's group type for one map: struct {ctrl uint64; slots [8]struct{key; elem}}."""

    slot_size: int
    group_size: int
    group_words: tuple[int, ...]
    path: AssignPath

    @classmethod
    def of(cls, map_type: MapType) -> SwissLayout:
        key_size, key_align, key_words = _stored(map_type.key)
        elem_size, elem_align, elem_words = _stored(map_type.elem)
        slot_align = max(key_align, elem_align, 1)
        elem_offset = _align(key_size, max(elem_align, 1))
        slot_size = elem_offset + elem_size
        if slot_size > 0 and elem_size == 0:
            slot_size += 1
        slot_size = _align(slot_size, slot_align)
        group_size = PTR_SIZE + SLOTS * slot_size
        if SLOTS * slot_size == 0:
            group_size = _align(PTR_SIZE + 1, PTR_SIZE)
        slot_words = sorted({*key_words, *(elem_offset + w for w in elem_words)})
        words = tuple(PTR_SIZE + i * slot_size + w for i in range(SLOTS) for w in slot_words)
        return cls(slot_size, group_size, words, assign_path(map_type))


@dataclass(frozen=True)
class Piece:
    """One heap object of the map: what it occupies and what the collector scans of it."""

    heap_bytes: int
    scan: int


def array_piece(elem_size: int, words: tuple[int, ...], count: int) -> Piece:
    """An array of `count` elements of `elem_size` bytes whose pointer words sit at `words`."""
    alloc = sizeclasses.allocation(elem_size * count, noscan=not words)
    return Piece(alloc.heap_bytes, array_scan(elem_size, words, count))


@dataclass(frozen=True)
class Costs:
    """Heap bytes and scan bytes of every object a map of one type allocates, on one release."""

    layout: SwissLayout
    rules: Rules

    @property
    def header(self) -> Piece:
        return Piece(sizeclasses.heap_bytes(HEADER_SIZE, noscan=False), HEADER_PTRDATA)

    @property
    def table(self) -> Piece:
        return Piece(sizeclasses.heap_bytes(TABLE_SIZE, noscan=False), TABLE_PTRDATA)

    def groups(self, capacity: int) -> Piece:
        return _groups_piece(self.layout, capacity // SLOTS)

    def directory(self, length: int) -> Piece:
        return array_piece(PTR_SIZE, (0,), length)


@lru_cache(maxsize=1024)
def _groups_piece(layout: SwissLayout, groups: int) -> Piece:
    return array_piece(layout.group_size, layout.group_words, groups)


# -- the map's structure as counts ----------------------------------------------------------------------


@dataclass(frozen=True)
class MapState:
    """A map's structure: a small map (`small` entries in one group, if `group`) or classes of tables."""

    small: int | None
    group: bool
    classes: tuple[TableClass, ...]
    depth: int
    oldest: int = 0

    @property
    def tables(self) -> int:
        return sum(c.tables for c in self.classes)


def _hint_tables(hint: int, group_size: int) -> tuple[int, int] | None:
    """NewMap's initial directory depth and table capacity for a hint above 8 (None: an empty map)."""
    target = hint * SLOTS // 7
    dir_size = max(1, 1 << (-(-target // MAX_TABLE_CAPACITY) - 1).bit_length())
    if dir_size * MAX_TABLE_CAPACITY * group_size > MAX_ALLOC:
        return None
    capacity = max(SLOTS, target // dir_size)
    capacity = 1 << (capacity - 1).bit_length()
    return dir_size.bit_length() - 1, capacity


class Advancer:
    """Pure transitions of `MapState` at one luck; the machine replays them on the ledger."""

    def __init__(self, luck: float, rules: Rules) -> None:
        self._luck = luck
        self._filler = Filler(rules.prune_tombstones)
        self._seen: dict[tuple[MapState, int, int, bool], tuple[MapState, Counter[Step]]] = {}

    def insert(
        self, state: MapState, keys: int, first: int, events_only: bool = False
    ) -> tuple[MapState, Counter[Step]]:
        """The state after keys `first`..`first+keys-1` are inserted, and the growth on the way (cached:
        the machine asks for the same prefixes more than once). With `events_only` the state's tables
        are only good for their depths."""
        key = (state, keys, first, events_only)
        known = self._seen.get(key)
        if known is None:
            known = self._seen[key] = self._insert(state, keys, first, events_only)
        return known

    def _insert(
        self, state: MapState, keys: int, first: int, events_only: bool
    ) -> tuple[MapState, Counter[Step]]:
        events: Counter[Step] = Counter()
        if keys <= 0:
            return state, events
        if state.small is not None:
            if not state.group:
                events["group", 0] += 1
            room = SMALL_MAP_ENTRIES - state.small
            if keys <= room:
                return replace(state, small=state.small + keys, group=True), events
            events["table", 0] += 1
            first += room
            moved = (((first - SMALL_MAP_ENTRIES, first), float(SMALL_MAP_ENTRIES)),)
            table = TableClass(0, 2 * SLOTS, 1, float(SMALL_MAP_ENTRIES), 0.0, placed=moved, luck=self._luck)
            state = MapState(None, False, (table,), 0, first - SMALL_MAP_ENTRIES)
            keys -= room
        growth = self._filler.insert(state.classes, keys, first, state.oldest, events_only)
        events.update(growth.events)
        depth = max([state.depth, *(c.depth for c in growth.classes)])
        for level in range(state.depth + 1, depth + 1):
            events["dir", 1 << level] += 1
        return MapState(None, False, growth.classes, depth, state.oldest), events


# -- the machine ----------------------------------------------------------------------------------------


class SwissMachine(MapMachine):
    """Replays a Swiss-table map's allocations on the ledger, at one luck."""

    def __init__(self, costs: Costs, ledger: Ledger, entries: Entries, luck: float) -> None:
        self._costs = costs
        self._ledger = ledger
        self._entries = entries
        self._luck = luck
        self._advancer = Advancer(luck, costs.rules)
        # An insert read only at its end leaves its tables' occupancy uncomputed until an operation
        # needs it: (state before, keys, first key).
        self._unsettled: tuple[MapState, int, int] | None = None
        self._state = MapState(0, False, (), 0)
        self.live = 0
        self.next_key = 0
        # Until the first hint, delete or clear, inserts follow the split rule's closed form
        # (`filled_signature`). `state` is only built (by the step-wise model) when an insert after a delete
        # or clear needs the tables' occupancy; until then those operations wait in `_pending`.
        self._pristine = True
        self._pending: list[tuple[str, int, int, float]] | None = []
        self._peaks = True

    @property
    def state(self) -> MapState:
        if self._unsettled is not None:
            start, count, first = self._unsettled
            self._unsettled = None
            self._state, _ = self._advancer.insert(start, count, first)
        return self._state

    @state.setter
    def state(self, value: MapState) -> None:
        self._unsettled = None
        self._state = value

    # -- ledger helpers

    def _alloc(self, account: str, cause: Cause, reason: str, piece: Piece, objects: int = 1) -> None:
        self._ledger.allocate(
            account, cause, reason, objects=objects, bytes_each=piece.heap_bytes, scan_each=piece.scan
        )

    def _alloc_tables(self, capacity: int, count: int, reason: str) -> None:
        self._alloc("tables", Cause.TABLE, reason, self._costs.table, count)
        self._alloc(f"groups-{capacity}", Cause.GROUPS, reason, self._costs.groups(capacity), count)

    def _free_tables(self, capacity: int, count: int, reason: str) -> None:
        self._ledger.release("tables", reason, count)
        self._ledger.release(f"groups-{capacity}", reason, count)

    # -- applying events

    @staticmethod
    def _steps(events: Counter[Step]) -> list[tuple[Step, int]]:
        """Growth steps in the order they can happen: the small map's group, the small map becoming a
        table, tables doubling by size, splits by depth, the directory doubling."""
        rank = {"group": 0, "table": 1, "grow": 2, "split": 3, "dir": 4}
        return sorted(
            ((step, count) for step, count in events.items() if count > 0),
            key=lambda e: (rank[e[0][0]], e[0][1]),
        )

    def _allocate(self, step: Step, count: int) -> None:
        kind, size = step
        if kind == "group":
            reason = "first insert: one group (small map)"
            self._alloc("small-group", Cause.GROUPS, reason, self._costs.groups(SLOTS))
        elif kind == "table":
            reason = "9th key: the small map becomes a 16-slot table"
            self._alloc_tables(2 * SLOTS, 1, reason)
            self._alloc("dir-1", Cause.DIRECTORY, reason, self._costs.directory(1))
        elif kind == "grow":
            self._alloc_tables(2 * size, count, f"table full: grows to {2 * size} slots")
        elif kind == "split":
            self._alloc_tables(MAX_TABLE_CAPACITY, 2 * count, "1024-slot table full: splits in two")
        else:
            self._alloc(
                f"dir-{size}", Cause.DIRECTORY, f"directory doubles to {size}", self._costs.directory(size)
            )

    def _release(self, step: Step, count: int) -> None:
        kind, size = step
        if kind == "table":
            self._ledger.release("small-group", "replaced by a table")
        elif kind == "grow":
            self._free_tables(size, count, f"replaced by a {2 * size}-slot table")
        elif kind == "split":
            self._free_tables(MAX_TABLE_CAPACITY, count, "replaced by its two halves")
        elif kind == "dir":
            self._ledger.release(f"dir-{size // 2}", "replaced by a larger directory")

    def _bulk(self, events: Counter[Step]) -> None:
        """Growth steps between checkpoints: each frees before it allocates, so no false peak appears."""
        for step, count in self._steps(events):
            self._release(step, count)
            self._allocate(step, count)

    def _event(self, events: Counter[Step]) -> None:
        """The growth of one insert. Everything it allocates is live together with what it replaces until
        the next collection, which is when the oracle reads its peak: so the key's own objects (which the
        runtime allocates right after the growth), then the new structure, then the old one dropped."""
        steps = self._steps(events)
        self._entries.insert(1)
        for step, count in steps:
            self._allocate(step, count)
        for step, count in steps:
            self._release(step, count)

    # -- operations

    def make(self, hint: int | None) -> None:
        self._alloc("header", Cause.HEADER, "make: the map header", self._costs.header)
        if hint is None or hint <= SMALL_MAP_ENTRIES:
            return
        sized = _hint_tables(hint, self._costs.layout.group_size)
        if sized is None:
            return
        depth, capacity = sized
        self._pristine = False
        self._pending = None
        reason = f"make with hint {hint}"
        self._alloc(f"dir-{1 << depth}", Cause.DIRECTORY, reason, self._costs.directory(1 << depth))
        self._alloc_tables(capacity, 1 << depth, reason)
        tables = TableClass(depth, capacity, 1 << depth, 0.0, 0.0, luck=self._luck)
        self.state = MapState(None, False, (tables,), depth)

    def insert(self, count: int) -> None:
        if count <= 0:
            return
        if self._pristine:
            self._insert_pristine(count)
        else:
            self._materialize()
            self._insert_stepwise(count)
        self.live += count
        self.next_key += count

    def _insert_pristine(self, count: int) -> None:
        start_events = filled_events(filled_signature(self.next_key, self._luck))

        def probe(keys: int) -> tuple[int, Signature]:
            signature = filled_signature(self.next_key + keys, self._luck)
            return len(signature[1]), signature

        def growth(keys: int) -> Counter[Step]:
            return filled_events(probe(keys)[1]) - start_events

        self._replay(count, probe, growth, probe(count), growth(count))

    def _insert_stepwise(self, count: int) -> None:
        start = self.state

        def probe(keys: int) -> tuple[int, tuple[tuple[Step, int], ...]]:
            state, events = self._advancer.insert(start, keys, self.next_key, events_only=True)
            return state.depth, tuple(sorted(events.items()))

        def growth(keys: int) -> Counter[Step]:
            return self._advancer.insert(start, keys, self.next_key, events_only=True)[1]

        final, events = self._advancer.insert(start, count, self.next_key, events_only=not self._peaks)
        self._replay(count, probe, growth, (final.depth, tuple(sorted(events.items()))), events)
        if self._peaks:
            self.state = final
        else:
            self._unsettled = (start, count, self.next_key)

    def only_final_readings(self) -> None:
        self._peaks = False

    def _replay(
        self,
        count: int,
        probe: Callable[[int], tuple[int, Hashable]],
        growth: Callable[[int], Counter[Step]],
        end: tuple[int, Hashable],
        events: Counter[Step],
    ) -> None:
        """Put the growth of `count` inserts on the ledger: in bulk up to the insert of the last growth
        step and of the last directory doubling, those one by one (they are where the peak is read).
        `probe(k)` is the directory depth and a signature of the growth after k of the inserts, `end` that
        after all of them; `growth(k)` the steps taken by then, `events` all of them."""
        final_depth, final = end
        checkpoints: set[int] = set()
        if events and self._peaks:
            checkpoints.add(self._first(count, lambda k: probe(k)[1] == final, gallop=True))
            if final_depth > probe(0)[0]:
                checkpoints.add(self._first(count, lambda k: probe(k)[0] == final_depth, gallop=False))
        done, seen = 0, Counter[Step]()
        for at in sorted(checkpoints):
            before = growth(at - 1)
            after = growth(at)
            self._bulk(before - seen)
            self._insert_entries(at - 1 - done)
            self._event(after - before)
            done, seen = at, after
        self._bulk(events - seen)
        self._insert_entries(count - done)

    def _insert_entries(self, count: int) -> None:
        if count > 0:
            self._entries.insert(count)

    @staticmethod
    def _first(count: int, same: Callable[[int], bool], gallop: bool) -> int:
        """The first key of this insert after which `same` holds (and stays so): a binary search, after a
        gallop back from the end if asked (in big maps the last growth is near it)."""
        low, high, step = 0, count, 1
        while gallop and high - step > 0:
            if not same(high - step):
                low = high - step
                break
            high -= step
            step *= 2
        low += 1
        while low < high:
            mid = (low + high) // 2
            if same(mid):
                high = mid
            else:
                low = mid + 1
        return low

    def _materialize(self) -> None:
        """Leave the closed form for the step-wise model: its tables for the keys inserted so far, then
        the deletes and clears since (which change no allocation, only what later inserts find)."""
        if self._pending is None:
            return
        self.state, _ = self._advancer.insert(MapState(0, False, (), 0), self.next_key, 0)
        pending, self._pending = self._pending, None
        for kind, count, cut, fraction in pending:
            if kind == "delete":
                self._delete_state(count, cut, fraction)
            else:
                self._clear_state(count)

    def delete(self, count: int) -> None:
        if count <= 0:
            return
        fraction = count / self.live if self.live else 1.0
        self._entries.delete(count)
        self.live -= count
        cut = self.next_key - self.live
        self._pristine = False
        if self._pending is not None:
            self._pending.append(("delete", count, cut, fraction))
        else:
            self._delete_state(count, cut, fraction)

    def _delete_state(self, count: int, cut: int, fraction: float) -> None:
        state = self.state
        if state.small is not None:
            self.state = replace(state, small=max(0, state.small - count), oldest=cut)
            return
        # The model's own error in the tombstones a delete makes is part of the range where more tombstones
        # mean more rebuilds; where pruning may take them, more can mean fewer, so the range stays with
        # the hash seed's part alone.
        error_luck = 0.5 if self._costs.rules.prune_tombstones else self._luck
        classes = delete_below(state.classes, cut, min(1.0, fraction), error_luck)
        self.state = replace(state, classes=classes, oldest=cut)

    def clear(self) -> None:
        live = self.live
        if live > 0:
            self._entries.clear()
            self.live = 0
        self._pristine = False
        if self._pending is not None:
            self._pending.append(("clear", live, 0, 0.0))
        else:
            self._clear_state(live)

    def _clear_state(self, live: int) -> None:
        """What clear does to the tables of a map that held `live` keys (1.24 leaves an emptied map as it
        is, tombstones and all)."""
        state = self.state
        tombs = any(c.tombs > 0 for c in state.classes)
        if live == 0 and not (tombs and self._costs.rules.clear_after_deletes):
            return
        if state.small is not None:
            self.state = replace(state, small=0, oldest=self.next_key)
            return
        self.state = replace(state, classes=cleared(state.classes), oldest=self.next_key)


def machine_factory(map_type: MapType, version: GoVersion) -> MachineFactory:
    """Machines for `map_type` on `version` (1.24 or later)."""
    layout = SwissLayout.of(map_type)
    costs = Costs(layout, Rules.of(version, layout.path))

    def build(ledger: Ledger, entries: Entries, luck: float) -> MapMachine:
        return SwissMachine(costs, ledger, entries, luck)

    return build
