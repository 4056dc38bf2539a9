"""Source evidence of a map site, and the matching of its object sizes against a catalogue.

With `--source DIR`, what is written at a site's line (make, literal, store, clone) and the map's type
give the catalogue of objects the line can allocate (map_shapes); each of the profile's object sizes
(the `bytes` label) is matched against it. Without the source, a map call named by the binary gives a
catalogue of stand-in types (the one whose sizes explain most of the call's bytes), with guessed
confidence.

Every call at the line (place) is judged on its own: a call none of whose sizes the catalogue has is
another call at the same line (the T of `m[k] = &T{}`, a string concatenation) and its bytes are not the
map's. Objects a map allocates at most once (the array of one B, a directory of one length) are capped
by the maps there are: a map's arrays come in a ladder whose counts never rise from one rung to the
next, so a rung holding more objects than the rung below holds the excess of some other object of the
same size, and that excess is not the map's either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mapscope.analyses.map_causes import Frame
from mapscope.analyses.map_shapes import Candidate, MemoryClass, Shapes, shapes
from mapscope.analyses.site_classes import OTHER, RANK, UNBOUNDED_ORDER, Confidence, Group, Tally, split
from mapscope.analyses.site_evidence import Code
from mapscope.errors import MapscopeError
from mapscope.model import buckets, sizeclasses
from mapscope.model.gotypes import MAX_INLINE, GoType, Kind, MapType
from mapscope.model.ops import Op, OpKind
from mapscope.model.records import Action, Cause
from mapscope.model.simulate import simulate
from mapscope.model.swiss_loads import SLOTS as SMALL_MAP_ENTRIES
from mapscope.model.versions import Implementation, Target
from mapscope.readers import go_stdlib, gotype_source
from mapscope.readers.go_source import ALLOCATING, ExprKind, GoFile, MapExpression, SourceTree

_LARGEST_HEADER = 64  # hmap of Go 1.24+ with noswissmap: 56 bytes in a 64-byte slot
_CODE_CLASS = {
    Code.INITIAL: MemoryClass.INITIAL,
    Code.GROWTH: MemoryClass.GROWTH,
    Code.OVERFLOW: MemoryClass.OVERFLOW,
    Code.UNEXPLAINED: MemoryClass.UNEXPLAINED,
}
# Slack on the ladder cap, for the noise of sampled counts (scaled estimates, not exact counts).
_CAP_SLACK = 2


@dataclass(frozen=True)
class SiteData:
    """One candidate site's groups, all together and by verdict code."""

    frame: Frame
    groups: list[Group]
    codes: dict[int, list[Group]]


