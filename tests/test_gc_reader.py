"""The gctrace reader against real logs (shared samples and tests/fixtures/gc) and hostile input.

Expected counts come from plain text searches written here, never from the reader.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapscope.readers import gctrace
from mapscope.readers.gctrace import (
    GcCycle,
    GcForced,
    GctraceReader,
    GctraceRecord,
    PacerAssist,
    PacerCycleEnd,
    PacerSweepDone,
    ScanClass,
    ScanTotal,
    ScavLine,
    UnrecognizedLine,
    parse_line,
)

FIXTURES = Path(__file__).parent / "fixtures" / "gc"


def read(data: bytes, **options: int) -> tuple[list[GctraceRecord], GctraceReader]:
    reader = GctraceReader(io.BytesIO(data), **options)
    return list(reader), reader


def of_type(records: list[GctraceRecord], kind: type) -> list[GctraceRecord]:
    return [record for record in records if isinstance(record, kind)]


def sample_logs(shared_samples: Path) -> list[Path]:
    logs = sorted((shared_samples / "gctrace").glob("*.log"))
    assert len(logs) == 23
    return logs


def test_every_shared_sample_parses_completely(shared_samples: Path) -> None:
    for log in sample_logs(shared_samples):
        data = log.read_bytes()
        lines = data.decode().splitlines()
        records, reader = read(data)
        assert not of_type(records, UnrecognizedLine), log.name
        assert reader.foreign_lines == 0, log.name
        assert reader.lines == len(lines)
        # grep -c '^gc ' and friends.
        assert len(of_type(records, GcCycle)) == sum(line.startswith("gc ") for line in lines), log.name
        assert len(of_type(records, PacerAssist)) == sum("assist ratio=" in line for line in lines)
        assert len(of_type(records, PacerCycleEnd)) == sum("% CPU (" in line for line in lines)
        assert len(of_type(records, PacerSweepDone)) == sum("sweep done" in line for line in lines)
        assert len(of_type(records, ScavLine)) == sum(line.startswith("scav ") for line in lines)
        scans = sum(line.startswith("scan: ") for line in lines)
        assert len(of_type(records, ScanTotal)) + len(of_type(records, ScanClass)) == scans
        assert len(records) == len(lines)


def test_exact_cycle_counts_of_the_samples(shared_samples: Path) -> None:
    expected = {
        "gctrace_go1.21.13.log": 10,
        "gctrace_go1.22.10.log": 9,
        "gctrace+gcpacertrace_go1.26.6.log": 11,
        "gctrace2_go1.27.3.log": 8,
        "scavtrace_go1.27.3.log": 0,
    }
    for name, count in expected.items():
        data = (shared_samples / "gctrace" / name).read_bytes()
        grep_count = len(re.findall(rb"^gc ", data, re.MULTILINE))
        assert grep_count == count
        assert len(of_type(read(data)[0], GcCycle)) == count


def marker_lines(text: str) -> int:
    """Lines carrying a trace line anywhere (also glued behind program output)."""
    pattern = r"gc \d+ @\d|pacer: |scav \d+ KiB|scan: |^GC forced$"
    return sum(1 for line in text.split("\n") if re.search(pattern, line))


@pytest.mark.parametrize("log", sorted(FIXTURES.glob("*.log")), ids=lambda p: p.name)
def test_generated_fixtures_parse_completely(log: Path) -> None:
    data = log.read_bytes()
    text = data.decode("utf-8", "replace")
    records, reader = read(data)
    assert not of_type(records, UnrecognizedLine)
    assert len(of_type(records, GcCycle)) == len(re.findall(r"gc \d+ @\d", text))
    assert len(records) == marker_lines(text)
    assert reader.foreign_lines == reader.lines - len(records)


def test_glued_lines_behind_program_output_are_rescued() -> None:
    data = (FIXTURES / "chatter_go1.22.10.log").read_bytes()
    glued = [line for line in data.decode("utf-8", "replace").split("\n") if line.startswith("app: progress")]
    assert len(glued) == 3
    records, _ = read(data)
    cycles = of_type(records, GcCycle)
    for line in glued:
        tail = line[line.index("gc ") :]
        assert parse_line(tail, 1) is not None
        number = int(tail.split()[1])
        assert any(isinstance(c, GcCycle) and c.number == number and c.forced for c in cycles)
    assert [c.number for c in cycles if isinstance(c, GcCycle)] == list(range(1, len(cycles) + 1))


def test_gc_line_fields_exactly_as_printed() -> None:
    line = (
        "gc 3 @0.033s 4%: 0.023+4.9+0.063 ms clock, 0.047+0.098/0.69/3.8+0.12 ms cpu, "
        "12->14->12 MB, 15 MB goal, 0 MB stacks, 0 MB globals, 2 P"
    )
    assert line in (FIXTURES / "chatter_go1.22.10.log").read_text("utf-8", "replace")
    assert parse_line(line, 4) == GcCycle(
        line=4,
        number=3,
        start_s=Decimal("0.033"),
        cpu_percent=4,
        leak_check=False,
        sweep_term_ms=Decimal("0.023"),
        mark_ms=Decimal("4.9"),
        mark_term_ms=Decimal("0.063"),
        sweep_term_cpu_ms=Decimal("0.047"),
        assist_cpu_ms=Decimal("0.098"),
        background_cpu_ms=Decimal("0.69"),
        idle_cpu_ms=Decimal("3.8"),
        mark_term_cpu_ms=Decimal("0.12"),
        heap_before_mb=12,
        heap_after_mb=14,
        heap_live_mb=12,
        heap_goal_mb=15,
        stacks_mb=0,
        globals_mb=0,
        procs=2,
        forced=False,
    )


def test_decimal_text_is_kept() -> None:
    record = parse_line(
        "gc 2 @0.008s 5%: 0.016+0.31+0.071 ms clock, 0.032+0.15/0.062/0.10+0.14 ms cpu, "
        "6->6->6 MB, 6 MB goal, 0 MB stacks, 0 MB globals, 2 P",
        1,
    )
    assert isinstance(record, GcCycle)
    assert str(record.background_cpu_ms) == "0.062"
    assert str(record.idle_cpu_ms) == "0.10"
    assert record.sweep_term_ms + record.mark_term_ms == Decimal("0.087")


@pytest.mark.parametrize(
    ("log", "number"), [("leakcheck_go1.26.6.log", 5), ("leakcheck_go1.27.3.log", 6)], ids=["1.26", "1.27"]
)
def test_goroutine_leak_marker(log: str, number: int) -> None:
    data = (FIXTURES / log).read_bytes()
    records, _ = read(data)
    marked = [c.number for c in of_type(records, GcCycle) if isinstance(c, GcCycle) and c.leak_check]
    assert marked == [number]
    assert data.count(b"(checking for goroutine leaks)") == 1


def test_leak_marker_line_fields() -> None:
    line = (
        "gc 5 @0.060s 8% (checking for goroutine leaks): 0.21+3.9+0.037 ms clock, 0.43+0/0.21/3.7+0.074 ms cpu, "
        "19->19->17 MB, 38 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)"
    )
    assert line in (FIXTURES / "leakcheck_go1.26.6.log").read_text()
    record = parse_line(line, 1)
    assert isinstance(record, GcCycle)
    assert (record.number, record.cpu_percent, record.leak_check, record.forced) == (5, 8, True, True)
    assert record.assist_cpu_ms == 0 and record.idle_cpu_ms == Decimal("3.7")


def test_pacer_floats_go_1_25_and_older() -> None:
    text = (FIXTURES / "chatter_all_go1.25.5.log").read_text("utf-8", "replace")
    assist = "pacer: assist ratio=+8.274138e-001 (scan 2 MB in 3->4 MB) workers=0++2.500000e-001"
    end = (
        "pacer: 33% CPU (25 exp.) for 1676192+2096+155898 B work (155898 B exp.) in 4005888 B -> 5570560 B "
        "(\u2206goal 1376256, cons/mark +0.000000e+000)"
    )
    assert assist in text and end in text
    assert parse_line(assist, 1) == PacerAssist(1, 0.8274138, 2, 3, 4, 0, 0.25)
    assert parse_line(end, 2) == PacerCycleEnd(
        2, 33, 25, 1676192, 2096, 155898, 155898, 4005888, 5570560, 1376256, 0.0
    )


def test_pacer_floats_go_1_26_and_newer() -> None:
    text = (FIXTURES / "chatter_all_go1.27.3.log").read_text("utf-8", "replace")
    sweep = "pacer: sweep done at heap size 2MB; allocated 0MB during sweep; swept 528 pages at 0.0004144540862582567 pages/byte"
    assert sweep in text
    assert parse_line(sweep, 3) == PacerSweepDone(3, 2, 0, 528, 0.0004144540862582567)
    newer = (FIXTURES / "leakcheck_go1.26.6.log").read_text()
    assist = "pacer: assist ratio=0.9128185453869048 (scan 2 MB in 3->4 MB) workers=0+0.25"
    assert assist in newer
    assert parse_line(assist, 1) == PacerAssist(1, 0.9128185453869048, 2, 3, 4, 0, 0.25)


@pytest.mark.parametrize(
    ("printed", "value"),
    [("2.3e-05", 2.3e-05), ("1e+21", 1e21), ("+Inf", math.inf), ("-Inf", -math.inf), ("-1.5", -1.5)],
)
def test_pacer_float_forms_strconv_can_print(printed: str, value: float) -> None:
    record = parse_line(f"pacer: assist ratio={printed} (scan 1 MB in 2->3 MB) workers=1+0", 1)
    assert isinstance(record, PacerAssist)
    assert record.assist_ratio == value
    nan = parse_line("pacer: assist ratio=NaN (scan 1 MB in 2->3 MB) workers=1+0", 1)
    assert isinstance(nan, PacerAssist) and math.isnan(nan.assist_ratio)


def test_scav_lines() -> None:
    forced = "scav 0 KiB work (bg), 9432 KiB work (eager), 20984 KiB now, 88% util (forced)"
    assert forced in (FIXTURES / "chatter_all_go1.27.3.log").read_text("utf-8", "replace")
    assert parse_line(forced, 9) == ScavLine(9, 0, 9432, 20984, 88, True, False)
    # printScavTrace's other suffix (mgcscavenge.go); the controller reset is hard to provoke on purpose.
    reset = "scav 12 KiB work (bg), 0 KiB work (eager), 300 KiB now, 97% util [controller reset]"
    assert parse_line(reset, 1) == ScavLine(1, 12, 0, 300, 97, False, True)


def test_scan_lines_both_layouts() -> None:
    plain = (FIXTURES / "gctrace2_go1.25.5.log").read_text()
    assert "scan: total 252 objs\nscan: class L 40 objs\n" in plain
    assert parse_line("scan: total 252 objs", 2) == ScanTotal(2, 252, None, None, None, None, None, None)
    assert parse_line("scan: class L 40 objs", 3) == ScanClass(
        3, None, 40, None, None, None, None, None, None
    )
    green = (FIXTURES / "gctrace2_greenteagc_go1.25.5.log").read_text()
    assert "scan: total 58+9+186=253 objs, 9+21=30 spans" in green
    assert parse_line("scan: total 58+9+186=253 objs, 9+21=30 spans", 2) == ScanTotal(
        2, 253, 58, 9, 186, 9, 21, 30
    )
    assert parse_line("scan: class 16B 0+0+27=27 objs, 0+2=2 spans", 5) == ScanClass(
        5, 16, 27, 0, 0, 27, 0, 2, 2
    )


def test_gc_forced_and_lookalikes() -> None:
    # proc.go forcegchelper: println("GC forced"); the periodic GC needs two idle minutes to appear.
    records, reader = read(b"GC forced\ngc stats: 3 runs\ngcc -O2 main.c\npacer: off\nscavenge done\n")
    assert records[0] == GcForced(1)
    assert [type(r) for r in records[1:]] == [UnrecognizedLine, UnrecognizedLine]
    assert reader.foreign_lines == 2


def test_interleaved_program_output() -> None:
    lines = (FIXTURES / "leakcheck_go1.27.3.log").read_text().splitlines()
    noise = ["2024/05/01 10:00:00 serving on :8080", "", "\t at main.go:12", "ERROR gc: nope ms clock, x"]
    mixed = [part for i, line in enumerate(lines) for part in (noise[i % len(noise)], line)]
    clean, _ = read(("\n".join(lines) + "\n").encode())
    records, reader = read(("\n".join(mixed) + "\n").encode())
    assert reader.foreign_lines == len(lines)
    assert len(records) == len(clean)
    for before, after in zip(clean, records, strict=True):
        assert type(before) is type(after)
        assert after.line == 2 * before.line


def test_crlf_matches_lf() -> None:
    data = (FIXTURES / "leakcheck_go1.26.6.log").read_bytes()
    lf, _ = read(data)
    crlf, reader = read(data.replace(b"\n", b"\r\n"), chunk_bytes=64)
    assert crlf == lf
    assert reader.foreign_lines == 0


def test_truncated_last_line() -> None:
    data = (FIXTURES / "leakcheck_go1.27.3.log").read_bytes()
    whole, _ = read(data)
    no_newline, reader = read(data[:-1])
    assert no_newline == whole and reader.unterminated_last_line
    cut, reader = read(data[: len(data) - 40])
    assert cut[:-1] == whole[:-1]
    assert isinstance(cut[-1], UnrecognizedLine) and cut[-1].text.startswith("gc 8 @")
    assert reader.unterminated_last_line


@settings(max_examples=40, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=300))
def test_chunk_size_does_not_matter(chunk: int) -> None:
    data = (FIXTURES / "chatter_all_go1.27.3.log").read_bytes()
    assert read(data, chunk_bytes=chunk)[0] == read(data)[0]


@pytest.mark.parametrize("chunk", [3, 1000, 5000, 1 << 20])
def test_over_long_line_is_skipped_in_bounded_memory(chunk: int) -> None:
    gc = (
        b"gc 1 @0.005s 2%: 0.016+0.32+0.030 ms clock, 0.032+0.10/0.089/0.048+0.060 ms cpu, "
        b"3->3->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
    )
    data = gc + b"gc " * 30_000 + b"\n\n" + gc.replace(b"gc 1 ", b"gc 2 ")
    records, reader = read(data, chunk_bytes=chunk, max_line_bytes=4096)
    assert [r.number for r in records if isinstance(r, GcCycle)] == [1, 2]
    assert [r.line for r in records] == [1, 4]
    assert (reader.lines, reader.foreign_lines) == (4, 2)


def test_binary_garbage_yields_nothing_much() -> None:
    garbage = bytes(range(256)) * 2000 + b"\xff\xfe\x00gc \x00\n" * 50
    records, reader = read(garbage)
    assert all(isinstance(r, UnrecognizedLine) for r in records)
    assert reader.lines > 0


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    records, reader = read(data, chunk_bytes=97, max_line_bytes=500)
    assert reader.lines >= len(records)


def test_records_are_frozen() -> None:
    record = parse_line("GC forced", 1)
    assert record is not None
    with pytest.raises(FrozenInstanceError):
        record.line = 2  # type: ignore[misc]


def test_absurd_numbers_are_not_parsed() -> None:
    digits = "9" * 5000
    gc = (
        f"gc {digits} @0.005s 2%: 0.016+0.32+0.030 ms clock, 0.032+0.10/0.089/0.048+0.060 ms cpu, "
        "3->3->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P"
    )
    assert isinstance(parse_line(gc, 1), UnrecognizedLine)
    assert isinstance(
        parse_line(f"scav {digits} KiB work (bg), 0 KiB work (eager), 1 KiB now, 9% util", 1),
        UnrecognizedLine,
    )
    # Columns hold signed 64-bit integers: the largest parses (through the reader too), one more does not.
    biggest = gc.replace(digits, "9223372036854775807")
    record = parse_line(biggest, 1)
    assert isinstance(record, GcCycle) and record.number == 2**63 - 1
    assert read(biggest.encode())[0] == [record]
    assert isinstance(parse_line(gc.replace(digits, "9223372036854775808"), 1), UnrecognizedLine)


@settings(max_examples=50, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(
            st.sampled_from(
                (FIXTURES / "chatter_all_go1.25.5.log").read_text("utf-8", "replace").splitlines()
            ),
            st.text(alphabet="gc @pacer:sv0123456789.\r", max_size=400),
        ),
        max_size=30,
    ),
    chunk=st.integers(min_value=1, max_value=700),
)
def test_results_do_not_depend_on_chunking(pieces: list[str], chunk: int) -> None:
    data = "\n".join(pieces).encode()
    small = read(data, chunk_bytes=chunk, max_line_bytes=300)
    whole = read(data, chunk_bytes=1 << 20, max_line_bytes=300)
    assert small[0] == whole[0]
    assert (small[1].lines, small[1].foreign_lines) == (whole[1].lines, whole[1].foreign_lines)


def real_lines() -> list[str]:
    return [
        line
        for log in sorted(FIXTURES.glob("*.log"))
        for line in log.read_text("utf-8", "replace").splitlines()
        if line.startswith(("gc ", "pacer: ", "scav ", "scan: ", "GC forced"))
    ]


@st.composite
def edited_lines(draw: st.DrawFn) -> str:
    """A real trace line with a few characters replaced, deleted or repeated: mostly near misses; some
    glued behind program output that lacked its newline."""
    line = draw(st.sampled_from(["", "", "", "app: progress 50% ", "x", "gc 7 ", "scav "])) + draw(
        st.sampled_from(real_lines())
    )
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(line)))
        edit = draw(st.sampled_from(["replace", "delete", "insert"]))
        text = draw(st.text(alphabet="0123456789.+-e /()%:>=NaInfB", min_size=1, max_size=20))
        if edit == "replace":
            line = line[:at] + text[0] + line[at + 1 :]
        elif edit == "delete":
            line = line[:at] + line[at + 1 :]
        else:
            line = line[:at] + text + line[at:]
    return line


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(edited_lines(), min_size=1, max_size=40))
def test_block_parser_agrees_with_the_line_parser(lines: list[str]) -> None:
    """The reader parses whole blocks at once; every line must come out as the per-line parser says."""
    expected = [
        record
        for number, line in enumerate(lines, start=1)
        if (record := parse_line(line, number)) is not None
    ]
    assert read("\n".join(lines).encode())[0] == expected


def test_real_lines_need_no_line_by_line_parsing(
    shared_samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every line of the real logs fits its layout in the batch parser, glued ones included: the
    per-line regular expressions (ten times slower) are only for what the batch refuses."""
    calls: list[str] = []
    exact = gctrace._parse_prefixed

    def counted(line: str, number: int) -> GctraceRecord:
        calls.append(line)
        return exact(line, number)

    monkeypatch.setattr(gctrace, "_parse_prefixed", counted)
    logs = [*sorted((shared_samples / "gctrace").glob("*.log")), *sorted(FIXTURES.glob("*.log"))]
    for log in logs:
        records, _ = read(log.read_bytes())
        assert records and not of_type(records, UnrecognizedLine)
    assert calls == []
