"""Map sites on a program that allocates like a real one (tests/fixtures/profile_mixed, real Go 1.22.10
and 1.27.3 runs, see scripts/gen_profile_mixed_fixtures.py), scored against the runtime's own truth: every
MemProfile record read by its full stack, summed per line and object size into map bytes by cause and
bytes that are not the map's.

Precision and recall are by bytes, per site (file base name and line): a site's reported map bytes count
as right up to the truth's map bytes at that line. Records whose stack Go cut above the allocating
runtime function (`cut`) say nothing either way and are left out of both sides' sums.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from program_lines import line_finder

from mapscope.analyses import map_sites, profile_diff
from mapscope.analyses.map_shapes import MemoryClass
from mapscope.analyses.map_sites import Site, SiteReport
from mapscope.readers import profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import Profile, sample_index

FIXTURES = Path(__file__).parent / "fixtures" / "profile_mixed"
PROGRAM = FIXTURES / "program"
RELEASES = ("1.22.10", "1.27.3")
line_of = line_finder(PROGRAM / "main.go")


NEW_OBJECT_STORE = line_of('m[i] = &user{id: i, name: "u" + strconv.Itoa(i)}')
APPEND_IN_MAP = line_of("m[w] = append(m[w], i)")
PLAIN_APPEND = line_of("s = append(s, i)")
SESSION_STORE = line_of('s.attrs["user"] = "x"')
BOXING_STORE = line_of('m["k"+strconv.Itoa(i)] = i * 1000')


def load(release: str, rate: str, callees: bool = False) -> Profile:
    folder = FIXTURES / f"go{release}" / rate
    profile = profile_source.load(str(folder / "allocs.pb.gz")).profiles[0]
    if not callees:
        return profile
    called = {int(a, 16): name for a, name in json.loads((folder / "callees.json").read_text()).items()}
    rows = {row: called[a] for row, a in enumerate(profile.locations.address.tolist()) if a in called}
    return replace(profile, callees=rows)


def attribute(profile: Profile, source: bool) -> SiteReport:
    return map_sites.attribute(
        profile, sample_index(profile, "alloc_space"), SourceTree(PROGRAM) if source else None
    )


def truth(release: str, rate: str) -> dict[tuple[str, int], dict[str, int]]:
    """Bytes per (file, line) and cause ("not map", "cut" included)."""
    raw = json.loads((FIXTURES / f"go{release}" / rate / "truth.json").read_text())
    found: dict[tuple[str, int], dict[str, int]] = {}
    for key, causes in raw.items():
        file, line, _ = key.split(":")
        by_cause = found.setdefault((file, int(line)), {})
        for cause, value in causes.items():
            by_cause[cause] = by_cause.get(cause, 0) + value
    return found


def map_bytes(causes: dict[str, int]) -> int:
    return sum(v for c, v in causes.items() if c not in ("not map", "cut"))


def scores(report: SiteReport, known: dict[tuple[str, int], dict[str, int]]) -> tuple[float, float]:
    reported = {(Path(s.file).name, s.line): s.value for s in report.sites}
    right = sum(min(v, map_bytes(known.get(key, {}))) for key, v in reported.items())
    total = sum(map_bytes(c) for c in known.values())
    return right / max(sum(reported.values()), 1), right / total


def site(report: SiteReport, line: int) -> Site:
    found = [s for s in report.sites if s.line == line and s.file.endswith("main.go")]
    assert len(found) == 1, (line, [s.line for s in report.sites])
    return found[0]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("rate", ("rate1", "default"))
@pytest.mark.parametrize("source", (False, True))
def test_precision_by_bytes(release: str, rate: str, source: bool) -> None:
    """Slices, formatted strings, big numbers and new objects are no map sites, with or without the
    source: what mapscope calls map memory is map memory."""
    precision, recall = scores(attribute(load(release, rate), source), truth(release, rate))
    assert precision >= 0.97, (precision, recall)
    if source:
        assert recall >= 0.95, (precision, recall)


@pytest.mark.parametrize("release", RELEASES)
def test_recall_without_source_at_rate_1(release: str) -> None:
    precision, recall = scores(attribute(load(release, "rate1"), False), truth(release, "rate1"))
    assert recall >= 0.75, (precision, recall)


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("source", (False, True))
def test_new_objects_stored_into_a_map_are_not_map_memory(release: str, source: bool) -> None:
    """`m[i] = &user{...}`: the 30000 users (64 bytes each) and their names are the line's other
    allocations, not the map's."""
    known = truth(release, "rate1")[("main.go", NEW_OBJECT_STORE)]
    found = site(attribute(load(release, "rate1"), source), NEW_OBJECT_STORE)
    assert found.value <= map_bytes(known) * 1.01
    assert found.value >= map_bytes(known) * 0.9
    assert found.other + found.ambiguous >= 30000 * 64


