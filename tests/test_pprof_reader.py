"""Reading every profile in shared/samples and tests/fixtures/pprof; golden values from google/pprof's own
`.string` dumps of its legacy test profiles; the vectorized sample decoder against upb."""

from __future__ import annotations

import ast
import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from google.protobuf.internal import api_implementation
from hypothesis import given, settings
from hypothesis import strategies as st

from mapscope import gomath
from mapscope.errors import MapscopeError
from mapscope.readers import pprof, pprof_text, profile_pb2, profile_source
from mapscope.readers.pprof import Profile

FIXTURES = Path(__file__).parent / "fixtures" / "pprof"
SAMPLE_NAMES = ("pprof", "external/google-pprof", "external/golang-go")


def load(path: Path) -> Profile:
    loaded = profile_source.load(str(path))
    assert len(loaded.profiles) == 1
    return loaded.profiles[0]


def test_the_generated_module_uses_the_upb_backend() -> None:
    assert api_implementation.Type() == "upb"


def test_every_sample_file_is_read_or_refused_cleanly(shared_samples: Path) -> None:
    read, refused = [], []
    for folder in SAMPLE_NAMES:
        for path in sorted((shared_samples / folder).iterdir()):
            if path.suffix in (".md", ".string") or path.name == "sha256sums.txt":
                continue
            try:
                profile = load(path)
            except MapscopeError as error:
                assert "\n" not in str(error)
                refused.append((path.name, error.problem))
                continue
            assert len(profile.samples) > 0
            assert profile.samples.values.shape == (len(profile.samples), len(profile.sample_types))
            read.append(path.name)
    refused_names = {name for name, _ in refused}
    assert refused_names == {
        "goroutine_go1.22.10.debug2.txt",
        "goroutine_go1.27.3.debug2.txt",
        "profile_testdata_go.crc32.cpu",
        "profile_testdata_gobench.cpu",
        "profile_testdata_java.heap",
        "internal_trace_internal_tracev1_testdata_fmt_1_21_pprof_good",
        "internal_trace_internal_tracev1_testdata_http_1_19_good",
        "internal_trace_internal_tracev1_testdata_stress_start_stop_1_21_good",
    }
    reasons = dict(refused)
    assert "goroutine dump (debug=2)" in reasons["goroutine_go1.27.3.debug2.txt"]
    assert "legacy binary CPU profile" in reasons["profile_testdata_gobench.cpu"]
    assert "unsupported legacy profile" in reasons["profile_testdata_java.heap"]
    assert "not a pprof profile" in reasons["internal_trace_internal_tracev1_testdata_http_1_19_good"]
    assert len(read) == 39


def test_every_fixture_is_read() -> None:
    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name == "program":
            continue
        profile = load(path)
        assert len(profile.samples) > 0, path


def test_heap_proto_records(shared_samples: Path) -> None:
    profile = load(shared_samples / "pprof" / "heap_go1.27.3.pb.gz")
    assert [(vt.type, vt.unit) for vt in profile.sample_types] == [
        ("alloc_objects", "count"),
        ("alloc_space", "bytes"),
        ("inuse_objects", "count"),
        ("inuse_space", "bytes"),
    ]
    assert profile.period_type == pprof.ValueType("space", "bytes")
    assert profile.period == 524288
    assert profile.default_sample_type == ""
    assert pprof.default_sample_index(profile) == 3
    assert profile.mappings[0].build_id == "d4474cc936e99701bbed79a738193d0145e36b12"
    assert profile.mappings[0].has_functions
    sizes, present = profile.numeric_label("bytes")
    assert present.all()  # Go 1.27 writes the object size on every record
    assert 1152 in set(sizes.tolist())
    names = {f.name for f in profile.functions}
    assert "main.(*cache).put" in names
    # Inlined frames: a location with several lines, innermost first.
    inlined = [loc for loc in profile.locations if len(loc.lines) > 1]
    assert inlined
    runtime_leaves = [
        profile.functions[profile.locations[int(profile.samples.stack(i)[0])].lines[0].function].name
        for i in range(len(profile.samples))
    ]
    assert not any(name.startswith("internal/runtime/maps.") for name in runtime_leaves)


def test_allocs_default_sample_type() -> None:
    profile = load(FIXTURES / "default" / "allocs.pb.gz")
    assert profile.default_sample_type == "alloc_space"
    assert pprof.sample_index(profile, None) == 1
    assert pprof.sample_index(profile, "inuse_objects") == 2
    assert pprof.sample_index(profile, "0") == 0
    with pytest.raises(MapscopeError, match="no sample type 'cpu'"):
        pprof.sample_index(profile, "cpu")
    with pytest.raises(MapscopeError, match=r"outside 0\.\.3"):
        pprof.sample_index(profile, "7")


