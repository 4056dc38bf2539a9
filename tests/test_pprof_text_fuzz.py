"""The legacy text reader under hostile input: a Profile or one MapscopeError line, never anything else.

Property tests feed arbitrary bytes and grammar-shaped mutations of a real debug=1 heap profile (written
by Go 1.27.3, tests/fixtures/pprof) and check that the chunk-at-once fast path and the line-by-line
rules read every input alike. Regression tests pin each class of past failure with a small input; the
inputs that used to take quadratic or exponential time run in one child process sized so that the old
behaviour would take hours and the linear one takes well under a second, so its generous timeout
does not measure the machine.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapscope import limits
from mapscope.errors import MapscopeError
from mapscope.readers import pprof_text
from mapscope.readers.pprof import Profile

FIXTURES = Path(__file__).parent / "fixtures" / "pprof"
REAL = (FIXTURES / "rate1" / "heap.debug1.txt").read_bytes()
REAL_LINES = REAL.split(b"\n")
# The first records of the real profile and its MemStats trailer: a small real input to mutate.
_TRAILER = REAL.index(b"\n# runtime.MemStats") + 1
BASE_LINES = REAL_LINES[:150] + REAL[_TRAILER:].split(b"\n")
HEADER = b"heap profile: 465: 234664 [33528: 28493696] @ heap/2\n"

SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def read(data: bytes) -> Profile | str:
    """The profile, or the one-line error message."""
    try:
        return pprof_text.parse_text(data, "fuzz")
    except MapscopeError as error:
        assert "\n" not in str(error)
        return str(error)


@contextmanager
def line_by_line() -> Iterator[None]:
    with mock.patch.object(pprof_text._HeapRecords, "fast", lambda self, chunk, base: False):
        yield


def summary(result: Profile | str) -> object:
    """Everything the reader decides, in plain values."""
    if isinstance(result, str):
        return result
    s, loc = result.samples, result.locations
    stacks = [tuple(int(loc.address[j]) for j in s.stack(i)) for i in range(len(s))]
    lines = {
        int(loc.address[i]): [
            (result.functions[line.function].name, result.functions[line.function].filename, line.line)
            for line in result.locations[i].lines
        ]
        for i in range(len(loc))
    }
    labels = [result.sample_labels(i) for i in range(len(s))]
    return (result.sample_types, s.values.tolist(), stacks, lines, labels, result.mappings, result.memstats)


def assert_same_both_ways(data: bytes) -> None:
    fast = summary(read(data))
    with line_by_line():
        slow = summary(read(data))
    assert fast == slow


@SETTINGS
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(data: bytes) -> None:
    read(data)
    read(HEADER + data)
    read(b"goroutine profile: total 3\n" + data)


_NUMBERS = [b"0", b"-1", b"9223372036854775807", b"9223372036854775808", b"1" * 4400, b"0" * 4400 + b"7"]
_LINES = [
    b"",
    b"\r",
    b"# runtime.MemStats",
    b"# Alloc = " + b"9" * 4400,
    b'# labels: {"k":"v\\x00"}',
    b"--- Memory map: ---",
    b"00400000-00500000 r-xp 00000000 08:01 1 /bin/app",
    b"a=$b$b",
    b"b=$a$a",
    b"$a$b$a$b",
    b"#\t0x1",
    b"#\t0x00000000000000000001\tmain.f+0x1\tmain.go:1",
    b"#\t0x47c22e\truntime.mallocgc+0x1\t\truntime/malloc.go:" + b"9" * 30,
    b"1: 16 [1: 16] @ 0x0 0x1 0xffffffffffffffff",
    b"0: 0 [0: 0] @",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The real profile's lines, with some deleted, repeated, cut, replaced or spliced with other text."""
    lines = list(BASE_LINES)
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "repeat", "cut", "number", "line", "bytes", "tabs"]))
        if kind == "delete":
            del lines[i]
        elif kind == "repeat":
            lines[i:i] = [lines[i]] * draw(st.integers(1, 5))
        elif kind == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif kind == "number":
            parts = lines[i].split(b" ")
            parts[draw(st.integers(0, len(parts) - 1))] = draw(st.sampled_from(_NUMBERS))
            lines[i] = b" ".join(parts)
        elif kind == "line":
            lines.insert(i, draw(st.sampled_from(_LINES)))
        elif kind == "bytes":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.binary(max_size=12)) + lines[i][at:]
        else:
            lines[i] = lines[i].replace(b"\t", b" ")
        if not lines:
            lines = [b""]
    return b"\n".join(lines)


@SETTINGS
@given(mutated())
def test_mutated_real_profiles_read_alike_both_ways(data: bytes) -> None:
    assert_same_both_ways(data)


def test_real_profiles_read_alike_both_ways(shared_samples: Path) -> None:
    for path in [*FIXTURES.glob("*/heap.debug1.txt"), *(shared_samples / "pprof").glob("heap*debug1*.txt")]:
        assert_same_both_ways(path.read_bytes())


