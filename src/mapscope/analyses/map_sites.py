"""Map sites of a profile: which lines of the user's code spend memory or CPU on maps, and why.

A line is a map site only on evidence, strongest first:

  * runtime frames (CPU profiles, legacy text profiles symbolized with the binary) or, where the profile
    hides them (heap protos), the map function the line's call instruction calls (read from the binary):
    the runtime path decides the cause (site_evidence), and a size fit never overrides it;
  * the source (`--source DIR`): a map expression at the line, whose map type gives the catalogue of
    objects the line can allocate (map_shapes, matched in site_source);
  * the sizes alone: a call whose sizes climb a ladder of map arrays (site_ladders).

A line that also allocates other things (`m[k] = &T{}`, `m[k] = append(m[k], v)`) splits them off as
`other`, outside the site's value; bytes that evidence cannot place are `ambiguous`, outside as well.
The map implementation is decided by runtime frames, else by which implementation's sizes explain the
profile clearly better; otherwise it is reported unknown, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mapscope.analyses import profile_totals
from mapscope.analyses.map_shapes import MemoryClass
from mapscope.analyses.site_classes import (
    AMBIGUOUS,
    LEGEND,
    OTHER,
    Confidence,
    FoundBy,
    Group,
    Share,
    Site,
    Tally,
)
from mapscope.analyses.site_evidence import (
    CAUSES,
    Code,
    Observations,
    ProfileKind,
    count_index,
    object_sizes,
    observe,
    profile_kind,
    rows,
    sample_sites,
)
from mapscope.analyses.site_ladders import (
    LadderContext,
    Units,
    ladder_sites,
    ladder_value,
    live_sites,
    merged_sites,
    repeated_tables,
    units,
)
from mapscope.analyses.site_source import (
    SiteData,
    SiteMatcher,
    SourceContext,
    has_map_evidence,
    runtime_groups,
    source_site,
)
from mapscope.model.versions import Implementation, Target
from mapscope.readers.go_source import SourceTree
from mapscope.readers.go_stdlib import Stdlib
from mapscope.readers.pprof import Profile, ValueType

__all__ = [
    "LEGEND",
    "Confidence",
    "FoundBy",
    "ProfileKind",
    "Share",
    "Site",
    "SiteReport",
    "attribute",
    "count_index",
    "profile_kind",
    "sample_causes",
]

_SIZE_TARGETS = ("1.23", "1.27")
_BUCKET_ONLY = frozenset(("runtime.hashGrow", "runtime.makeBucketArray", "runtime.(*hmap).newoverflow"))
_CLEAR_MARGIN = 1.5  # how much more one implementation's sizes must explain to decide by sizes
_CUT_STACKS = "a box, a slice or a new object at the line: nothing above it tells (--source does)"


@dataclass(frozen=True)
class SiteReport:
    source: str
    profile_kind: ProfileKind
    sample_type: ValueType
    count_type: ValueType | None
    total: int
    map_value: int
    target: str
    target_from: str
    sites: tuple[Site, ...]
    top: profile_totals.Top
    source_files: tuple[str, ...]
    symbolization: str = ""
    stdlib: str = ""  # the release whose standard-library source was read, if any
    diff: bool = False  # a difference of two profiles: values are changes (NEW - BASE), not sizes


def _candidates(
    context: SourceContext, observations: Observations, kind: ProfileKind
) -> tuple[np.ndarray, np.ndarray]:
    """Sites looked at one by one (map work in their runtime frames or callee, or a typed map
    expression at their line) and sites whose calls a ladder may explain: any other site (the source
    reader may miss a map whose type it cannot tell, so the sizes still have their say)."""
    n = len(observations.sites)
    wanted = np.zeros(n, dtype=bool)
    if kind is ProfileKind.MEMORY:
        evidence = ~np.isin(observations.code, (Code.NO_FRAMES, Code.NOT_MAP, Code.BOXING))
        wanted[observations.site[evidence]] = True
    else:
        wanted[observations.site[observations.code >= 0]] = True
    eligible = ~wanted if kind is ProfileKind.MEMORY else np.zeros(n, dtype=bool)
    if context.sources is not None or context.stdlib is not None:
        present = np.zeros(n, dtype=bool)
        present[observations.site] = True
        for position in np.flatnonzero(present & ~wanted).tolist():
            frame = observations.sites[position]
            if context.file(frame.file, frame.function) is not None:
                typed = context.typed(frame)
                wanted[position] = typed
                eligible[position] &= not typed
    return wanted, eligible


def _site_data(observations: Observations, wanted: np.ndarray) -> list[SiteData]:
    by_site: dict[int, SiteData] = {}
    picked = np.flatnonzero(wanted[observations.site]) if observations.site.size else np.zeros(0, np.int64)
    columns = (
        observations.site,
        observations.size,
        observations.value,
        observations.count,
        observations.code,
        observations.place,
    )
    for site, size, value, count, code, place in zip(
        *(column[picked].tolist() for column in columns), strict=True
    ):
        group = Group(size, value, count, place)
        data = by_site.get(site)
        if data is None:
            data = by_site[site] = SiteData(observations.sites[site], [], {})
        data.groups.append(group)
        data.codes.setdefault(code, []).append(group)
    return list(by_site.values())


def _detect_target(
    profile: Profile,
    context: SourceContext,
    ladders: LadderContext,
    data: list[SiteData],
    found: Units,
    allocated: bool,
) -> tuple[Target, str]:
    """The map implementation the profile's runtime frames name, else the one whose sizes explain
    clearly more of the profile's bytes, or whose tables alone repeat; unknown (sized as the better
    fit) when neither does."""
    names = {function.name for function in profile.functions}
    names.update(profile.callees.values())
    if any(name.startswith("internal/runtime/maps.") for name in names):
        return Target.parse(_SIZE_TARGETS[1]), "detected: runtime frames of Swiss tables (Go 1.24+)"
    if names & _BUCKET_ONLY:
        return Target.parse(_SIZE_TARGETS[0]), "detected: runtime frames of bucket maps"
    candidates = [Target.parse(go) for go in _SIZE_TARGETS]
    scores = []
    for target in candidates:
        score = 0
        for site in data:
            matched = source_site(context, site, target, Tally())
            if matched is not None:
                score += matched.matched
        scores.append(score + ladder_value(ladders, target, found))
    if not any(scores):
        return candidates[-1], "unknown: no map sizes or runtime frames tell the implementation"
    best = max(range(len(candidates)), key=lambda i: (scores[i], i))
    fits = {
        Implementation.BUCKETS: "bucket maps (Go 1.22-1.23)",
        Implementation.SWISS: "Swiss tables (Go 1.24+)",
    }
    chosen = fits[candidates[best].implementation]
    if scores[best] < _CLEAR_MARGIN * scores[1 - best]:
        # Only allocations keep every array: a live heap keeps a bucket map's last one alone.
        if allocated and repeated_tables(ladders, candidates[1], found):
            return candidates[
                1
            ], "detected: full-size tables allocated over and over (Swiss tables, Go 1.24+)"
        return candidates[best], (
            f"unknown: object sizes fit both implementations (sized as {chosen}; --go VERSION to say)"
        )
    return candidates[best], f"detected: object sizes fit {chosen}"


def _root(stdlib: Stdlib | None) -> Path:
    return stdlib.tree.root if stdlib is not None else Path("/nonexistent")


_ALLOCATED = {"inuse_space": "alloc_space", "inuse_objects": "alloc_objects"}


def _allocations(profile: Profile, index: int, found: Units, eligible: np.ndarray) -> Units | None:
    """The ladder units of the profile's allocations: `found` for an alloc column, the alloc column's
    for a live one (a heap profile has both), None when the profile has no allocations column."""
    name = profile.sample_types[index].type
    if name.startswith("alloc_"):
        return found
    for column, value_type in enumerate(profile.sample_types):
        if value_type.type == _ALLOCATED.get(name):
            return units(observe(profile, column, ProfileKind.MEMORY), eligible)
    return None


def attribute(
    profile: Profile,
    index: int,
    sources: SourceTree | None = None,
    target: Target | None = None,
    target_from: str = "--go",
    stdlib: Stdlib | None = None,
) -> SiteReport:
    """The map sites of one sample type of a profile, then the profile's top as pprof prints it.
    `target`, when given, is the Go release the profile came from and `target_from` says how that is
    known; `stdlib` is the standard library's source of the release the program was built with."""
    kind = profile_kind(profile, index)
    observations = observe(profile, index, kind)
    context = SourceContext(sources, stdlib.tree if stdlib is not None else None)
    if target is None and stdlib is not None:
        target = Target.parse(stdlib.release)
        target_from = f"detected: the standard library's lines are Go {stdlib.release}'s"
    ladders = LadderContext()
    wanted, eligible = _candidates(context, observations, kind)
    data = _site_data(observations, wanted)
    context.by_line.update({(d.frame.file, d.frame.line): d for d in data})
    found = units(observations, eligible)
    allocations = _allocations(profile, index, found, eligible) if kind is ProfileKind.MEMORY else None
    if kind is ProfileKind.MEMORY and target is None:
        target, target_from = _detect_target(
            profile, context, ladders, data, allocations or found, allocations is not None
        )
    elif target is None:
        target, target_from = Target.parse(None), "not needed: runtime frames name the causes"
    sites = [
        site
        for site in (
            _memory_site(context, ladders, d, target) if kind is ProfileKind.MEMORY else _cpu_site(context, d)
            for d in data
        )
        if site is not None
    ]
    if kind is ProfileKind.MEMORY and allocations is not None and allocations is not found:
        sites.extend(merged_sites(live_sites(ladder_sites(ladders, target, allocations), found)))
    elif kind is ProfileKind.MEMORY:
        sites.extend(merged_sites(ladder_sites(ladders, target, found)))
    sites.sort(key=lambda s: (-abs(s.value), s.function, s.file, s.line))
    counter = count_index(profile, index)
    matched = sorted(
        name
        for name, file in context.files.items()
        if file is not None and not file.path.is_relative_to(_root(stdlib))
    )
    return SiteReport(
        source=profile.source,
        profile_kind=kind,
        sample_type=profile.sample_types[index],
        count_type=profile.sample_types[counter] if counter is not None else None,
        total=profile_totals.totals(profile)[index].total,
        map_value=sum(s.value for s in sites),
        target=target.label,
        target_from=target_from,
        sites=tuple(sites),
        top=profile_totals.top(profile, index),
        source_files=tuple(matched),
        symbolization=profile.symbolization,
        stdlib=stdlib.release if stdlib is not None else "",
        diff=profile.is_diff,
    )