@dataclass
class SourceContext:
    """Per-call caches (files, map types parsed, catalogues built, model runs), never shared."""

    sources: SourceTree | None
    stdlib: SourceTree | None = None
    files: dict[str, GoFile | None] = field(default_factory=dict)
    types: dict[tuple[str, str], GoType | None] = field(default_factory=dict)
    catalogues: dict[tuple[object, ...], Shapes] = field(default_factory=dict)
    overflows: dict[tuple[str, str, int], int] = field(default_factory=dict)
    by_line: dict[tuple[str, int], SiteData] = field(default_factory=dict)

    def file(self, name: str, function: str = "") -> GoFile | None:
        """The parsed file of a frame: the user's tree, else (for a standard-library function) the
        standard library's."""
        if name not in self.files:
            found = self.sources.file(name) if self.sources is not None else None
            if found is None and self.stdlib is not None and go_stdlib.is_stdlib(function):
                found = self.stdlib.file(name)
            self.files[name] = found
        return self.files[name]

    def go_type(self, text: str | None, declarations: str) -> GoType | None:
        if not text:
            return None
        key = (text, declarations)
        if key not in self.types:
            try:
                self.types[key] = gotype_source.parse_type(text, declarations)
            except (MapscopeError, RecursionError):
                self.types[key] = None
        return self.types[key]

    def map_type(self, expression: MapExpression, declarations: str) -> MapType | None:
        found = self.go_type(expression.map_type, declarations)
        if found is None or found.kind is not Kind.MAP or found.key is None or found.elem is None:
            return None
        return MapType(found.key, found.elem)

    def catalogue(self, expression: MapExpression, declarations: str, target: Target) -> Shapes | None:
        map_type = self.map_type(expression, declarations)
        if map_type is None:
            return None
        boxes = []
        for stored, slot in ((expression.key_type, map_type.key), (expression.value_type, map_type.elem)):
            dynamic = self.go_type(stored, declarations)
            if slot.is_interface and dynamic is not None and not dynamic.is_interface:
                boxes.append(dynamic)
        key = (map_type, target, expression.kind, expression.hint, expression.hint_known, tuple(boxes))
        if key not in self.catalogues:
            self.catalogues[key] = shapes(
                map_type, target, expression.kind, expression.hint, expression.hint_known, tuple(boxes)
            )
        return self.catalogues[key]

    def interface_unknown(self, expression: MapExpression, declarations: str) -> bool:
        """A store of a value whose dynamic type is unknown into an interface-typed key or value."""
        map_type = self.map_type(expression, declarations)
        if map_type is None or expression.kind is not ExprKind.ASSIGN:
            return False
        for stored, slot in ((expression.key_type, map_type.key), (expression.value_type, map_type.elem)):
            if slot.is_interface and self.go_type(stored, declarations) is None:
                return True
        return False

    def overflow_buckets(self, map_type: MapType, target: Target, b: int) -> int:
        """The model's overflow buckets over the life of a map filled to the most B=`b` holds."""
        key = (map_type.name, target.label, b)
        if key not in self.overflows:
            timeline = simulate(map_type, (Op(OpKind.INSERT, buckets.load_limit(b)),), target)
            self.overflows[key] = sum(
                e.objects for e in timeline.events if e.action is Action.ALLOC and e.cause is Cause.OVERFLOW
            )
        return self.overflows[key]

    def typed(self, frame: Frame) -> bool:
        """The frame's line has an allocating map expression whose map type mapscope can lay out."""
        found, expressions = self.expressions(frame)
        return found is not None and any(self.map_type(e, found.declarations) for e in expressions)

    def expressions(
        self, frame: Frame, allocating: bool = True
    ) -> tuple[GoFile | None, tuple[MapExpression, ...]]:
        """The typed map expressions at a frame's line (only those that allocate, if asked)."""
        found = self.file(frame.file, frame.function)
        if found is None:
            return None, ()
        return found, tuple(
            e
            for e in found.at(frame.line)
            if e.map_type is not None and (not allocating or e.kind in ALLOCATING)
        )


def _arrays_of(bucket: int) -> frozenset[int]:
    """Heap sizes of arrays of 2^B objects of `bucket` bytes, B >= 1, with a bucket map's preallocated
    overflow buckets or without, scanned or not."""
    found = set()
    for b in range(1, 40):
        for count in (1 << b, (1 << b) + ((1 << (b - 4)) if b >= 4 else 0)):
            for noscan in (True, False):
                found.add(sizeclasses.heap_bytes(bucket * count, noscan))
    return frozenset(found)


def _distinctive(candidate: Candidate) -> bool:
    """An object only a map's own work allocates at this size (not a small generic one)."""
    return (
        candidate.role in ("first", "arrays", "entry", "make", "header")
        or candidate.what == "overflow bucket"
    )


def _ladder_caps(by_size: dict[int, list[Candidate]], counts: dict[int, int]) -> dict[int, int]:
    """Per bounded array or directory size: the most objects of it the site's maps can have allocated.
    A map allocates each array rung once, climbing, so a rung has at most as many objects as the rung
    below it (the lowest rung present is the reference); each directory length once per grown map."""
    arrays = sorted(
        size
        for size in counts
        if by_size.get(size) and all(c.role == "arrays" and c.bounded for c in by_size[size])
    )
    caps: dict[int, int] = {}
    below: int | None = None
    for size in arrays:
        caps[size] = counts[size] if below is None else min(counts[size], _CAP_SLACK * below + _CAP_SLACK)
        below = caps[size]
    grown = caps[arrays[0]] if arrays else None
    for size, count in counts.items():
        candidates = by_size.get(size, [])
        if grown is not None and candidates and all(c.role == "directory" for c in candidates):
            caps[size] = min(count, _CAP_SLACK * grown + _CAP_SLACK)
    return caps


