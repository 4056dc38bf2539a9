"""Map sites found by their object sizes alone: a call whose sizes climb a ladder of map arrays.

Without the source and without the binary, a heap proto names the line that allocated and the size of
each object, nothing more. A map that grows allocates, at the call that stores into it, its first bucket
(or small group) and then arrays of 2, 4, 8, ... buckets or groups, each rounded to a size class; the
stand-in catalogues (map_shapes.probe_map_types) hold every such ladder. A call (one place of a line) is
a map site when its sizes climb at least three rungs of one ladder and that catalogue, with at most two
sizes of out-of-line keys or values (over 128 bytes, as many as the top rung's maps hold), explains
nearly all of the call's bytes: a slice grown by append also doubles, but its large steps are 1.25x and
its sizes wander off any one ladder, and a line of `make([]T, n)` spreads over many sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mapscope import ranges
from mapscope.analyses.map_causes import Frame
from mapscope.analyses.map_shapes import Candidate, MemoryClass, Shapes, probe_shapes
from mapscope.analyses.site_classes import AMBIGUOUS, OTHER, Confidence, FoundBy, Group, Site, Tally, split
from mapscope.analyses.site_evidence import Code, Observations, rows, sums
from mapscope.model.gotypes import MAX_INLINE
from mapscope.model.versions import Target

_MIN_LADDER_RUNGS = 3
_EXPLAINED = 0.9  # of a call's bytes its ladder's catalogue (and out-of-line objects) must explain
_OUT_OF_LINE_SIZES = 2
_ENTRIES_PER_BUCKET = 3  # a grown map holds over 3 entries per bucket (or group) of its last array
_SMALL = 512
_REPEATED = 4
_LARGEST_STRUCT = 64  # a map's own small structs (header, table, mapextra) are no larger
_BELOW = 2  # unexplained sizes below the first rung that make a ladder an append's
_HASH_SEED = 0x6D617073636F7065
_OTHER_CALLS = "another call at the line: a box, a new object stored into the map, or none of the map's"


@dataclass(frozen=True)
class Probes:
    """Stand-in catalogues for every bucket and group size, and which of them have a given rung size."""

    catalogues: list[Shapes]
    by_size: dict[int, list[int]]


@dataclass(frozen=True)
class LadderScores:
    """Per unit: the value on the best ladder, that ladder's catalogue index (-1 for none), the unit's
    whole value."""

    value: np.ndarray
    probe: np.ndarray
    total: np.ndarray


@dataclass(frozen=True, eq=False)
class SizedPairs:
    """The (unit, object size) pairs of the units a ladder could explain, sorted, with their values,
    and each unit's whole value: what every target's ladder scoring starts from."""

    pairs: np.ndarray
    value: np.ndarray
    total: np.ndarray


@dataclass(frozen=True, eq=False)
class Units:
    """The calls (site, place) with no verdict of their own, as observations whose `site` is the unit;
    `frames` names each unit's site and `sized` marks the units with enough sizes for a ladder."""

    observations: Observations
    frames: list[Frame]
    sized: np.ndarray


def units(observations: Observations, eligible: np.ndarray) -> Units:
    """The unit observations of the `eligible` sites' rows that no frame or callee decided."""
    keep = (
        np.flatnonzero(eligible[observations.site] & (observations.code == Code.NO_FRAMES))
        if observations.site.size
        else np.zeros(0, np.int64)
    )
    if keep.size == 0:
        return Units(Observations(), [], np.zeros(0, dtype=bool))
    pairs, unit = rows(np.stack([observations.site[keep], observations.place[keep]], axis=1))
    frames = [observations.sites[site] for site in pairs[:, 0].tolist()]
    unit_obs = Observations(
        frames,
        unit,
        observations.size[keep],
        observations.code[keep],
        observations.value[keep],
        observations.count[keep],
        observations.place[keep],
    )
    sizes = rows(np.stack([unit, observations.size[keep]], axis=1))[0]
    sized = np.bincount(sizes[:, 0], minlength=len(pairs)) >= _MIN_LADDER_RUNGS
    return Units(unit_obs, frames, sized)