def _memory_site(
    context: SourceContext, ladders: LadderContext, data: SiteData, target: Target
) -> Site | None:
    tally = Tally()
    found = source_site(context, data, target, tally)
    if found is not None:
        return _site(data, FoundBy.SOURCE, found.kinds, found.map_type, found.text, tally)
    if not has_map_evidence(data):
        return None
    called = data.codes.get(Code.MAP_CALL, [])
    if called:
        probe = ladders.best_probe(target, called)
        if probe is None:
            for group in called:
                tally.add(
                    group.size,
                    MemoryClass.UNEXPLAINED,
                    group.value,
                    group.count,
                    Confidence.NONE,
                    group.place,
                )
        else:
            first = min(c.size for c in probe.candidates if c.role == "first")
            SiteMatcher([probe], False, None, Confidence.GUESSED, stand_in=first).match(called, tally)
    runtime_groups(data, None, tally)
    for group in data.codes.get(Code.NO_FRAMES, []):
        tally.ambiguous(group, _CUT_STACKS)
    return _site(data, FoundBy.RUNTIME, "", None, "", tally)


def _cpu_site(context: SourceContext, data: SiteData) -> Site | None:
    tally = Tally()
    for code, groups in data.codes.items():
        if code < 0:
            continue
        for group in groups:
            tally.add(group.size, CAUSES[code].value, group.value, group.count, Confidence.EXACT, group.place)
    if not tally.parts:
        return None
    _, expressions = context.expressions(data.frame, allocating=False)
    map_type = expressions[0].map_type if expressions else None
    text = expressions[0].text if expressions else ""
    kinds = "+".join(dict.fromkeys(e.kind.value for e in expressions))
    return _site(data, FoundBy.RUNTIME, kinds, map_type, text, tally)