def test_cpu_profile_labels_and_duration(shared_samples: Path) -> None:
    profile = load(shared_samples / "pprof" / "cpu_go1.27.3.pb.gz")
    assert [vt.type for vt in profile.sample_types] == ["samples", "cpu"]
    assert profile.duration_nanos > 0
    assert profile.period == 10_000_000
    values = profile.samples.values
    assert (values[:, 1] == values[:, 0] * profile.period).all()
    scenarios = {label.str_value for i in range(len(profile.samples)) for label in profile.sample_labels(i)}
    assert "grow" in scenarios


def test_legacy_go_heap_text(shared_samples: Path) -> None:
    profile = load(shared_samples / "pprof" / "heap_debug1_go1.27.3.txt")
    assert profile.format == "go-heap-text"
    assert profile.period == 524288  # the header says heap/1048576: twice the rate
    assert profile.memstats is not None
    assert profile.memstats.get("NumGC") == 11
    assert profile.memstats.get("MaxRSS") == 187691008
    assert len(profile.memstats.pause_ns) == 256
    assert ("Stack", 294912, 294912) in profile.memstats.pairs
    assert profile.memstats.gc_cpu_fraction == pytest.approx(0.032785780506418206)
    assert profile.memstats.debug_gc is False
    # The `#` lines symbolize the PCs they name; PC = return address - 1.
    by_address = {loc.address: loc for loc in profile.locations}
    put = by_address[0x4F1D5D]
    assert [profile.functions[line.function].name for line in put.lines] == ["main.(*cache).put"]
    assert put.lines[0].line == 148
    # Leading runtime frames have no `#` line and stay raw addresses.
    assert by_address[0x480F92].lines == ()


def test_text_and_proto_of_one_run_agree_on_totals() -> None:
    """Go's runtime unsamples the proto with the same formula pprof applies to the text."""
    for rate in ("default", "rate1"):
        text = load(FIXTURES / rate / "heap.debug1.txt")
        proto = load(FIXTURES / rate / "heap.pb.gz")
        assert text.samples.values.sum(axis=0).tolist() == proto.samples.values.sum(axis=0).tolist()


def test_goroutine_text_labels(shared_samples: Path) -> None:
    profile = load(shared_samples / "pprof" / "goroutine_go1.27.3.debug1.txt")
    assert profile.format == "count-text"
    assert profile.samples.values[:, 0].tolist() == [3, 1]
    assert profile.sample_labels(0) == (pprof.Label("role", "parked", None, ""),)


# google/pprof's .string dumps: what its legacy parser made of each file.
_STRING_SAMPLE = re.compile(r"^\s+(-?\d+(?:\s+-?\d+)*):((?: \d+)*) ?$")
_STRING_LOCATION = re.compile(r"^\s+(\d+): 0x([0-9a-f]+) M=(\d+)")
_STRING_MAPPING = re.compile(r"^(\d+): 0x([0-9a-f]+)/0x([0-9a-f]+)/0x([0-9a-f]+) ?(\S*)")


def golden(path: Path) -> dict[str, object]:
    samples, locations, mappings, labels = [], {}, [], []
    types: list[str] = []
    period = 0
    section = ""
    for line in path.read_text().splitlines():
        if line.startswith("Period:"):
            period = int(line.split()[1])
        elif line in ("Samples:", "Locations", "Mappings"):
            section = line
        elif section == "Samples:" and not types:
            types = line.split()
        elif section == "Samples:" and (match := _STRING_SAMPLE.match(line)):
            samples.append(
                ([int(v) for v in match.group(1).split()], [int(v) for v in match.group(2).split()])
            )
        elif section == "Samples:" and "bytes:[" in line:
            labels.append(int(line.split("[")[1].rstrip("]")))
        elif section == "Locations" and (match := _STRING_LOCATION.match(line)):
            locations[int(match.group(1))] = (int(match.group(2), 16), int(match.group(3)))
        elif section == "Mappings" and (match := _STRING_MAPPING.match(line)):
            mappings.append(tuple([int(match.group(i), 16) for i in (2, 3, 4)] + [match.group(5)]))
    return {"types": types, "period": period, "samples": samples, "locations": locations,
            "mappings": mappings, "labels": labels}  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        "profile_testdata_gobench.heap",
        "profile_testdata_cppbench.heap",
        "profile_testdata_cppbench.growth",
        "profile_testdata_go.godoc.thread",
    ],
)
def test_legacy_text_matches_pprofs_own_parse(shared_samples: Path, name: str) -> None:
    folder = shared_samples / "external" / "google-pprof"
    expected = golden(folder / f"{name}.string")
    profile = load(folder / name)
    assert [f"{vt.type}/{vt.unit}" for vt in profile.sample_types] == expected["types"]
    assert profile.period == expected["period"]
    got = [
        (profile.samples.values[i].tolist(), [int(j) + 1 for j in profile.samples.stack(i)])
        for i in range(len(profile.samples))
    ]
    assert got == expected["samples"]
    locations = {loc.id: (loc.address, (loc.mapping or 0) + 1) for loc in profile.locations}
    assert locations == expected["locations"]
    mappings = [(m.memory_start, m.memory_limit, m.file_offset, m.filename) for m in profile.mappings]
    assert mappings == expected["mappings"]
    if expected["labels"]:
        sizes, present = profile.numeric_label("bytes")
        assert present.all()
        assert sizes.tolist() == expected["labels"]


