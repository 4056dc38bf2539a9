"""The trace reader decodes every event exactly as `go tool trace -d=wire` of the writing release prints."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import gen_trace_fixtures
import pytest
from trace_wire_text import go_quote, wire_text

from mapscope.errors import MapscopeError
from mapscope.readers.gotrace.reader import read_generations, read_trace_file
from mapscope.readers.gotrace.records import ExperimentalBatch
from mapscope.readers.gotrace.spec import EXPERIMENT_ALLOC_FREE

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "trace"
RELEASES = ("1.22.10", "1.23.9", "1.25.5", "1.26.6", "1.27.3")
HEADER_VERSION = {"1.22.10": 22, "1.23.9": 23, "1.25.5": 25, "1.26.6": 26, "1.27.3": 26}


@pytest.mark.parametrize("release", RELEASES)
def test_fixture_matches_go_wire_dump(release: str) -> None:
    trace = FIXTURES / f"trace_go{release}.out"
    expected = gzip.decompress((FIXTURES / f"trace_go{release}.wire.txt.gz").read_bytes()).decode()
    assert wire_text(read_trace_file(trace)) == expected


@pytest.mark.parametrize("release", RELEASES)
def test_fixture_header_version_and_tables(release: str) -> None:
    generations = list(read_trace_file(FIXTURES / f"trace_go{release}.out"))
    assert generations
    for generation in generations:
        assert generation.version == HEADER_VERSION[release]
        assert generation.ended_by_marker == (generation.version >= 26)
        sync = generation.sync()
        assert sync is not None and sync.frequency > 0
        assert (sync.clock is not None) == (generation.version >= 25)
        strings = generation.strings() | {0: ""}
        stacks = generation.stacks()
        assert stacks and all(
            frame.func in strings and frame.file in strings for s in stacks.values() for frame in s.frames
        )
        for batch in generation.event_batches():
            times = batch.times
            assert len(times) == len(batch) and (len(times) == 0 or int(times[0]) >= batch.header.time)


@pytest.mark.parametrize("release", RELEASES[1:])
def test_alloc_free_experiment_decoded(release: str) -> None:
    """GODEBUG=traceallocfree=1 traces carry the info batch, the type table, and alloc/free events."""
    generations = list(read_trace_file(FIXTURES / f"trace_go{release}.out"))
    experimental = [b for g in generations for b in g.batches if isinstance(b, ExperimentalBatch)]
    assert all(b.experiment == EXPERIMENT_ALLOC_FREE for b in experimental)
    info = [b.info for b in experimental if b.info is not None]
    assert info and info[0].page_size == 8192
    names = {t.name for g in generations for t in g.alloc_types()}
    assert "map.group[int][]uint8" in names or "map.bucket[int][]uint8" in names
    alloc_events = sum(int((b.types >= 128).sum()) for g in generations for b in g.event_batches())
    assert alloc_events > 0


def test_go_quote_matches_strconv_cases() -> None:
    assert go_quote(b'a"\\\n\t\x00\x7f') == '"a\\"\\\\\\n\\t\\x00\\x7f"'
    assert go_quote("\u041d\u20ac".encode()) == '"\u041d\u20ac"'
    assert go_quote(b"\xff\xc3") == '"\\xff\\xc3"'
    assert go_quote("\u200b".encode()) == '"\\u200b"'


def test_small_shared_samples_match_their_wire_dumps(shared_samples: Path) -> None:
    folder = shared_samples / "trace"
    for release in ("1.22.10", "1.27.3"):
        trace = folder / f"trace_small_go{release}.out"
        assert wire_text(read_trace_file(trace)) == (folder / f"trace_small_go{release}.wire.txt").read_text()
        cpu = [s for g in read_trace_file(trace) for s in g.cpu_samples()]
        assert cpu and all(s.stack for s in cpu)


def test_every_shared_sample_reads_or_names_v1(shared_samples: Path) -> None:
    for trace in sorted((shared_samples / "trace").glob("trace_go*.out")):
        if trace.name == "trace_go1.21.13.out":
            with pytest.raises(MapscopeError, match=r"Go 1\.21 trace: format v1"):
                list(read_trace_file(trace))
            continue
        assert sum(g.event_count() for g in read_trace_file(trace)) > 1000


@pytest.mark.live
@pytest.mark.parametrize("release", ["1.22.10", "1.27.3"])
def test_live_trace_matches_go_wire_dump(release: str, tmp_path: Path) -> None:
    trace = tmp_path / "live.out"
    gen_trace_fixtures.write_trace(release, trace)
    expected = gen_trace_fixtures.wire_dump(trace, release)
    assert wire_text(read_generations(io.BytesIO(trace.read_bytes()), "live.out")) == expected