def test_real_profiles_take_the_fast_path() -> None:
    with mock.patch.object(pprof_text, "_read_lines", side_effect=AssertionError("line by line")):
        pprof_text.parse_text(REAL[:_TRAILER], "real")


def test_chunks_report_progress_and_read_as_one() -> None:
    reports: list[tuple[int, int]] = []
    with mock.patch.object(pprof_text, "_CHUNK_BYTES", 2048):
        chunked = summary(
            pprof_text.parse_text(REAL, "real", progress=lambda *report: reports.append(report))
        )
    assert chunked == summary(pprof_text.parse_text(REAL, "real"))
    assert len(reports) > 10
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert reports[-1] == (len(REAL), len(REAL))


def test_inlining_chains_and_recursion() -> None:
    """Consecutive `#` lines of one PC are its inlining chain; a PC repeated by direct recursion is not."""
    text = (
        HEADER + b"1: 32 [1: 32] @ 0x11 0x21 0x21 0x31\n"
        b"#\t0x10\tmain.inner+0x1\tmain.go:3\n"
        b"#\t0x10\tmain.outer+0x5\tmain.go:9\n"
        b"#\t0x20\tmain.rec+0x2\tmain.go:20\n"
        b"#\t0x20\tmain.rec+0x2\tmain.go:20\n"
        b"#\t0x30\n"
    )
    profile = pprof_text.parse_text(text, "chains")
    names = {
        loc.address: [profile.functions[line.function].name for line in loc.lines]
        for loc in profile.locations
    }
    assert names == {0x10: ["main.inner", "main.outer"], 0x20: ["main.rec"], 0x30: []}
    assert_same_both_ways(text)


def error(data: bytes) -> str:
    result = read(data)
    assert isinstance(result, str), "expected an error"
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # integers past Python's 4,300-digit conversion limit, and past int64
        (HEADER + b"1: " + b"1" * 5000 + b" [1: 1] @ 0x1\n", "fuzz:2: inuse bytes 1111"),
        (b"heap profile: 1: 1 [1: 1] @ heap/" + b"1" * 5000 + b"\n", "fuzz:1: header rate"),
        (HEADER + b"1: 9223372036854775808 [1: 1] @ 0x1\n", "does not fit in 64 bits"),
        (HEADER + b"1: 16 [1: 16] @ 0x" + b"f" * 5000 + b"\n", "fuzz:2: address 0xffff"),
        (HEADER + b"1: 16 [1: 16] @ 0x1\n# runtime.MemStats\n# Alloc = " + b"9" * 5000 + b"\n", "MemStats"),
        (b"goroutine profile: total 1\n" + b"7" * 5000 + b" @ 0x1\n", "fuzz:2: count '7777"),
        (b"goroutine profile: total 1\n09 @ 0x1\n", "fuzz:2: bad count"),
        # values Go never writes
        (HEADER + b"1: 16 [1: 16] @ 0x1\n-1: -16 [1: 16] @ 0x2\n", "fuzz:3: negative inuse count"),
        (HEADER + b"1: -16 [1: 16] @ 0x1\n", "fuzz:2: negative inuse bytes"),
        (HEADER + b"0: 5 [0: 0] @ 0x1\n", "fuzz:2: inuse count is 0 but inuse bytes is not"),
        # unsampling: a rate so large that exp(-size/rate) is 1 (the scale divides by zero), and overflow
        (
            b"heap profile: 1: 16 [1: 16] @ heap/9223372036854775806\n1: 16 [1: 16] @ 0x1\n",
            "fuzz:2: the unsampled value does not fit in 64 bits",
        ),
        (
            b"heap profile: 1: 1 [1: 1] @ heap/4\n9223372036854775807: 9223372036854775807 [1: 1] @ 0x1\n",
            "fuzz:2: the unsampled value does not fit in 64 bits",
        ),
        (
            b"heap profile: 1: 1 [1: 1] @ heap/2\n"
            + b"1: 9223372036854775807 [1: 9223372036854775807] @ 0x1\n" * 2,
            "values add up past 64 bits",
        ),
    ],
)
def test_malformed_numbers(text: bytes, expected: str) -> None:
    assert expected in error(text)


def test_rate_zero_and_one_keep_the_raw_values() -> None:
    for rate in (b"0", b"1", b"2", b"3"):
        profile = pprof_text.parse_text(
            b"heap profile: 1: 16 [1: 16] @ heap/" + rate + b"\n1: 16 [1: 16] @ 0x1\n", "rate"
        )
        assert profile.samples.values.tolist() == [[1, 16]]


def test_leading_zeros_are_fine() -> None:
    header = b"heap profile: 1: 16 [1: 16] @ heap/0\n"
    profile = pprof_text.parse_text(header + b"1: " + b"0" * 5000 + b"16 [1: 16] @ 0x1\n", "zeros")
    assert profile.samples.values.tolist() == [[1, 16]]