def test_worked_unsampling_example() -> None:
    """The reference's worked check: `1: 524288 [3: 1572864] @ heap/1048576`."""
    text = b"heap profile: 1: 524288 [3: 1572864] @ heap/1048576\n1: 524288 [3: 1572864] @ 0x1\n"
    profile = pprof_text.parse_text(text, "worked")
    assert profile.samples.values.tolist() == [[4, 2488234, 1, 829411]]


def test_go_exp_special_values() -> None:
    assert gomath.go_exp(0.0) == 1.0
    assert gomath.go_exp(float("-inf")) == 0.0
    assert gomath.go_exp(1000.0) == float("inf")
    assert gomath.go_exp(-1000.0) == 0.0
    assert gomath.go_exp(-1.0) == pytest.approx(0.36787944117144233, rel=1e-15)


def test_directory_source_skips_non_profiles(tmp_path: Path) -> None:
    for path in (FIXTURES / "default").iterdir():
        shutil.copyfile(path, tmp_path / path.name)
    (tmp_path / "notes.txt").write_text("goroutine 1 [running]:\nmain.main()\n")
    loaded = profile_source.load(str(tmp_path))
    assert len(loaded.profiles) == len(list((FIXTURES / "default").iterdir())) == 5
    assert {Path(name).name for name, _ in loaded.skipped} == {"notes.txt"}


def test_missing_file() -> None:
    with pytest.raises(MapscopeError, match="no such file"):
        profile_source.load("/nonexistent/heap.pb.gz")


# The vectorized decoder must agree with upb on whatever it accepts, and decline the rest.
_varint = st.integers(min_value=0, max_value=2**64 - 1)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _packed(number: int, values: list[int]) -> bytes:
    body = b"".join(_encode_varint(v) for v in values)
    return _field(number, 2) + _encode_varint(len(body)) + body


@st.composite
def sample_bodies(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["loc", "locp", "val", "valp", "label", "unknown", "unknown_len"]))
        if kind in ("loc", "val"):
            parts.append(_field(1 if kind == "loc" else 2, 0) + _encode_varint(draw(_varint)))
        elif kind in ("locp", "valp"):
            parts.append(_packed(1 if kind == "locp" else 2, draw(st.lists(_varint, max_size=5))))
        elif kind == "label":
            inner = b"".join(
                _field(draw(st.integers(1, 5)), 0) + _encode_varint(draw(_varint))
                for _ in range(draw(st.integers(0, 4)))
            )
            parts.append(_field(3, 2) + _encode_varint(len(inner)) + inner)
        elif kind == "unknown":
            parts.append(_field(draw(st.integers(4, 100)), 0) + _encode_varint(draw(_varint)))
        else:
            payload = draw(st.binary(max_size=6))
            parts.append(_field(draw(st.integers(4, 100)), 2) + _encode_varint(len(payload)) + payload)
    return b"".join(parts)


def _columns_equal(a: pprof.SampleColumns, b: pprof.SampleColumns) -> bool:
    names = ("location_counts", "location_ids", "value_counts", "values", "label_counts", "key", "str_",
             "num", "unit")  # fmt: skip
    return all(
        getattr(a, n).dtype == getattr(b, n).dtype and np.array_equal(getattr(a, n), getattr(b, n))
        for n in names
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(sample_bodies(), max_size=8))
def test_vectorized_sample_decoding_agrees_with_upb(bodies: list[bytes]) -> None:
    fast = pprof.decode_sample_bodies(bodies)
    slow = pprof.decode_samples_with_upb(bodies, "hypothesis")
    if fast is not None:
        assert _columns_equal(fast, slow)


def test_vectorized_decoding_takes_go_profiles() -> None:
    for name in ("heap.pb.gz", "allocs.pb.gz", "goroutine.pb.gz"):
        data = gzip.decompress((FIXTURES / "default" / name).read_bytes())
        raw = profile_pb2.ProfileRawSamples.FromString(data).sample
        fast = pprof.decode_sample_bodies(raw)
        assert fast is not None
        assert _columns_equal(fast, pprof.decode_samples_with_upb(raw, name))


