"""Map sites and their causes on profiles of tests/fixtures/profile_sites/program (real Go 1.22.10 and
1.27.3 runs, see scripts/gen_profile_sites_fixtures.py), whose sites are known by construction.

What the program does fixes the expectations: growMap grows one map[int]int to 100000 keys without a
hint; bigValues stores 5000 values of [1024]byte (out of line: 5000 objects of 1024 bytes); ifaceMap
boxes 50000 point{} values (16 bytes each) and 50000 int keys (8 bytes each, two to a 16-byte tiny block);
cacheChurn keeps one map of at most 5000 keys under FIFO deletes; hinted makes its map with a hint of
100000, so its stores allocate no first bucket; each make without a hint allocates one header.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from program_lines import line_finder

from mapscope.analyses import map_sites
from mapscope.analyses.map_shapes import MemoryClass
from mapscope.analyses.map_sites import Confidence, FoundBy, ProfileKind, Site, SiteReport
from mapscope.errors import MapscopeError
from mapscope.readers import profile_source
from mapscope.readers.go_source import ExprKind, SourceTree
from mapscope.readers.pprof import sample_index

FIXTURES = Path(__file__).parent / "fixtures" / "profile_sites"
PROGRAM = FIXTURES / "program"
RELEASES = ("1.22.10", "1.27.3")
line_of = line_finder(PROGRAM / "main.go")


GROW_STORE = line_of("m[i] = i")
BIG_STORE = line_of("m[i] = v")
IFACE_STORE = line_of("m[i] = point{i, -i}")
CACHE_STORE = line_of("c.m[key] = e")
HINT_MAKE = line_of("m := make(map[int]int, n)")
HINT_STORE = line_of("m[i] = -i")
LITERAL = line_of('return map[string]int{"alpha": 1, "beta": 2, "gamma": 3, "delta": 4, "epsilon": 5}')
CLONE = line_of("return maps.Clone(m)")
PLAIN_MAKES = {
    "main.growMap": line_of("m := make(map[int]int)"),
    "main.bigValues": line_of("m := make(map[int][1024]byte)"),
    "main.ifaceMap": line_of("m := make(map[interface{}]interface{})"),
    "main.newCache": line_of("c.m = make(map[string]*entry)"),
}


def report(release: str, rate: str, source: bool = True, sample: str = "alloc_space") -> SiteReport:
    profile = profile_source.load(str(FIXTURES / f"go{release}" / rate / "allocs.pb.gz")).profiles[0]
    tree = SourceTree(PROGRAM) if source else None
    return map_sites.attribute(profile, sample_index(profile, sample), tree)


def site(found: SiteReport, line: int) -> Site:
    matches = [s for s in found.sites if s.line == line and s.file.endswith("main.go")]
    assert len(matches) == 1, (line, [(s.function, s.line) for s in found.sites])
    return matches[0]


def shares(found: Site) -> dict[str, tuple[int, int]]:
    return {s.cause: (s.value, s.count) for s in found.shares}


def test_source_reader_finds_every_map_expression() -> None:
    parsed = SourceTree(PROGRAM).file("sitesprog/main.go")
    assert parsed is not None
    by_line = {(e.first_line, e.kind): e for e in parsed.expressions}
    assert by_line[GROW_STORE, ExprKind.ASSIGN].map_type == "map[int]int"
    assert by_line[GROW_STORE, ExprKind.ASSIGN].made_at == PLAIN_MAKES["main.growMap"]
    iface = by_line[IFACE_STORE, ExprKind.ASSIGN]
    assert (iface.map_type, iface.key_type, iface.value_type) == (
        "map[interface{}]interface{}",
        "int",
        "point",
    )
    # c.m through the method's receiver and the struct's field.
    assert by_line[CACHE_STORE, ExprKind.ASSIGN].map_type == "map[string]*entry"
    hinted = by_line[HINT_MAKE, ExprKind.MAKE]
    assert (hinted.hint, hinted.hint_known) == (None, False)
    assert by_line[LITERAL, ExprKind.LITERAL].hint == 5
    assert by_line[CLONE, ExprKind.CLONE].map_type == "map[int]int"
    delete = [e for e in parsed.expressions if e.kind is ExprKind.DELETE]
    assert [e.map_type for e in delete] == ["map[string]*entry"]
    assert any(
        e.kind is ExprKind.ITERATE and e.map_type == "map[interface{}]interface{}" for e in parsed.expressions
    )


def test_source_tree_matches_profile_paths_by_longest_suffix(tmp_path: Path) -> None:
    for folder in ("a/pkg", "b/pkg", "c/other"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "main.go").write_text("package main\n")
    tree = SourceTree(tmp_path)
    assert tree.match("/build/x/a/pkg/main.go") == tmp_path / "a" / "pkg" / "main.go"
    assert tree.match("example.com/other/main.go") == tmp_path / "c" / "other" / "main.go"
    assert tree.match("main.go") is None  # three equally good candidates
    assert tree.match("missing.go") is None


@pytest.mark.parametrize("release", RELEASES)
def test_sites_and_causes_at_rate_1(release: str) -> None:
    found = report(release, "rate1")
    assert found.profile_kind is ProfileKind.MEMORY
    swiss = release.startswith("1.27")
    assert ("Swiss" in found.target_from) is swiss

    grow = shares(site(found, GROW_STORE))
    assert grow[MemoryClass.GROWTH][0] > 0.8 * site(found, GROW_STORE).value
    assert grow[MemoryClass.INITIAL][1] == 1  # one map, one first bucket or small group
    assert (MemoryClass.OVERFLOW in grow) is not swiss  # Swiss tables have no overflow buckets

    big = shares(site(found, BIG_STORE))
    assert big[MemoryClass.OUT_OF_LINE] == (5000 * 1024, 5000)
    assert big[MemoryClass.INITIAL][1] == 1
    assert MemoryClass.GROWTH in big

    iface = shares(site(found, IFACE_STORE))
    boxes = iface[MemoryClass.BOXING]
    assert 75_000 <= boxes[1] <= 75_002  # 50000 point boxes + 50000 ints in 25000 tiny blocks
    assert boxes[0] == 16 * boxes[1]
    assert iface[MemoryClass.INITIAL][1] == 1

    cache = shares(site(found, CACHE_STORE))
    assert cache[MemoryClass.INITIAL][1] == 1
    assert MemoryClass.GROWTH in cache
    assert (MemoryClass.OVERFLOW in cache) is not swiss

    assert set(shares(site(found, HINT_MAKE))) == {MemoryClass.INITIAL}
    if swiss:
        assert not [s for s in found.sites if s.line == HINT_STORE]  # made big enough: nothing to grow
    else:
        assert set(shares(site(found, HINT_STORE))) == {MemoryClass.OVERFLOW}
    assert set(shares(site(found, LITERAL))) == {MemoryClass.INITIAL}
    assert set(shares(site(found, CLONE))) == {MemoryClass.INITIAL}
    for function, line in PLAIN_MAKES.items():
        made = site(found, line)
        assert made.function == function
        assert shares(made) == {MemoryClass.INITIAL: (48, 1)}
    for made_site in found.sites:
        assert made_site.found_by is FoundBy.SOURCE
    # Lines that allocate but hold no map operation are not map sites.
    assert not [s for s in found.sites if s.line in (line_of("e := &entry{key: key, seq: seq}"),)]


@pytest.mark.parametrize("release", RELEASES)
def test_sites_at_the_default_rate(release: str) -> None:
    found = report(release, "default")
    big = shares(site(found, BIG_STORE))
    assert MemoryClass.OUT_OF_LINE in big
    assert big[MemoryClass.OUT_OF_LINE][0] > 0.5 * site(found, BIG_STORE).value
    assert MemoryClass.GROWTH in shares(site(found, GROW_STORE))
    assert set(shares(site(found, HINT_MAKE))) == {MemoryClass.INITIAL}
    hint_store = [s for s in found.sites if s.line == HINT_STORE]
    for store in hint_store:
        assert set(shares(store)) == {MemoryClass.OVERFLOW}


@pytest.mark.parametrize("release", RELEASES)
def test_map_bytes_are_part_of_the_total(release: str) -> None:
    for rate in ("rate1", "default"):
        found = report(release, rate)
        profile = profile_source.load(str(FIXTURES / f"go{release}" / rate / "allocs.pb.gz")).profiles[0]
        column = sample_index(profile, "alloc_space")
        assert found.total == int(abs(profile.samples.values[:, column]).sum())
        assert found.map_value == sum(s.value for s in found.sites)
        assert 0 < found.map_value <= found.total
        for each in found.sites:
            assert each.value == sum(share.value for share in each.shares)


@pytest.mark.parametrize("release", RELEASES)
def test_inuse_space(release: str) -> None:
    found = report(release, "rate1", sample="inuse_space")
    big = shares(site(found, BIG_STORE))
    assert big[MemoryClass.OUT_OF_LINE] == (5000 * 1024, 5000)  # every value is still live


@pytest.mark.parametrize("release", RELEASES)
def test_sizes_alone_find_the_growing_maps(release: str) -> None:
    found = report(release, "rate1", source=False)
    by_line = {s.line: s for s in found.sites}
    for line in (GROW_STORE, IFACE_STORE, CACHE_STORE):
        assert by_line[line].found_by is FoundBy.SIZES
        growth = [s for s in by_line[line].shares if s.cause == MemoryClass.GROWTH]
        assert growth and growth[0].confidence is Confidence.GUESSED
    # The [1024]byte values and the append in put are no ladder of map arrays.
    assert line_of("c.order = append(c.order, key)") not in by_line


def test_cpu_profile_sites_with_source(shared_samples: Path) -> None:
    profile = profile_source.load(str(shared_samples / "pprof" / "cpu_go1.27.3.pb.gz")).profiles[0]
    found = map_sites.attribute(
        profile, sample_index(profile, "cpu"), SourceTree(shared_samples / "programs")
    )
    assert found.profile_kind is ProfileKind.CPU
    by_kind = {(s.function, s.kind): s for s in found.sites}
    delete = by_kind["main.(*cache).put", "delete"]
    assert delete.map_type == "map[string]*entry"
    assert {s.cause for s in delete.shares} == {"delete", "hash"}
    assert {s.cause for s in by_kind["main.runIface", "range"].shares} == {"iterate"}
    assert {s.cause for s in by_kind["main.(*cache).get", "lookup"].shares} == {"lookup"}
    assert found.map_value == sum(s.value for s in found.sites)


def test_every_readable_sample_attributes_cleanly(shared_samples: Path) -> None:
    """Heap, CPU, goroutine, legacy and C++/Java profiles: every sample type gives a report whose map
    value is part of its total (or no map sites at all, for profiles of no Go maps)."""
    attributed = 0
    for folder in ("pprof", "external/google-pprof", "external/golang-go"):
        for path in sorted((shared_samples / folder).iterdir()):
            if path.suffix in (".md", ".string") or path.name == "sha256sums.txt":
                continue
            try:
                profile = profile_source.load(str(path)).profiles[0]
            except MapscopeError:
                continue  # refusals are the reader tests' business
            for index in range(len(profile.sample_types)):
                found = map_sites.attribute(profile, index)
                assert abs(found.map_value) <= found.total
                attributed += 1
    assert attributed >= 100
