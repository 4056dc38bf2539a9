"""The rules scripts/service_truth.py labels runtime.MemProfile records with, on hand-written stacks: which
runtime frames make map memory and which cause they name (the live tests run them on real records)."""

from __future__ import annotations

from pathlib import Path

import pytest
import service_truth as st

F = st.Frame
USER = F("main.fill", "services/x/main.go", 10)
ANY_STORE = st.SiteKey("main.fill", "main.go", 10)


@pytest.fixture
def source(tmp_path: Path) -> st.RuntimeSource:
    """A runtime tree with the lines the rules read: map.go's key/value and first-bucket allocations."""
    lines = [""] * 700
    lines[604] = "\t\th.buckets = newobject(t.Bucket) // newarray(t.Bucket, 1)"
    lines[677] = "\t\tvmem := newobject(t.Elem)"
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "map.go").write_text("\n".join(lines) + "\n")
    return st.RuntimeSource(tmp_path)


def classify(source: st.RuntimeSource, frames: list[st.Frame], leaf_call: str | None = None) -> str | None:
    return st.classify(frames, leaf_call, source, lambda key: key == ANY_STORE)


def test_map_runtime_frames_name_the_cause(source: st.RuntimeSource) -> None:
    overflow = [
        F("runtime.(*hmap).newoverflow", "runtime/map.go", 264),
        F("runtime.evacuate", "runtime/map.go", 1180),
    ]
    assert classify(source, [*overflow, USER]) == st.OVERFLOW
    grow = [
        F("runtime.makeBucketArray", "runtime/map.go", 364),
        F("runtime.hashGrow", "runtime/map.go", 1063),
    ]
    assert classify(source, [*grow, F("runtime.mapassign", "runtime/map.go", 659), USER]) == st.GROWTH
    make = [F("runtime.makeBucketArray", "runtime/map.go", 364), F("runtime.makemap", "runtime/map.go", 330)]
    assert classify(source, [*make, USER]) == st.INITIAL
    assert classify(source, [F("runtime.mapassign", "runtime/map.go", 678), USER]) == st.OUT_OF_LINE
    assert classify(source, [F("runtime.mapassign", "runtime/map.go", 605), USER]) == st.INITIAL
    split = [
        F("runtime.mallocgc", "runtime/malloc.go", 1137),
        F("runtime.newarray", "runtime/malloc.go", 2191),
        F("internal/runtime/maps.newGroups", "internal/runtime/maps/group.go", 330),
        F("internal/runtime/maps.(*table).split", "internal/runtime/maps/table.go", 1247),
        F("runtime.mapassign_fast32", "internal/runtime/maps/runtime_fast32.go", 318),
    ]
    assert classify(source, [*split, USER]) == st.GROWTH


def test_what_is_not_map_memory(source: st.RuntimeSource) -> None:
    """A GC worker's channel made during a map's growth, the user's own objects, appended slices."""
    gc = [
        F("runtime.mallocgc", "runtime/malloc.go", 1125),
        F("runtime.makechan", "runtime/chan.go", 99),
        F("runtime.gcStart", "runtime/mgc.go", 817),
        F("runtime.mallocgc", "runtime/malloc.go", 1137),
        F("runtime.newarray", "runtime/malloc.go", 2191),
        F("internal/runtime/maps.(*table).split", "internal/runtime/maps/table.go", 1247),
    ]
    assert classify(source, [*gc, USER]) is None
    assert classify(source, [USER], leaf_call="runtime.newobject") is None
    assert classify(source, [F("runtime.growslice", "runtime/slice.go", 273), USER]) is None
    assert classify(source, [F("fmt.Sprintf", "fmt/print.go", 240), USER]) is None


def test_boxing_only_at_a_store_into_an_interface_map(source: st.RuntimeSource) -> None:
    assert classify(source, [F("runtime.convT64", "runtime/iface.go", 422), USER]) == st.BOXING
    assert classify(source, [USER], leaf_call="runtime.convTstring") == st.BOXING
    elsewhere = F("main.log", "services/x/main.go", 20)
    assert classify(source, [F("runtime.convT64", "runtime/iface.go", 422), elsewhere]) is None


def test_sites_look_through_the_runtime_and_the_maps_package() -> None:
    clone = [
        F("runtime.mapclone2", "runtime/map.go", 1520),
        F("maps.clone", "runtime/map.go", 1453),
        F("maps.Clone[...]", "maps/maps.go", 46),
        F("main.snapshot", "services/x/main.go", 73),
    ]
    assert st.site_of(clone) == st.SiteKey("main.snapshot", "main.go", 73)
    inlined = [F("main.snapshot", "/go/src/internal/runtime/maps/map.go", 800), USER]
    assert st.site_of(inlined) == st.SiteKey("main.fill", "main.go", 10)
    assert (
        st.site_of([F("internal/pkgbits.(*Encoder).rawReloc", "internal/pkgbits/encoder.go", 227)])
        is not None
    )


def test_types_compare_without_qualifiers_or_spelling() -> None:
    assert st.normalize_type("map[string]*main.session") == st.normalize_type("map[string]*session")
    assert st.normalize_type("map[interface {}]interface {}") == "map[any]any"
    assert st.has_interface("map[string]interface{}")
    assert not st.has_interface("map[string]*entry")


def test_map_lines_reads_the_annotations(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text("package main\n\nvar m = map[int]int{} // map: map[int]int\n")
    assert st.map_lines(tmp_path) == {("main.go", 3): "map[int]int"}
