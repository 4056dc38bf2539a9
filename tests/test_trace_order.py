"""Event counts, merged order and stop-the-world windows equal what `go tool trace -d=parsed` reports."""

from __future__ import annotations

from pathlib import Path

import gen_trace_fixtures
import numpy as np
import pytest

from mapscope.readers.gotrace.order import merge, parsed_event_count, stw_windows, ticks_to_ns
from mapscope.readers.gotrace.reader import read_trace_file

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "trace"
RELEASES = ("1.22.10", "1.23.9", "1.25.5", "1.26.6", "1.27.3")


def _ours(trace: Path, parser_release: str = "1.27.3") -> str:
    """Our reading summed up like scripts/gen_trace_fixtures.py sums up `-d=parsed` of parser_release."""
    windows = stw_windows(read_trace_file(trace))
    stw = "".join(f"stw {w.start_ns} {w.end_ns} {w.m} {w.reason}\n" for w in windows)
    final_sync = int(parser_release.split(".")[1]) >= 25
    return f"events {parsed_event_count(read_trace_file(trace), final_sync=final_sync)}\n{stw}"


def test_ticks_to_ns_is_gos_float_conversion() -> None:
    assert ticks_to_ns(8903689131, 15_625_000) == 8903689131 * 64
    assert ticks_to_ns(3, 3_000_000_000) == 1


@pytest.mark.parametrize("release", RELEASES)
def test_fixture_event_count_and_stw_windows_equal_go_parsed(release: str) -> None:
    expected = (FIXTURES / f"trace_go{release}.parsed.txt").read_text()
    assert expected.count("GC mark termination") >= 1
    parser_release = gen_trace_fixtures.wire_tool(release)
    assert _ours(FIXTURES / f"trace_go{release}.out", parser_release) == expected


@pytest.mark.parametrize("release", RELEASES)
def test_merge_keeps_every_event_in_time_order(release: str) -> None:
    for generation in read_trace_file(FIXTURES / f"trace_go{release}.out"):
        merged = merge(generation)
        assert len(merged.types) == sum(len(b) for b in generation.event_batches())
        assert bool(np.all(np.diff(merged.time_ns) >= 0))


def test_small_samples_equal_their_parsed_dumps(shared_samples: Path) -> None:
    folder = shared_samples / "trace"
    for release in ("1.22.10", "1.27.3"):
        parsed = (folder / f"trace_small_go{release}.parsed.txt").read_text()
        expected = gen_trace_fixtures.summarize_parsed(parsed)
        assert "stw" in expected and _ours(folder / f"trace_small_go{release}.out") == expected


@pytest.mark.live
@pytest.mark.parametrize("release", ["1.22.10", "1.23.9", "1.24.11", "1.25.5", "1.26.6", "1.27.3"])
def test_large_samples_equal_go_parsed(release: str, shared_samples: Path) -> None:
    trace = shared_samples / "trace" / f"trace_go{release}.out"
    expected = gen_trace_fixtures.parsed_summary(trace, release)
    assert "stw" in expected and _ours(trace, gen_trace_fixtures.wire_tool(release)) == expected
