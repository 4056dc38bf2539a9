"""Property tests: every reader turns any input into records or one MapscopeError, never anything else.

Inputs are arbitrary bytes and real files from the project's fixtures mutated the way the fuzz campaign
(`make fuzz`) mutates them: bytes flipped, ranges cut or repeated, numbers a writer could never produce
spliced in. Derandomized, so a run is the same on every machine; `make fuzz` is where new ground is found.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapscope.errors import MapscopeError
from mapscope.model.ops import parse_ops
from mapscope.readers import profile_source
from mapscope.readers.arrivals import parse_arrivals
from mapscope.readers.gctrace import GctraceReader
from mapscope.readers.gobench import parse_bench
from mapscope.readers.gotype_source import parse_map_type
from mapscope.runner.manifest import read_manifest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "fuzz" / "seeds"

# Tokens that broke readers before: huge and negative numbers, NaN, blank runs, invalid UTF-8.
TOKENS = (
    b"-1",
    b"9" * 5000,
    b"18446744073709551616",
    b"NaN",
    b"+Inf",
    b"1e999",
    b"\n\n\n\n",
    b"\xff\xfe",
    b"\x00",
    b" @ 0x0",
    b"$HOME$HOME$HOME",
    b"[[[[[[[[",
)


def _manifest(data: bytes) -> object:
    with tempfile.TemporaryDirectory(prefix="mapscope-manifest-") as folder:
        (Path(folder) / "manifest.json").write_bytes(data)
        return read_manifest(Path(folder))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


READERS: dict[str, tuple[Callable[[bytes], object], tuple[Path, ...]]] = {
    "profile": (
        lambda data: profile_source.parse(data, "input"),
        (
            REPO / "tests/fixtures/pprof/default/heap.pb.gz",
            REPO / "tests/fixtures/pprof/default/heap.debug1.txt",
            REPO / "tests/fixtures/pprof/rate1/allocs.pb.gz",
        ),
    ),
    "gctrace": (
        lambda data: GctraceReader(io.BytesIO(data)).read(),
        (REPO / "tests/fixtures/gc/chatter_go1.22.10.log", SEEDS / "report/stderr.txt"),
    ),
    "bench": (lambda data: parse_bench(data, "input"), (SEEDS / "report/stdout.txt",)),
    "arrivals": (lambda data: parse_arrivals(data, "input"), (SEEDS / "report/arrivals.txt",)),
    "manifest": (_manifest, (SEEDS / "report/manifest.json",)),
    "types": (lambda data: parse_map_type(_text(data)), tuple(sorted((SEEDS / "types").iterdir()))),
    "ops": (lambda data: parse_ops(_text(data)), tuple(sorted((SEEDS / "ops").iterdir()))),
}


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[Path, ...]) -> bytes:
    """A seed file with a few random edits."""
    data = bytearray(draw(st.sampled_from(seeds)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(("flip", "cut", "repeat", "token")))
        if edit == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif edit == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(2, 50))
        else:
            data[at:at] = draw(st.sampled_from(TOKENS))
    return bytes(data)


def _keeps_contract(read: Callable[[bytes], object], data: bytes) -> None:
    try:
        read(data)
    except MapscopeError as error:
        assert "\n" not in str(error).strip(), "an error is one line"


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("name", sorted(READERS))
def test_any_bytes(name: str) -> None:
    read = READERS[name][0]

    @PROPERTY
    @given(st.binary(max_size=4096))
    def check(data: bytes) -> None:
        _keeps_contract(read, data)

    check()


@pytest.mark.parametrize("name", sorted(READERS))
def test_mutated_real_input(name: str) -> None:
    read, seeds = READERS[name]

    @PROPERTY
    @given(mutated(seeds))
    def check(data: bytes) -> None:
        _keeps_contract(read, data)

    check()


def test_manifest_numbers_past_python_limits() -> None:
    """Integers past 4,300 digits and non-finite numbers in a manifest are refused in one line."""
    manifest = json.loads((SEEDS / "report/manifest.json").read_text())
    for bad in ("9" * 5000, "NaN", "Infinity", "-1e999"):
        text = json.dumps(manifest).replace('"seconds": ', f'"seconds": {bad}, "was": ', 1)
        with pytest.raises(MapscopeError):
            _manifest(text.encode())


def test_bench_configuration_churn_is_bounded() -> None:
    """A `key: value` line before every result would make every result carry all keys set so far."""
    lines = [f"key{i}: v\nBenchmarkX-2 10 5 ns/op\n" for i in range(3000)]
    with pytest.raises(MapscopeError, match="configuration changes too often"):
        parse_bench("".join(lines).encode(), "churn.txt")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",  # urllib: Invalid IPv6 URL
        "http://a..b/heap",  # IDNA: empty label
        "http://" + "a" * 300 + ".com/heap",  # IDNA: label too long
        "http://127.0.0.1:1/debug/pprof/heap",  # nothing listens
    ],
)
def test_hostile_urls_are_one_line_errors(url: str) -> None:
    with pytest.raises(MapscopeError):
        profile_source.fetch(url, timeout=2)


def test_errors_quote_a_bounded_part_of_the_input() -> None:
    with pytest.raises(MapscopeError) as caught:
        parse_map_type("map[int]" + "[1]" * 5000 + "int")
    assert len(str(caught.value)) <= 600