@st.composite
def location_bodies(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["scalar", "line", "unknown", "unknown_len", "wrong_wire"]))
        if kind == "scalar":
            parts.append(_field(draw(st.sampled_from([1, 2, 3, 5])), 0) + _encode_varint(draw(_varint)))
        elif kind == "line":
            inner = b"".join(
                _field(draw(st.integers(1, 4)), 0) + _encode_varint(draw(_varint))
                for _ in range(draw(st.integers(0, 4)))
            )
            parts.append(_field(4, 2) + _encode_varint(len(inner)) + inner)
        elif kind == "unknown":
            parts.append(_field(draw(st.integers(6, 100)), 0) + _encode_varint(draw(_varint)))
        elif kind == "unknown_len":
            payload = draw(st.binary(max_size=6))
            parts.append(_field(draw(st.integers(6, 100)), 2) + _encode_varint(len(payload)) + payload)
        else:
            parts.append(
                _field(draw(st.integers(1, 5)), 2) + b"\x01" + _encode_varint(draw(st.integers(0, 127)))
            )
    return b"".join(parts)


_LOCATION_COLUMNS = ("ids", "mapping_ids", "address", "is_folded", "line_counts", "function_ids", "line_number",
                     "line_column")  # fmt: skip


def _location_columns_equal(a: pprof.LocationColumns, b: pprof.LocationColumns) -> bool:
    return all(
        getattr(a, n).dtype == getattr(b, n).dtype and np.array_equal(getattr(a, n), getattr(b, n))
        for n in _LOCATION_COLUMNS
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(location_bodies(), max_size=8))
def test_vectorized_location_decoding_agrees_with_upb(bodies: list[bytes]) -> None:
    fast = pprof.decode_location_bodies(bodies)
    try:
        slow = pprof.decode_locations_with_upb(bodies, "hypothesis")
    except MapscopeError:
        assert fast is None
        return
    if fast is not None:
        assert _location_columns_equal(fast, slow)


def test_go_profiles_take_the_vectorized_location_path() -> None:
    for name in ("heap.pb.gz", "allocs.pb.gz", "goroutine.pb.gz"):
        data = gzip.decompress((FIXTURES / "default" / name).read_bytes())
        raw = profile_pb2.ProfileRawSamples.FromString(data).location
        fast = pprof.decode_location_bodies(raw)
        assert fast is not None and fast.line_counts.sum() > 0
        assert _location_columns_equal(fast, pprof.decode_locations_with_upb(raw, name))


def test_locations_read_as_records_and_back() -> None:
    profile = load(FIXTURES / "default" / "heap.pb.gz")
    records = list(profile.locations)
    assert len(records) == len(profile.locations) and records[-1] == profile.locations[-1]
    again = pprof.Locations.of(records)
    for name in ("ids", "mapping", "address", "is_folded", "line_offsets", "line_function", "line_number",
                 "line_column"):  # fmt: skip
        assert np.array_equal(getattr(again, name), getattr(profile.locations, name)), name
    inlined = next(loc for loc in records if len(loc.lines) > 1)
    assert profile.locations[np.int64(records.index(inlined))] == inlined


def test_generated_module_matches_the_proto(tmp_path: Path) -> None:
    """profile_pb2.py is what scripts/gen_profile_pb2.sh makes from profile.proto today."""
    protoc = pytest.importorskip("grpc_tools.protoc")
    src = Path(pprof.__file__).resolve().parent.parent.parent
    status = protoc.main(
        ["protoc", f"-I{src}", f"--python_out={tmp_path}", str(src / "mapscope/readers/profile.proto")]
    )
    assert status == 0
    fresh = (tmp_path / "mapscope" / "readers" / "profile_pb2.py").read_text()
    serialized = re.search(r"AddSerializedFile\((b'.*?')\)", fresh, re.S)
    assert serialized is not None
    assert profile_pb2.DESCRIPTOR.serialized_pb == ast.literal_eval(serialized.group(1))


def test_profiles_without_samples() -> None:
    empty_text = profile_source.parse(b"heap profile: 0: 0 [0: 0] @ heap/1048576\n", "empty text")
    assert len(empty_text.samples) == 0
    assert empty_text.samples.values.shape == (0, 2)
    message = profile_pb2.Profile()
    message.string_table.extend([b"", b"goroutine", b"count"])
    message.sample_type.add(type=1, unit=2)
    empty_proto = profile_source.parse(message.SerializeToString(), "empty proto")
    assert empty_proto.samples.values.shape == (0, 1)
