"""`mapscope profile --proto FILE [--map-only]`: profile.proto with the map causes as leaf frames.

Read back by mapscope's reader and, in the live tests, by `go tool pprof -top` of Go 1.27.3, whose
totals and `[map: cause]` rows must equal mapscope's. The fixtures are the map-site programs' real
profiles (5000 out-of-line [1024]byte values at main.bigValues, by construction).
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mapscope.analyses import cause_frames, map_sites, profile_totals
from mapscope.gotoolchain import Toolchain
from mapscope.readers import profile_pb2, profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import Profile, sample_index
from mapscope.renderers import profile_proto

FIXTURES = Path(__file__).parent / "fixtures" / "profile_sites"
PROGRAM = FIXTURES / "program"
OUT_OF_LINE = 5000 * 1024
_ROW = re.compile(r"^\s*(-?\d+)B\s+\S+\s+\S+\s+(-?\d+)B\s+\S+\s+(.+?)\s*$")
_TOTAL = re.compile(r"of (-?\d+)B total")


def exported(path: Path, map_only: bool) -> tuple[Profile, Profile, map_sites.SiteReport]:
    profile = profile_source.load(str(path)).profiles[0]
    index = sample_index(profile, "alloc_space")
    report = map_sites.attribute(profile, index, SourceTree(PROGRAM))
    causes = map_sites.sample_causes(profile, index, report)
    data = profile_proto.encode(cause_frames.with_cause_frames(profile, causes, map_only))
    assert data.startswith(b"\x1f\x8b")
    return profile, profile_source.parse(data, "export"), report


def cause_flats(profile: Profile, index: int) -> dict[str, int]:
    top = profile_totals.top(profile, index, 0.0, 0.0)
    return {row.name: row.flat for row in top.rows if row.name.startswith("[map: ")}


@pytest.mark.parametrize("release", ["1.22.10", "1.27.3"])
def test_round_trip_keeps_totals_and_labels(release: str) -> None:
    original, back, report = exported(FIXTURES / f"go{release}" / "rate1" / "allocs.pb.gz", map_only=False)
    assert profile_totals.totals(back) == profile_totals.totals(original)
    assert back.samples.values.tolist() == original.samples.values.tolist()
    assert [vt.type for vt in back.sample_types] == [vt.type for vt in original.sample_types]
    assert back.period == original.period and back.time_nanos == original.time_nanos
    for key in ("bytes",):
        assert [a.tolist() for a in back.numeric_label(key)] == [
            a.tolist() for a in original.numeric_label(key)
        ]
    index = sample_index(back, "alloc_space")
    flats = cause_flats(back, index)
    assert flats["[map: out-of-line]"] == OUT_OF_LINE
    assert sum(flats.values()) == report.map_value
    # Every stack is the original one with at most a cause frame on top.
    for i in range(len(back.samples)):
        mine = [back.locations[k].id for k in back.samples.stack(i)]
        theirs = [original.locations[k].id for k in original.samples.stack(i)]
        assert mine in (theirs, mine[:1] + theirs) and len(mine) - len(theirs) in (0, 1)


def same_profile(a: Profile, b: Profile) -> None:
    """Everything a reader sees, compared field by field."""
    for name in ("sample_types", "default_sample_type", "period_type", "period", "time_nanos", "duration_nanos",
                 "comments", "drop_frames", "keep_frames", "doc_url", "mappings", "functions"):  # fmt: skip
        assert getattr(a, name) == getattr(b, name), name
    assert list(a.locations) == list(b.locations)
    assert np.array_equal(a.samples.values, b.samples.values)
    assert np.array_equal(a.samples.stack_offsets, b.samples.stack_offsets)
    assert np.array_equal(a.samples.stack_locations, b.samples.stack_locations)
    assert [a.sample_labels(i) for i in range(len(a.samples))] == [
        b.sample_labels(i) for i in range(len(b.samples))
    ]


def test_encode_round_trips_go_profiles() -> None:
    paths = sorted([*FIXTURES.glob("go*/*/*.pb.gz"), *FIXTURES.parent.glob("pprof/*/*.pb.gz")])
    assert len(paths) >= 10
    for path in paths:
        profile = profile_source.load(str(path)).profiles[0]
        same_profile(profile, profile_source.parse(profile_proto.encode(profile), str(path)))


def test_encode_round_trips_unusual_values() -> None:
    """Negative values (delta profiles), string and numeric labels, folded and line-less locations,
    IDs and addresses past 2**63, text outside ASCII."""
    p = profile_pb2.Profile()
    p.string_table.extend([b"", b"delta", b"count", "main.f\u00e9".encode(), b"k", b"v", b"bytes", b"ms"])
    p.sample_type.add(type=1, unit=2)
    p.mapping.add(id=2**64 - 1, memory_start=2**63, memory_limit=2**64 - 1, filename=3)
    p.function.add(id=7, name=3, system_name=3, filename=3, start_line=-4)
    p.location.add(id=2**63 + 5, mapping_id=2**64 - 1, address=2**64 - 2, is_folded=True)
    p.location[0].line.add(function_id=7, line=-1, column=2**40)
    p.location.add(id=3, address=0)
    p.sample.add(location_id=[2**63 + 5, 3], value=[-(2**62)])
    p.sample[0].label.add(key=4, str=5)
    p.sample[0].label.add(key=6, num=-1, num_unit=7)
    p.sample.add(location_id=[], value=[0])
    profile = profile_source.parse(p.SerializeToString(), "unusual")
    back = profile_source.parse(profile_proto.encode(profile), "back")
    same_profile(profile, back)
    assert back.samples.values.tolist() == [[-(2**62)], [0]]
    assert back.locations[0].address == 2**64 - 2 and back.locations[0].is_folded


def test_map_only_keeps_the_map_samples() -> None:
    _, back, report = exported(FIXTURES / "go1.27.3" / "rate1" / "allocs.pb.gz", map_only=True)
    index = sample_index(back, "alloc_space")
    assert profile_totals.totals(back)[index].total == report.map_value
    leaves = {
        back.functions[back.locations[int(back.samples.stack(i)[0])].lines[0].function].name
        for i in range(len(back.samples))
    }
    assert leaves == {
        "[map: growth]",
        "[map: out-of-line]",
        "[map: initial]",
        "[map: boxing]",
        "[map: unexplained]",
    }


def test_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "map.pb.gz"
    source = FIXTURES / "go1.27.3" / "rate1" / "allocs.pb.gz"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mapscope",
            "profile",
            str(source),
            "--proto",
            str(out),
            "--map-only",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert gzip.decompress(out.read_bytes())
    assert not list(tmp_path.glob(".*.tmp"))
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "profile", str(source), "--map-only"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "--map-only goes with --proto" in done.stderr


def pprof_top(go: Toolchain, path: Path) -> tuple[int, dict[str, int]]:
    done = subprocess.run(
        [str(go.go), "tool", "pprof", "-top", "-nodefraction=0", "-edgefraction=0", "-sample_index=alloc_space",
         "-unit=B", str(path)],
        env=go.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )  # fmt: skip
    total = _TOTAL.search(done.stdout)
    assert total is not None, done.stdout
    rows = {}
    for line in done.stdout.splitlines():
        row = _ROW.match(line)
        if row is not None:
            rows[row.group(3)] = int(row.group(1))
    return int(total.group(1)), rows


@pytest.mark.live
@pytest.mark.parametrize("name", ["allocs.pb.gz", "heap.debug1.txt.gz"])
def test_go_tool_pprof_reads_the_export(
    name: str, tmp_path: Path, go_release: Callable[[str], Toolchain]
) -> None:
    go = go_release("1.27.3")
    source = FIXTURES / "go1.22.10" / "rate1" / name
    for map_only in (False, True):
        out = tmp_path / f"export-{map_only}.pb.gz"
        done = subprocess.run(
            [sys.executable, "-m", "mapscope", "profile", str(source), "--source", str(PROGRAM), "--sample",
             "alloc_space", "--proto", str(out), "--json", *(["--map-only"] if map_only else [])],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        total, rows = pprof_top(go, out)
        ours = profile_source.load(str(out)).profiles[0]
        index = sample_index(ours, "alloc_space")
        assert total == profile_totals.totals(ours)[index].total
        causes = {name: flat for name, flat in rows.items() if name.startswith("[map: ")}
        assert causes == cause_flats(ours, index)
        assert causes["[map: out-of-line]"] == OUT_OF_LINE
        if map_only:
            assert total == sum(causes.values())
        else:
            assert total == pprof_top(go, source)[0]
            assert np.array_equal(
                ours.samples.values, profile_source.load(str(source)).profiles[0].samples.values
            )
