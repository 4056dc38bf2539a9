"""Map causes from runtime frames: the frame tables against the Go sources they were read from, the
folding rules on stacks the runtime really produces, and the same program's CPU profiles on Go 1.22
(bucket maps) and Go 1.27 (Swiss tables) showing the same causes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope.analyses import map_causes
from mapscope.analyses.map_causes import MapCause, Role, classify, role
from mapscope.gotoolchain import Toolchain
from mapscope.readers import profile_source

_FUNC = re.compile(r"^func (?:\(\w+ (\*?)(\w+)(?:\[[^\]]*\])?\) )?(\w+)", re.MULTILINE)
_LINKNAME = re.compile(r"^//go:linkname (\w+) ([\w/.]+)$", re.MULTILINE)


def _declared(directory: Path, package: str) -> set[str]:
    """Function names as profiles spell them (`pkg.(*T).m`, `pkg.f`), plus linknamed symbols."""
    names: set[str] = set()
    for path in directory.glob("*.go"):
        if path.name.endswith("_test.go"):
            continue
        text = path.read_text()
        for star, receiver, name in _FUNC.findall(text):
            names.add(f"{package}.({star}{receiver}).{name}" if star else f"{package}.{receiver}.{name}")
            names.add(f"{package}.{name}")
        names.update(target for _, target in _LINKNAME.findall(text) if "." in target)
    return names


@pytest.mark.live
def test_every_listed_frame_exists_in_some_go_release(go_release: Callable[[str], Toolchain]) -> None:
    known: set[str] = set()
    for release in ("1.22.10", "1.24.11", "1.27.3"):
        src = go_release(release).go.parent.parent / "src"
        known |= _declared(src / "runtime", "runtime")
        known |= _declared(src / "internal" / "runtime" / "maps", "internal/runtime/maps")
    listed = {name for names in map_causes._OPERATIONS.values() for name in names} | map_causes._GROWTH
    missing = sorted(name for name in listed if name not in known)
    assert missing == []


def test_folding_rules() -> None:
    assert classify(["runtime.mapaccess2_faststr", "main.(*cache).get"]) == map_causes.MapCall(
        MapCause.LOOKUP, "runtime.mapaccess2_faststr", "runtime.mapaccess2_faststr", 1
    )
    # Growth wins over the operation and over hashing during the rehash.
    swiss_split = [
        "internal/runtime/maps.memHashAES",
        "internal/runtime/maps.(*table).uncheckedPutSlot",
        "internal/runtime/maps.(*table).split",
        "internal/runtime/maps.(*table).rehash",
        "runtime.mapassign_faststr",
        "main.(*cache).put",
    ]
    call = classify(swiss_split)
    assert call is not None
    assert (call.cause, call.decided_by, call.depth) == (
        MapCause.GROWTH,
        "internal/runtime/maps.(*table).uncheckedPutSlot",
        5,
    )
    bucket_evacuate = ["runtime.evacuate_fast64", "runtime.growWork_fast64", "runtime.mapassign_fast64"]
    assert classify([*bucket_evacuate, "main.runSmall"]).cause is MapCause.GROWTH  # type: ignore[union-attr]
    # Hashing under a map operation is `hash`; the same hash function under hash/maphash is not map work.
    assert classify(["aeshashbody", "runtime.mapdelete_faststr", "main.f"]).cause is MapCause.HASH  # type: ignore[union-attr]
    assert classify(["runtime.memhash", "hash/maphash.Bytes", "main.f"]) is None
    # Allocation below an operation takes the operation's cause.
    alloc = ["runtime.mallocgc", "runtime.newobject", "internal/runtime/maps.newobject", "runtime.mapassign"]
    assert classify([*alloc, "main.runGrow"]).cause is MapCause.INSERT  # type: ignore[union-attr]
    # Only the leaf-most runtime run counts: a loop body running under a map iterator is not iterating.
    assert classify(["main.body", "maps.All[...].func1", "runtime.mapIterNext", "main.f"]) is None
    # The outermost entry point names the operation.
    reflect_insert = ["runtime.mapassign", "reflect.mapassign0", "reflect.Value.SetMapIndex", "main.f"]
    call = classify(reflect_insert)
    assert call is not None
    assert (call.cause, call.operation, call.depth) == (MapCause.INSERT, "reflect.mapassign0", 2)
    # A stack cut below the entry point still shows growth.
    assert classify(["runtime.memmove", "runtime.evacuate"]).cause is MapCause.GROWTH  # type: ignore[union-attr]
    assert classify(["runtime.mallocgc", "main.f"]) is None


def test_roles() -> None:
    assert role("runtime.makemap_small") is Role.OPERATION
    assert role("internal/runtime/maps.(*Map).growToSmall") is Role.OPERATION
    assert role("runtime.(*hmap).newoverflow") is Role.GROWTH
    assert role("runtime.strhash") is Role.HASH
    assert role("internal/runtime/maps.MemHash64") is Role.HASH
    assert role("runtime.nilinterhash") is Role.HASH
    assert role("internal/runtime/maps.ctrlGroup.matchH2") is None
    assert role("main.hashGrow") is None


def _causes(path: Path) -> Counter[MapCause]:
    profile = profile_source.load(str(path)).profiles[0]
    found: Counter[MapCause] = Counter()
    for i, (call, _) in enumerate(map_causes.classify_samples(profile)):
        if call is not None:
            found[call.cause] += int(profile.samples.values[i, 1])
    return found


def test_same_program_same_causes_on_bucket_and_swiss_maps(shared_samples: Path) -> None:
    old = _causes(shared_samples / "pprof" / "cpu_go1.22.10.pb.gz")
    new = _causes(shared_samples / "pprof" / "cpu_go1.27.3.pb.gz")
    expected = {
        MapCause.LOOKUP,
        MapCause.INSERT,
        MapCause.GROWTH,
        MapCause.DELETE,
        MapCause.ITERATE,
        MapCause.HASH,
    }
    assert set(old) == set(new) == expected


def test_callers_of_the_map_runtime(shared_samples: Path) -> None:
    profile = profile_source.load(str(shared_samples / "pprof" / "cpu_go1.27.3.pb.gz")).profiles[0]
    by_site: Counter[tuple[str, MapCause]] = Counter()
    for i, (call, caller) in enumerate(map_causes.classify_samples(profile)):
        if call is not None and caller is not None:
            by_site[caller.function, call.cause] += int(profile.samples.values[i, 0])
    # From the stacks in the file: 8 samples of (*table).Delete/strequal/typedmemclr under mapdelete_faststr
    # from put, 7 of (*Iter).Next / mapIterNext from runIface.
    assert by_site["main.(*cache).put", MapCause.DELETE] == 8
    assert by_site["main.runIface", MapCause.ITERATE] == 7
    assert by_site["main.runSmall", MapCause.GROWTH] == 2