@dataclass
class LadderContext:
    """Per-call caches of the ladder search, never shared between calls."""

    probes: dict[Target, Probes] = field(default_factory=dict)
    climbed: dict[tuple[Target, frozenset[int]], list[tuple[int, tuple[int, ...]]]] = field(
        default_factory=dict
    )
    ladder_scores: dict[Target, LadderScores] = field(default_factory=dict)
    sized_pairs: SizedPairs | None = None
    # By id: the catalogues live as long as the context, in `probes`.
    rungs_of: dict[int, dict[int, Candidate]] = field(default_factory=dict)

    def ladders(self, target: Target, sizes: frozenset[int]) -> list[tuple[int, tuple[int, ...]]]:
        """The probes that a set of object sizes climbs three rungs of, with the sizes on their rungs
        (cached: many units share a set of sizes)."""
        key = (target, sizes)
        known = self.climbed.get(key)
        if known is None:
            probes = self.probe(target)
            hits: dict[int, list[int]] = {}
            for size in sizes:
                for position in probes.by_size.get(size, []):
                    hits.setdefault(position, []).append(size)
            firsts = {position: min(self.rungs(probes.catalogues[position]), default=0) for position in hits}
            # Ladders that start at their first rung are tried first, so they win ties.
            # A bucket or group of a power-of-two size climbs an append's ladder: such ladders, and
            # ladders of fewer than three rungs off the powers of two, are left out.
            known = self.climbed[key] = sorted(
                (
                    (position, tuple(rungs))
                    for position, rungs in hits.items()
                    if firsts[position] & (firsts[position] - 1)
                    and sum(1 for r in rungs if r & (r - 1)) >= _MIN_LADDER_RUNGS
                ),
                key=lambda found: firsts[found[0]] not in sizes,
            )
        return known

    def rungs(self, catalogue: Shapes) -> dict[int, Candidate]:
        """A catalogue's first-bucket and array candidates by size (the last one of a size wins)."""
        known = self.rungs_of.get(id(catalogue))
        if known is None:
            known = self.rungs_of[id(catalogue)] = {
                c.size: c for c in catalogue.candidates if c.role in ("first", "arrays")
            }
        return known

    def probe(self, target: Target) -> Probes:
        if target not in self.probes:
            catalogues = list(probe_shapes(target))
            by_size: dict[int, list[int]] = {}
            for position, catalogue in enumerate(catalogues):
                for size in {c.size for c in catalogue.candidates if c.role in ("first", "arrays")}:
                    by_size.setdefault(size, []).append(position)
            self.probes[target] = Probes(catalogues, by_size)
        return self.probes[target]

    def best_probe(self, target: Target, groups: list[Group]) -> Shapes | None:
        """The stand-in catalogue for a map call's objects: among those whose first bucket (or small
        group) is the call's smallest object of a bucket's size (larger objects are arrays or
        out-of-line keys and values; smaller ones the map's small structs), the one whose sizes hold
        most of the value; without such a size, the one holding most of the value (None if none)."""
        probes = self.probe(target)
        value: dict[int, int] = {}
        for group in groups:
            for position in probes.by_size.get(group.size, []):
                value[position] = value.get(position, 0) + abs(group.value)
        if not value:
            return None
        for size in sorted({g.size for g in groups if g.size > _LARGEST_STRUCT}):
            starting = [p for p in value if min(self.rungs(probes.catalogues[p])) == size]
            if starting:
                return probes.catalogues[max(sorted(starting), key=lambda p: value[p])]
        return probes.catalogues[max(sorted(value), key=lambda p: value[p])]


def _sized_pairs(context: LadderContext, observations: Observations, sized: np.ndarray) -> SizedPairs:
    if context.sized_pairs is None:
        n = len(observations.sites)
        total = np.zeros(n, np.int64)
        picked = np.flatnonzero(sized[observations.site]) if observations.site.size else np.zeros(0, np.int64)
        np.add.at(total, observations.site[picked], observations.value[picked])
        pairs, inverse = rows(np.stack([observations.site[picked], observations.size[picked]], axis=1))
        context.sized_pairs = SizedPairs(pairs, sums(inverse, observations.value[picked], len(pairs)), total)
    return context.sized_pairs