@pytest.mark.parametrize("release", RELEASES)
def test_slices_grown_inside_a_map_are_not_map_growth(release: str) -> None:
    """`m[w] = append(m[w], i)` grows []int values: those bytes are the slices', the map's growth is
    its own arrays only."""
    known = truth(release, "rate1")[("main.go", APPEND_IN_MAP)]
    found = site(attribute(load(release, "rate1"), True), APPEND_IN_MAP)
    growth = {s.cause: s.value for s in found.shares}[MemoryClass.GROWTH]
    assert growth <= known["growth"] * 1.01
    assert found.other >= (known.get("not map", 0) + known.get("cut", 0)) * 0.99


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("source", (False, True))
def test_a_plain_append_loop_is_no_map_site(release: str, source: bool) -> None:
    report = attribute(load(release, "rate1"), source)
    assert not [s for s in report.sites if s.line == PLAIN_APPEND and s.file.endswith("main.go")]
    assert not [s for s in report.sites if s.file.endswith("builder.go")]


@pytest.mark.parametrize("release", RELEASES)
def test_small_maps_stored_once_each(release: str) -> None:
    """5000 sessions each store into a fresh map: each store line's first bucket or small group, once
    per map, initial."""
    known = truth(release, "rate1")[("main.go", SESSION_STORE)]
    found = site(attribute(load(release, "rate1"), True), SESSION_STORE)
    shares = {s.cause: (s.value, s.count) for s in found.shares}
    assert shares[MemoryClass.INITIAL] == (known["initial"], 5000)


@pytest.mark.parametrize("release", RELEASES)
def test_called_functions_decide_without_the_source(release: str) -> None:
    """With the binary's call targets (Profile.callees), a store's objects are the map's because it
    calls mapassign, a growslice's or a newobject's are not: precision without the source."""
    report = attribute(load(release, "rate1", callees=True), False)
    precision, recall = scores(report, truth(release, "rate1"))
    assert precision >= 0.97, (precision, recall)
    assert recall >= 0.75, (precision, recall)
    found = site(report, NEW_OBJECT_STORE)
    assert found.other + found.ambiguous >= 30000 * 64


@pytest.mark.parametrize("release", RELEASES)
def test_implementation_is_never_the_other_one(release: str) -> None:
    """Without runtime frames and without the source the sizes may not decide: then the report says
    unknown, and never names bucket maps for a Swiss release or the reverse."""
    swiss = release.startswith("1.27")
    for rate in ("rate1", "default"):
        for source in (False, True):
            report = attribute(load(release, rate), source)
            if report.target_from.startswith("unknown"):
                continue
            assert ("Swiss" in report.target_from) is swiss, report.target_from


def test_diff_pairs_sites_by_function_and_map_type() -> None:
    """A site that moved to another line (a new checkout, another release's inlining) still pairs."""
    base = attribute(load("1.22.10", "rate1"), True)
    moved = replace(base, sites=tuple(replace(s, line=s.line + 7) for s in base.sites))
    found = profile_diff.diff(base, moved)
    assert all(row.delta == 0 for row in found.rows)
    assert {row.line for row in found.rows} <= {s.line for s in moved.sites}


def test_a_literal_that_overflows_at_its_line() -> None:
    """Go 1.22: the 10-entry literal's make allocated its arrays (hint 10), so the bucket-sized object
    its entries' stores allocated is an overflow bucket, not a first bucket."""
    literal = line_of(
        'return map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10}'
    )
    known = truth("1.22.10", "rate1")[("main.go", literal)]
    found = site(attribute(load("1.22.10", "rate1"), True), literal)
    assert {s.cause: s.value for s in found.shares} == known


@pytest.mark.parametrize("release", RELEASES)
def test_live_heap_sites_found_on_the_allocations(release: str) -> None:
    """A live heap keeps a grown map's last array alone, no ladder to climb: the ladders are found on
    the heap profile's allocations and valued by its live column."""
    profile = load(release, "rate1")
    found = map_sites.attribute(profile, sample_index(profile, "inuse_space"))
    lines = {s.line for s in found.sites if s.file.endswith("main.go")}
    assert {NEW_OBJECT_STORE, APPEND_IN_MAP} <= lines
    assert PLAIN_APPEND not in lines
    assert (
        "bucket" not in found.target_from if release.startswith("1.27") else "Swiss" not in found.target_from
    )