class SiteMatcher:
    """Matches one site's size groups against the union of its expressions' catalogues."""

    def __init__(
        self,
        catalogues: list[Shapes],
        interface_unknown: bool,
        overflow_estimate: int | None,
        confidence: Confidence = Confidence.EXACT,
        line_allocates: bool = False,
        stand_in: int = 0,
    ):
        self.by_size: dict[int, list[Candidate]] = {}
        for catalogue in catalogues:
            for candidate in catalogue.candidates:
                self.by_size.setdefault(candidate.size, []).append(candidate)
        self.interface_unknown = interface_unknown
        self.overflow_estimate = overflow_estimate or 0
        self.best = confidence
        self.line_allocates = line_allocates
        self.stand_in = stand_in

    def _confidence(self, confidence: Confidence) -> Confidence:
        return confidence if RANK[confidence] > RANK[self.best] else self.best

    def maps_grown(self, groups: list[Group]) -> int:
        """Maps at the site that grew at least once: the most objects of any size only growth allocates
        once per map."""
        counts: dict[int, int] = {}
        for group in groups:
            candidates = self.by_size.get(group.size, [])
            if candidates and all(c.memory_class is MemoryClass.GROWTH and c.bounded for c in candidates):
                counts[group.size] = counts.get(group.size, 0) + group.count
        return max(counts.values(), default=0)

    def places(self, groups: list[Group], tally: Tally) -> list[Group]:
        """The groups of the calls (places) that can be the map's. A call is the map's when one of its
        sizes is one the map's own work has (a bucket or group array, the first bucket, an overflow
        bucket, a header, an out-of-line key or value): a call whose sizes only small generic objects
        match (a directory, a table struct) is another call at the line, its groups `other`. A call
        whose sizes are all interface boxes is a box, unless there are more such calls than the line
        stores boxes, or the line builds strings or objects of its own (a concatenation has a box's
        size too): then all are ambiguous. Without
        the stored type, a call with no size of the map's may be a box or not: ambiguous."""
        distinctive: dict[int, bool] = {}
        boxes_only: dict[int, bool] = {}
        for group in groups:
            candidates = self.by_size.get(group.size, [])
            distinctive[group.place] = distinctive.get(group.place, False) or any(
                _distinctive(c) for c in candidates
            )
            boxes_only[group.place] = boxes_only.get(group.place, True) and any(
                c.role == "box" for c in candidates
            )
        boxes_only = {place: only and not distinctive[place] for place, only in boxes_only.items()}
        box_calls = sum(boxes_only.values())
        slots = len({c.what for found in self.by_size.values() for c in found if c.role == "box"})
        kept = []
        for group in groups:
            if boxes_only[group.place]:
                if box_calls <= slots and not self.line_allocates:
                    kept.append(group)
                else:
                    tally.ambiguous(group, "an interface box or another allocation of the same size")
            elif distinctive[group.place]:
                kept.append(group)
            elif self.interface_unknown:
                tally.ambiguous(group, "an interface box or another allocation")
            else:
                tally.add(group.size, OTHER, group.value, group.count, Confidence.NONE, group.place)
        return kept

    def match(self, groups: list[Group], tally: Tally) -> int:
        """Adds the groups' classes to `tally`; returns the value matched by the catalogue."""
        grown = self.maps_grown(groups)
        by_size: dict[int, list[Group]] = {}
        for group in groups:
            by_size.setdefault(group.size, []).append(group)
        counts = {size: sum(g.count for g in paths) for size, paths in by_size.items()}
        caps = _ladder_caps(self.by_size, counts)
        matched = 0
        for size, found in by_size.items():
            candidates = self.by_size.get(size, [])
            classes = {c.memory_class for c in candidates}
            if not candidates and self.stand_in and size > MAX_INLINE:
                # A stand-in type lacks the real type's out-of-line objects and, with pointers or
                # without, some of its arrays: an array of 2^B first buckets is growth, else out of line.
                lacked = MemoryClass.GROWTH if size in _arrays_of(self.stand_in) else MemoryClass.OUT_OF_LINE
                for group in found:
                    tally.add(group.size, lacked, group.value, group.count, self.best, group.place)
                continue
            if not candidates:
                for group in found:
                    tally.add(
                        group.size,
                        MemoryClass.UNEXPLAINED,
                        group.value,
                        group.count,
                        Confidence.NONE,
                        group.place,
                    )
                continue
            paths = _take(found, caps[size], tally) if caps.get(size, counts[size]) < counts[size] else found
            matched += sum(group.value for group in paths)
            if len(classes) == 1:
                only = classes.pop()
                for group in paths:
                    tally.add(
                        size, only, group.value, group.count, self._confidence(Confidence.EXACT), group.place
                    )
                continue
            self.divide(paths, candidates, grown, tally)
        return matched

    def divide(self, paths: list[Group], candidates: list[Candidate], grown: int, tally: Tally) -> None:
        """Objects of one size that several classes share. A bounded object (the first bucket, the array
        of one B) is allocated once per map: as many as the maps that grew (a map that never grew has its
        first bucket only)."""
        confidence = self._confidence(Confidence.SPLIT)
        bounded = list({(c.memory_class, c.role): c for c in candidates if c.bounded}.values())
        unbounded = {c.memory_class for c in candidates if not c.bounded}
        rest = next((c for c in UNBOUNDED_ORDER if c in unbounded), None)
        first_or_overflow = [c.role for c in bounded] == ["first"] and rest is MemoryClass.OVERFLOW
        if len(paths) > 1 and bounded:
            # Separate runtime paths: each bounded class takes the path whose count is nearest its own.
            # A path holding far more objects than there are maps (a sampled small object is scaled
            # up to thousands) is no once-per-map object.
            remaining = sorted(paths, key=lambda g: g.count)
            for candidate in bounded:
                fitting = [g for g in remaining if g.count <= 2 * max(grown, 1)]
                if not fitting or (rest is None and len(remaining) == 1):
                    break
                pick = min(fitting, key=lambda g: abs(g.count - grown))
                remaining.remove(pick)
                tally.add(pick.size, candidate.memory_class, pick.value, pick.count, confidence, pick.place)
            last = rest if rest is not None else bounded[-1].memory_class
            for group in remaining:
                tally.add(group.size, last, group.value, group.count, confidence, group.place)
            return
        value = sum(g.value for g in paths)
        count = sum(g.count for g in paths)
        if first_or_overflow:
            # One path: all first buckets or all overflow buckets, whichever count the model expects.
            near_first = abs(count - grown) <= abs(count - self.overflow_estimate) if grown else True
            chosen = MemoryClass.INITIAL if near_first else MemoryClass.OVERFLOW
            tally.add(paths[0].size, chosen, value, count, confidence, paths[0].place)
            return
        left, shared = count, 0
        for candidate in bounded:
            take = min(left, grown)
            part = split(value, count, take)
            tally.add(paths[0].size, candidate.memory_class, part, take, confidence, paths[0].place)
            left, shared = left - take, shared + part
        last = rest if rest is not None else bounded[-1].memory_class
        tally.add(paths[0].size, last, value - shared, left, confidence, paths[0].place)