def _same_sizes(pairs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray] | None:
    """Sites (given by their runs [starts, ends) of `pairs`) grouped by their set of object sizes, as
    arrays of run starts; None on a hash collision, which the caller then resolves the slow way."""
    distinct, size_id = np.unique(pairs[:, 1], return_inverse=True)
    weights = np.random.default_rng(_HASH_SEED).integers(1, 2**63, size=distinct.size, dtype=np.uint64)
    running = np.zeros(pairs.shape[0] + 1, dtype=np.uint64)
    np.cumsum(weights[size_id], out=running[1:])
    hashes = running[ends] - running[starts]
    group = rows(np.stack([hashes.view(np.int64), ends - starts], axis=1))[1]
    order = np.argsort(group, kind="stable")
    first = starts[order][np.r_[True, group[order][1:] != group[order][:-1]]]
    # Every site's sizes must equal its group's first site's sizes.
    lengths = ends - starts
    own = ranges.expand(starts, ends)
    theirs = ranges.expand(first[group], first[group] + lengths)
    if not np.array_equal(pairs[own, 1], pairs[theirs, 1]):
        return None
    return np.split(starts[order], np.flatnonzero(group[order][1:] != group[order][:-1]) + 1)


def ladders(
    context: LadderContext, target: Target, observations: Observations, sized: np.ndarray
) -> LadderScores:
    """Best ladder of every `sized` site, with sites that share a set of object sizes scored together."""
    known = context.ladder_scores.get(target)
    if known is not None:
        return known
    n = len(observations.sites)
    start = _sized_pairs(context, observations, sized)
    scores = context.ladder_scores[target] = LadderScores(
        np.zeros(n, np.int64), np.full(n, -1, np.int64), start.total
    )
    probes = context.probe(target)
    keep = np.isin(start.pairs[:, 1], np.fromiter(probes.by_size, dtype=np.int64))
    pairs, pair_value = start.pairs[keep], start.value[keep]
    if pairs.size == 0:
        return scores
    starts = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0]])
    ends = np.r_[starts[1:], len(pairs)]
    enough = ends - starts >= _MIN_LADDER_RUNGS
    starts, ends = starts[enough], ends[enough]
    if starts.size == 0:
        return scores
    groups = _same_sizes(pairs, starts, ends)
    if groups is None:
        shared: dict[bytes, list[int]] = {}
        for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
            shared.setdefault(pairs[first:last, 1].tobytes(), []).append(first)
        groups = [np.array(firsts, dtype=np.int64) for firsts in shared.values()]
    run_end = dict(zip(starts.tolist(), ends.tolist(), strict=True))
    for firsts in groups:
        first = int(firsts[0])
        sizes = pairs[first : run_end[first], 1]
        matrix = pair_value[firsts[:, None] + np.arange(sizes.size)]
        sites = pairs[firsts, 0]
        for position, rungs in context.ladders(target, frozenset(sizes.tolist())):
            value = matrix[:, np.searchsorted(sizes, rungs)].sum(axis=1)
            better = value > scores.value[sites]
            scores.value[sites[better]] = value[better]
            scores.probe[sites[better]] = position
    return scores