def test_memory_map_variables_do_not_multiply() -> None:
    """pprof replaces `$NAME` in one pass: definitions that name each other do not expand again."""
    definitions = b"".join(b"v%d=$v%d$v%d\n" % (i, i - 1, i - 1) for i in range(40, 0, -1))
    text = HEADER + b"1: 16 [1: 16] @ 0x401001\n--- Memory map: ---\n" + definitions + b"v0=/bin/app\n"
    text += b"00400000-00500000 r-xp 00000000 08:01 1 $v40\n"
    profile = pprof_text.parse_text(text, "vars")
    assert profile.mappings[0].filename == "$v39$v39"


def test_memory_map_expansion_is_bounded() -> None:
    value = b"x" * 100_000
    text = HEADER + b"--- Memory map: ---\na=" + value + b"\n" + b"$a" * 200 + b"\n"
    assert "expand past the input's size" in error(text)


def test_memory_map_variables_are_bounded() -> None:
    names = b"".join(b"n%d=x\n" % i for i in range(limits.MAP_VARIABLES_MAX + 1))
    assert f"more than {limits.MAP_VARIABLES_MAX} variables" in error(
        HEADER + b"--- Memory map: ---\n" + names
    )
    many = b"".join(b"%s%d=x\n" % (b"n" * 5000, i) for i in range(50))
    text = HEADER + b"--- Memory map: ---\n" + many + (b"$" * 10_000 + b"\n") * 10
    assert "take too long to expand" in error(text)


def test_mappings_are_matched_like_pprof() -> None:
    """First mapping holding the address; else one whose offset reaches back over it; else a fake one."""
    text = HEADER + b"1: 16 [1: 16] @ 0x401001 0x3001 0x2001 0x900001\n--- Memory map: ---\n"
    text += b"00400000-00500000 r-xp 00000000 08:01 1 /bin/app\n"
    text += b"00003000-00004000 r-xp 00002000 08:01 1 /lib/a.so\n"
    profile = pprof_text.parse_text(text, "maps")
    mapping = {
        int(a): int(m) for a, m in zip(profile.locations.address, profile.locations.mapping, strict=True)
    }
    assert mapping == {0x401000: 0, 0x3000: 1, 0x2000: 1, 0x900000: 2}
    assert (profile.mappings[1].memory_start, profile.mappings[1].file_offset) == (0x1000, 0)
    assert profile.mappings[2].memory_limit == (1 << 64) - 1


_PATHOLOGICAL = r"""
import sys
from mapscope.errors import MapscopeError
from mapscope.readers import pprof_text, profile_source

HEADER = b"heap profile: 1: 16 [1: 16] @ heap/2\n"
CASES = {
    "digit run in a record": HEADER + b"1" * 500_000 + b"\n",
    "digit runs with colons": HEADER + b"1: " * 150_000 + b"\n",
    "long symbol line": HEADER + b"1: 16 [1: 16] @ 0x2\n#\t0x1\tf" + b"+0x1\t" * 150_000 + b"\n",
    "blank lines before a header": b"\n" * 500_000 + b" ",
    "escaped quotes in labels": b"goroutine profile: total 1\n1 @ 0x1\n# labels: {" + b'"\\"' * 150_000 + b"\n",
    "hex run in the memory map": HEADER + b"--- Memory map: ---\n" + b"a" * 500_000 + b"\n",
    "spaces and hex in the memory map": HEADER + b"--- Memory map: ---\n1" + b" " * 250_000 + b"f" * 250_000 + b"!\n",
    "many records": HEADER + b"1: 16 [1: 16] @ 0x1 0x2\n#\t0x0\tmain.f+0x1\tmain.go:1\n" * 50_000,
    "many labelled records": b"goroutine profile: total 1\n" + b'1 @ 0x1\n# labels: {"a":"b"}\n' * 20_000,
    "sentinels in comments": HEADER + b"# --- Memory map: ---" * 50_000 + b"\n",
}
for name, data in CASES.items():
    try:
        profile_source.parse(data, name)
    except MapscopeError:
        pass
    print(name, flush=True)
"""


def test_inputs_that_used_to_take_quadratic_or_exponential_time() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PATHOLOGICAL], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.splitlines()) == 10


def test_fast_path_hex_decoding_agrees_with_python() -> None:
    rng = np.random.default_rng(7)
    numbers = [int(x) for x in rng.integers(0, 1 << 63, size=500, dtype=np.uint64)] + [0, 1, (1 << 64) - 1]
    text = b"".join(b"0x%x " % n for n in numbers)
    begin = np.array([i + 18 for i in range(len(text)) if text[i : i + 2] == b"0x"], dtype=np.int64)
    padded = np.frombuffer(pprof_text._FRONT + text + pprof_text._PADDING, dtype=np.uint8)
    values, counts, after = pprof_text._hex_tokens(padded, begin)
    assert values.tolist() == numbers
    assert (after == ord(" ")).all()
    assert counts.tolist() == [len(b"%x" % n) for n in numbers]