def _site(
    data: SiteData, found_by: FoundBy, kind: str, map_type: str | None, text: str, tally: Tally
) -> Site | None:
    shares = tally.shares()
    if not any(s.value or s.count for s in shares):
        return None
    return Site(
        function=data.frame.function,
        file=data.frame.file,
        line=data.frame.line,
        found_by=found_by,
        kind=kind,
        map_type=map_type,
        expression=text,
        value=sum(s.value for s in shares),
        count=sum(s.count for s in shares),
        shares=shares,
        size_causes=tally.size_causes(),
        other=tally.aside(OTHER),
        ambiguous=tally.aside(AMBIGUOUS),
        ambiguous_with="; ".join(sorted(tally.candidates)),
    )


def sample_causes(profile: Profile, index: int, report: SiteReport) -> list[str | None]:
    """Each sample's map cause in `report`'s vocabulary, or None: for CPU the runtime frames' cause, for
    memory the class its site gave most of the value of objects of its size (None where that is not
    the map's)."""
    kind = profile_kind(profile, index)
    located = sample_sites(profile, kind)
    if kind is not ProfileKind.MEMORY:
        return [CAUSES[c].value if c >= 0 else None for c in located.code.tolist()]
    counter = count_index(profile, index)
    counts = (
        profile.samples.values[:, counter]
        if counter is not None
        else np.zeros(len(profile.samples), np.int64)
    )
    sizes = object_sizes(profile, index, counts)
    # (located site, call, object size, cause) of every report site's sizes, then each sample looked up.
    places = located.sites.places()
    names: list[str | None] = [None]
    table: list[tuple[int, int, int, int]] = []
    for site in report.sites:
        where = places.get((site.function, site.file, site.line))
        if where is None:
            continue
        for size, place, cause, _ in site.size_causes:
            table.append((where, place, size, len(names)))
            names.append(None if cause in (OTHER, AMBIGUOUS) else cause)
    if not table:
        return [None] * len(profile.samples)
    known = np.array(table, dtype=np.int64)
    has = located.site >= 0
    sampled = np.stack([located.site[has], located.place[has], sizes[has]], axis=1)
    group = rows(np.concatenate([known[:, :3], sampled]))[1]
    cause_of_group = np.zeros(int(group.max()) + 1, dtype=np.int64)
    cause_of_group[group[: len(known)]] = known[:, 3]
    codes = np.zeros(len(profile.samples), dtype=np.int64)
    codes[has] = cause_of_group[group[len(known) :]]
    labels: list[str | None] = np.array(names, dtype=object)[codes].tolist()
    return labels