def _take(paths: list[Group], cap: int, tally: Tally) -> list[Group]:
    """The part of `paths` (one size) the map can have allocated, `cap` objects; the rest is other."""
    count = sum(g.count for g in paths)
    kept = []
    for group in paths:
        take = group.count * cap // count if count else 0
        part = split(group.value, group.count, take)
        kept.append(Group(group.size, part, take, group.place))
        tally.add(group.size, OTHER, group.value - part, group.count - take, Confidence.NONE, group.place)
    return kept


_ALLOCATING_TEXT = re.compile(r"\+|\bstring\(|\[\]byte\(|\bappend\(|&\w|\bnew\(|\bfmt\.")


def _allocates(expressions: tuple[MapExpression, ...]) -> bool:
    """The statement builds something of its own that may have a box's size: a string concatenation
    or conversion, an append, a new object, a formatted string."""
    return any(_ALLOCATING_TEXT.search(e.text) for e in expressions)


def _made_big(context: SourceContext, found: GoFile, frame: Frame, store: MapExpression) -> bool:
    """The stored-to map was made, in this function, with room for more than one bucket or group, so
    its stores never allocate a first one: a constant hint over 8, or a make line that allocated
    something larger than a map header."""
    if store.made_at is None:
        return False
    made = [e for e in found.at(store.made_at) if e.kind in (ExprKind.MAKE, ExprKind.LITERAL)]
    if not made:
        return False
    if made[0].hint is not None:
        return made[0].hint > SMALL_MAP_ENTRIES
    if made[0].hint_known:
        return False
    there = context.by_line.get((frame.file, store.made_at))
    return there is not None and any(g.size > _LARGEST_HEADER for g in there.groups)


def _overflow_estimate(
    context: SourceContext, catalogue: Shapes, counts_by_size: dict[int, int]
) -> int | None:
    """Overflow buckets the model expects for the maps a store site grew, read from its bucket arrays:
    maps whose last array had B=k number count(B=k) - count(B=k+1)."""
    if catalogue.target.implementation is not Implementation.BUCKETS:
        return None
    arrays = sorted(
        (int(c.what.rsplit("=", 1)[1]), c.size)
        for c in catalogue.candidates
        if c.role == "arrays" and c.what.startswith("bucket array")
    )
    total = 0
    for (b, size), following in zip(arrays, [*arrays[1:], (0, -1)], strict=True):
        ending = counts_by_size.get(size, 0) - counts_by_size.get(following[1], 0)
        if ending > 0:
            total += ending * context.overflow_buckets(catalogue.map_type, catalogue.target, b)
    return total