def _fit(context: LadderContext, catalogue: Shapes, groups: list[Group], tally: Tally) -> tuple[int, int]:
    """Tallies one unit's groups on its ladder's catalogue (guessed); returns the value it explains and
    how many sizes below its lowest rung it leaves unexplained (a slice grown by append climbs on below
    it; a map allocates nothing smaller than a bucket but its few small structs). The catalogue's
    power-of-two sizes (overflow lists, directories) are an append's too and explain nothing. Sizes the
    catalogue lacks are out-of-line keys or values when over 128 bytes and as many as the largest
    array's entries (at most two sizes), else other allocations."""
    rungs = context.rungs(catalogue)
    by_size = {
        c.size: c
        for c in catalogue.candidates
        if (c.size <= _SMALL and c.role in ("extra", "overflow") and c.size & (c.size - 1))
        or c.what in ("overflow bucket", "overflow bookkeeping (mapextra)")
    }
    by_size.update(rungs)
    counts: dict[int, int] = {}
    for group in groups:
        counts[group.size] = counts.get(group.size, 0) + group.count
    first = next((c.size for c in rungs.values() if c.role == "first"), None)
    shared = first is not None and any(
        c.size == first and c.what == "overflow bucket" for c in catalogue.candidates
    )
    array_counts = [counts[s] for s in sorted(counts) if s in rungs and s != first]
    maps = max(array_counts[0] if array_counts else 1, 1)
    # A map whose largest array has n buckets (or groups) holds over 3n entries: that many
    # out-of-line objects, at least.
    largest = max((s for s in counts if s in rungs), default=0)
    entries = _ENTRIES_PER_BUCKET * (largest // max(min(rungs, default=1), 1))
    extra = sorted(
        (s for s in counts if s not in by_size and s > MAX_INLINE and counts[s] >= entries),
        key=lambda s: -counts[s] * s,
    )[:_OUT_OF_LINE_SIZES]
    explained = 0
    for group in groups:
        candidate = by_size.get(group.size)
        if shared and group.size == first and counts[first] > maps:
            # The first bucket of each map, then overflow buckets of the same size.
            take = group.count * maps // counts[first]
            part = split(group.value, group.count, take)
            tally.add(group.size, MemoryClass.INITIAL, part, take, Confidence.GUESSED, group.place)
            tally.add(
                group.size,
                MemoryClass.OVERFLOW,
                group.value - part,
                group.count - take,
                Confidence.GUESSED,
                group.place,
            )
            explained += abs(group.value)
        elif candidate is not None:
            tally.add(
                group.size, candidate.memory_class, group.value, group.count, Confidence.GUESSED, group.place
            )
            explained += abs(group.value)
        elif group.size in extra:
            tally.add(
                group.size, MemoryClass.OUT_OF_LINE, group.value, group.count, Confidence.GUESSED, group.place
            )
            explained += abs(group.value)
        else:
            tally.add(group.size, OTHER, group.value, group.count, Confidence.NONE, group.place)
    known = catalogue.sizes
    lowest = min((s for s in counts if s in rungs), default=0)
    below = {g.size for g in groups if g.size < lowest and g.size not in known}
    return explained, len(below)


def _best_fit(
    context: LadderContext, target: Target, catalogues: list[Shapes], best: int, groups: list[Group]
) -> Tally | None:
    """The tally of the unit's best-scored ladder if its catalogue explains nearly all the unit's
    bytes, else of the other ladders its sizes climb that does, explaining the most (a per-entry object
    of a bucket's size makes a wrong ladder score best); None if none does."""
    total = sum(abs(g.value) for g in groups)
    tally = Tally()
    explained, below = _fit(context, catalogues[best], groups, tally)
    if explained >= _EXPLAINED * total and below < _BELOW and tally.shares():
        return tally
    sizes = frozenset(g.size for g in groups)
    found: tuple[int, Tally] | None = None
    for position, _ in context.ladders(target, sizes):
        if position == best:
            continue
        trial = Tally()
        explained, below = _fit(context, catalogues[position], groups, trial)
        fits = explained >= _EXPLAINED * total and below < _BELOW and trial.shares()
        if fits and (found is None or explained > found[0]):
            found = explained, trial
    return found[1] if found is not None else None


def _unit_groups(observations: Observations, units: np.ndarray) -> dict[int, list[Group]]:
    picked = np.flatnonzero(np.isin(observations.site, units))
    groups: dict[int, list[Group]] = {}
    columns = (
        observations.site,
        observations.size,
        observations.value,
        observations.count,
        observations.place,
    )
    for unit, size, value, count, place in zip(*(c[picked].tolist() for c in columns), strict=True):
        groups.setdefault(unit, []).append(Group(size, value, count, place))
    return groups


def ladder_sites(context: LadderContext, target: Target, found: Units) -> list[tuple[Frame, Tally]]:
    """The units whose best ladder's catalogue explains nearly all their bytes, as tallies; the other
    calls at their lines are ambiguous (a box, a new object stored into the map, or anything else)."""
    if not found.sized.any():
        return []
    scores = ladders(context, target, found.observations, found.sized)
    candidates = np.flatnonzero(scores.probe >= 0)
    if candidates.size == 0:
        return []
    groups = _unit_groups(found.observations, candidates)
    catalogues = context.probe(target).catalogues
    result = []
    winners: set[int] = set()
    for unit in candidates.tolist():
        tally = _best_fit(context, target, catalogues, int(scores.probe[unit]), groups[unit])
        if tally is not None:
            result.append((found.frames[unit], tally))
            winners.add(unit)
    won = {found.frames[unit] for unit in winners}
    rest = np.array(
        [unit for unit, frame in enumerate(found.frames) if frame in won and unit not in winners],
        dtype=np.int64,
    )
    for unit, unit_groups in _unit_groups(found.observations, rest).items():
        tally = Tally()
        for group in unit_groups:
            tally.ambiguous(group, _OTHER_CALLS)
        result.append((found.frames[unit], tally))
    return result


def repeated_tables(context: LadderContext, target: Target, found: Units) -> bool:
    """A call whose largest array is allocated far more often than the rung below it: a Swiss table
    that reached its largest size and splits, over and over. A bucket map allocates each array once,
    so its top rung never outnumbers the one below."""
    if not found.sized.any():
        return False
    scores = ladders(context, target, found.observations, found.sized)
    candidates = np.flatnonzero(scores.probe >= 0)
    catalogues = context.probe(target).catalogues
    for unit, groups in _unit_groups(found.observations, candidates).items():
        rungs = context.rungs(catalogues[int(scores.probe[unit])])
        counts: dict[int, int] = {}
        for group in groups:
            if group.size in rungs:
                counts[group.size] = counts.get(group.size, 0) + group.count
        ladder = [counts[size] for size in sorted(counts)]
        if len(ladder) >= _MIN_LADDER_RUNGS and ladder[-1] >= _REPEATED * max(*ladder[:-1], 1):
            return True
    return False


def live_sites(found: list[tuple[Frame, Tally]], live: Units) -> list[tuple[Frame, Tally]]:
    """The ladder sites found on a profile's allocations, valued by its live heap: a live heap keeps a
    grown map's last array only, no ladder to climb, so the calls and their sizes' classes come from
    the allocations and the values from the live column (guessed, as the ladder's)."""
    classes: dict[Frame, dict[tuple[int, int], str]] = {}
    for frame, tally in found:
        known = classes.setdefault(frame, {})
        for key, causes in tally.sizes.items():
            known[key] = max(sorted(causes), key=lambda c: causes[c])
    wanted = np.array([u for u, frame in enumerate(live.frames) if frame in classes], dtype=np.int64)
    result = []
    for unit, groups in _unit_groups(live.observations, wanted).items():
        frame = live.frames[unit]
        tally = Tally()
        for group in groups:
            cause = classes[frame].get((group.size, group.place))
            if cause is None or cause == AMBIGUOUS:
                tally.ambiguous(group, _OTHER_CALLS)
            elif cause == OTHER:
                tally.add(group.size, OTHER, group.value, group.count, Confidence.NONE, group.place)
            else:
                tally.add(group.size, cause, group.value, group.count, Confidence.GUESSED, group.place)
        result.append((frame, tally))
    return result


def ladder_value(context: LadderContext, target: Target, found: Units) -> int:
    """The value the ladders of `target` explain: how well its sizes fit the profile."""
    return sum(sum(s.value for s in tally.shares()) for _, tally in ladder_sites(context, target, found))


def merged_sites(found: list[tuple[Frame, Tally]]) -> list[Site]:
    """One Site per frame from the ladder tallies of its units."""
    by_frame: dict[Frame, Tally] = {}
    for frame, tally in found:
        held = by_frame.setdefault(frame, Tally())
        for key, causes in tally.sizes.items():
            for cause, value in causes.items():
                held.sizes.setdefault(key, {})
                held.sizes[key][cause] = held.sizes[key].get(cause, 0) + value
        for cause, (value, count) in tally.parts.items():
            part = held.parts.setdefault(cause, [0, 0])
            part[0] += value
            part[1] += count
            held.confidence[cause] = tally.confidence[cause]
        held.candidates |= tally.candidates
    sites = []
    for frame, tally in by_frame.items():
        shares = tally.shares()
        sites.append(
            Site(
                function=frame.function,
                file=frame.file,
                line=frame.line,
                found_by=FoundBy.SIZES,
                kind="",
                map_type=None,
                expression="",
                value=sum(s.value for s in shares),
                count=sum(s.count for s in shares),
                shares=shares,
                size_causes=tally.size_causes(),
                other=tally.aside(OTHER),
                ambiguous=tally.aside(AMBIGUOUS),
                ambiguous_with="; ".join(sorted(tally.candidates)),
            )
        )
    return sites
