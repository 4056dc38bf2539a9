"""The vocabulary of a map site: its classes of memory (or CPU causes), how sure each is, and the tally
that adds a site's object-size groups up into them.

Not every byte at a map site's line is the map's: `m[k] = &T{}` allocates the T, `m[k] = append(m[k],
v)` grows a slice, `m[fmt.Sprint(x)] = v` formats a string. Such bytes are tallied as `other` and kept
out of the site's value; bytes that may be the map's or not (a size both a box and a string can have,
with nothing to tell them apart) are `ambiguous`, with their candidates, and kept out as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mapscope.analyses.map_shapes import MemoryClass


class Confidence(StrEnum):
    """How a class's bytes were matched, best first (see LEGEND)."""

    EXACT = "exact"
    SPLIT = "split"
    GUESSED = "guessed"
    NONE = "none"


LEGEND = {
    Confidence.EXACT: "a runtime frame or the called map function decides, or the object size fits one "
    "class of the map's type",
    Confidence.SPLIT: "a size several classes of the map's type share, divided by their counts",
    Confidence.GUESSED: "no map type known: the sizes climb a ladder of map arrays",
    Confidence.NONE: "map frames, but no class fits the size",
}
RANK = {c: i for i, c in enumerate(Confidence)}
OTHER = "other"  # bytes at the site's line that are not the map's
AMBIGUOUS = "ambiguous"  # bytes that may be the map's or not


class FoundBy(StrEnum):
    RUNTIME = "runtime frames"
    SOURCE = "source"
    SIZES = "object sizes"


@dataclass(frozen=True)
class Share:
    """One cause's part of a site: a MemoryClass for memory profiles, a MapCause otherwise."""

    cause: str
    value: int
    count: int
    confidence: Confidence


@dataclass(frozen=True)
class Site:
    """A map site. `value` is the sum of its shares; `other` the value at the same line that is not the
    map's, `ambiguous` the value that may be either, with what it may be in `ambiguous_with`.
    `size_causes` gives each object size, per call (the location row of the call instruction, -1 when
    not told apart), its class (by most value) and that class's confidence."""

    function: str
    file: str
    line: int
    found_by: FoundBy
    kind: str
    map_type: str | None
    expression: str
    value: int
    count: int
    shares: tuple[Share, ...]
    size_causes: tuple[tuple[int, int, str, str], ...]
    other: int = 0
    ambiguous: int = 0
    ambiguous_with: str = ""


@dataclass(frozen=True)
class Group:
    """Objects of one size at one site, from one call (place) with one verdict."""

    size: int
    value: int
    count: int
    place: int = -1


@dataclass
class Tally:
    """Per class: value, count and the weakest confidence seen; and per object size, value per class."""

    parts: dict[str, list[int]] = field(default_factory=dict)
    confidence: dict[str, Confidence] = field(default_factory=dict)
    sizes: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    candidates: set[str] = field(default_factory=set)

    def add(
        self, size: int, cause: str, value: int, count: int, confidence: Confidence, place: int = -1
    ) -> None:
        if value == 0 and count == 0 and cause not in self.parts:
            return
        by_cause = self.sizes.setdefault((size, place), {})
        by_cause[cause] = by_cause.get(cause, 0) + abs(value)
        part = self.parts.setdefault(cause, [0, 0])
        part[0] += value
        part[1] += count
        held = self.confidence.get(cause, Confidence.EXACT)
        self.confidence[cause] = held if RANK[held] >= RANK[confidence] else confidence

    def ambiguous(self, group: Group, candidates: str) -> None:
        self.add(group.size, AMBIGUOUS, group.value, group.count, Confidence.NONE, group.place)
        self.candidates.add(candidates)

    def size_causes(self) -> tuple[tuple[int, int, str, str], ...]:
        """Each (object size, call) with the class that holds most of its value and that class's
        confidence."""
        found = []
        for (size, place), causes in sorted(self.sizes.items()):
            cause = max(sorted(causes), key=lambda c: causes[c])
            held = self.confidence.get(cause, Confidence.NONE)
            found.append((size, place, cause, held.value))
        return tuple(found)

    def shares(self) -> tuple[Share, ...]:
        found = [
            Share(cause, value, count, self.confidence[cause])
            for cause, (value, count) in self.parts.items()
            if cause not in (OTHER, AMBIGUOUS)
        ]
        return tuple(sorted(found, key=lambda s: (-abs(s.value), s.cause)))

    def aside(self, cause: str) -> int:
        return self.parts.get(cause, [0, 0])[0]


UNBOUNDED_ORDER = (MemoryClass.OUT_OF_LINE, MemoryClass.BOXING, MemoryClass.OVERFLOW, MemoryClass.GROWTH)


def split(value: int, count: int, take: int) -> int:
    return value if take >= count or count == 0 else value * take // count