@dataclass(frozen=True)
class SourceMatch:
    kinds: str
    map_type: str
    text: str
    matched: int
    interface_slots: bool


def source_site(context: SourceContext, data: SiteData, target: Target, tally: Tally) -> SourceMatch | None:
    """Match a site's sizes with the catalogues of its source expressions; None if it has none."""
    found, expressions = context.expressions(data.frame)
    if found is None or not expressions:
        return None
    counts_by_size: dict[int, int] = {}
    for group in data.groups:
        counts_by_size[group.size] = counts_by_size.get(group.size, 0) + group.count
    catalogues = []
    estimate = None
    interface_slots = False
    for expression in expressions:
        catalogue = context.catalogue(expression, found.declarations, target)
        if catalogue is None:
            continue
        interface_slots |= catalogue.map_type.key.is_interface or catalogue.map_type.elem.is_interface
        if expression.kind is ExprKind.ASSIGN:
            if _made_big(context, found, data.frame, expression):
                kept = tuple(c for c in catalogue.candidates if c.role != "first")
                catalogue = Shapes(catalogue.map_type, catalogue.target, kept)
            estimate = _overflow_estimate(context, catalogue, counts_by_size)
        catalogues.append(catalogue)
    if not catalogues:
        return None
    unknown = any(context.interface_unknown(e, found.declarations) for e in expressions)
    matcher = SiteMatcher(catalogues, unknown, estimate, line_allocates=_allocates(expressions))
    plain = matcher.places(list(data.codes.get(Code.NO_FRAMES, [])), tally)
    matched = matcher.match([*plain, *data.codes.get(Code.MAP_CALL, [])], tally)
    matched += runtime_groups(data, matcher, tally, interface_slots)
    kinds = "+".join(dict.fromkeys(e.kind.value for e in expressions))
    return SourceMatch(kinds, expressions[0].map_type or "", expressions[0].text, matched, interface_slots)


def _assigned_object(
    data: SiteData, matcher: SiteMatcher | None, group: Group
) -> tuple[MemoryClass, Confidence]:
    """An object the assignment allocated itself: the map's first bucket or an out-of-line key or value.
    The catalogue tells by size; without one, a first bucket has a growth array of twice its size at
    the site and about as many objects as it, and an out-of-line object is over 128 bytes."""
    if matcher is not None:
        first = any(c.role == "first" for c in matcher.by_size.get(group.size, []))
        return (MemoryClass.INITIAL if first else MemoryClass.OUT_OF_LINE), Confidence.EXACT
    doubled = {sizeclasses.heap_bytes(2 * group.size, noscan) for noscan in (True, False)}
    arrays = [g.count for g in data.codes.get(Code.GROWTH, []) if g.size in doubled]
    if arrays and group.count <= 2 * max(*arrays, 1):
        return MemoryClass.INITIAL, Confidence.GUESSED
    if group.size > MAX_INLINE:
        return MemoryClass.OUT_OF_LINE, Confidence.GUESSED
    return MemoryClass.UNEXPLAINED, Confidence.NONE


def has_map_evidence(data: SiteData) -> bool:
    """Runtime frames or the called function say the site does map work."""
    return any(code not in (Code.NO_FRAMES, Code.NOT_MAP, Code.BOXING) for code in data.codes)


def runtime_groups(
    data: SiteData, matcher: SiteMatcher | None, tally: Tally, interface_slots: bool | None = None
) -> int:
    """Groups whose runtime frames (or called function) decided; objects a map call allocated without
    saying what go by size. A box is the map's where the line stores into an interface slot (or,
    without the source, where the same line does map work); allocations of other things are not."""
    matched = 0
    boxes_are_map = interface_slots if interface_slots is not None else has_map_evidence(data)
    for code, groups in data.codes.items():
        if code in (Code.NO_FRAMES, Code.MAP_CALL):
            continue
        for group in groups:
            if code == Code.NOT_MAP or (code == Code.BOXING and not boxes_are_map):
                tally.add(group.size, OTHER, group.value, group.count, Confidence.NONE, group.place)
                continue
            matched += group.value
            if code == Code.BOXING:
                tally.add(
                    group.size, MemoryClass.BOXING, group.value, group.count, Confidence.EXACT, group.place
                )
            elif code == Code.MAP_OBJECT:
                memory_class, confidence = _assigned_object(data, matcher, group)
                tally.add(group.size, memory_class, group.value, group.count, confidence, group.place)
            else:
                tally.add(
                    group.size,
                    _CODE_CLASS[Code(code)],
                    group.value,
                    group.count,
                    Confidence.EXACT,
                    group.place,
                )
    return matched
