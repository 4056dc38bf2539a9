"""The shared pieces of the layering: the console factory, the Jinja environment, the GC pipeline that
`mapscope gc` and the run pipeline share, and columns that are derived from their record's fields.

Expected counts come from plain text searches of the committed gctrace fixtures, never from the reader.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from mapscope.analyses.bench import LabeledFile, compare
from mapscope.pipelines.gc import NoGcLinesError, gc_report
from mapscope.pipelines.run import analyze_gc
from mapscope.readers.gctrace import Flat, GctraceReader, RecordColumns
from mapscope.readers.gobench import parse_bench
from mapscope.renderers.bench_terminal import render_json
from mapscope.renderers.bench_text import document
from mapscope.renderers.console import PIPE_WIDTH, console
from mapscope.renderers.html import environment
from mapscope.renderers.jsonout import to_jsonable

FIXTURES = Path(__file__).parent / "fixtures" / "gc"


def test_console_on_a_pipe_has_a_fixed_width_and_prints_names_as_they_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = console()
    assert out.width == PIPE_WIDTH
    out.print("map[int]T")
    assert capsys.readouterr().out == "map[int]T\n"
    assert console(pipe_width=100).width == 100


def test_the_jinja_environment_escapes() -> None:
    template = environment().from_string("<p>{{ name }}</p>")
    assert template.render(name="<script>") == "<p>&lt;script&gt;</p>"


def test_gc_pipeline_counts_every_gc_line() -> None:
    path = FIXTURES / "chatter_all_go1.27.3.log"
    expected = len(re.findall(rb"gc \d+ @", path.read_bytes()))
    with path.open("rb") as stream:
        report = gc_report(stream, "log")
    assert (report.source, len(report.joined)) == ("log", expected)
    shared = analyze_gc(path, "log")
    assert shared is not None and len(shared.joined) == expected


def test_gc_pipeline_without_gc_lines(tmp_path: Path) -> None:
    with pytest.raises(NoGcLinesError, match=r"^quiet: no `gc N @…` lines .*\(2 lines\)"):
        gc_report(io.BytesIO(b"hello\nworld\n"), "quiet")
    quiet = tmp_path / "stderr.txt"
    quiet.write_bytes(b"hello\n")
    assert analyze_gc(quiet, "stderr.txt") is None


def _check_columns(table: RecordColumns[Flat]) -> None:
    assert list(table.columns) == [f.name for f in fields(table.kind)]
    assert len(table) > 0
    records = [table.record(row) for row in range(len(table))]
    assert all(isinstance(record, table.kind) for record in records)
    rebuilt = RecordColumns.from_records(table.kind, records)
    assert [rebuilt.record(row) for row in range(len(rebuilt))] == records


def test_columns_are_named_and_typed_after_the_record() -> None:
    data = (FIXTURES / "chatter_all_go1.27.3.log").read_bytes()
    log = GctraceReader(io.BytesIO(data)).read()
    _check_columns(log.assist)
    _check_columns(log.end)
    _check_columns(log.sweep)
    _check_columns(log.scav)


def test_bench_document_is_what_json_prints() -> None:
    text = "note: a\nBenchmarkX 1 100 ns/op\nnote: b\nBenchmarkX 1 200 ns/op\n"
    report = compare([LabeledFile("in", parse_bench(text.encode(), "in.txt"))], column_key="note")
    assert json.loads(render_json(report)) == to_jsonable(document(report))
    # One sample per side: the unbounded interval ends are written as null by the one JSON policy.
    assert json.loads(render_json(report))["tables"][0]["rows"][0]["cells"][1]["summary"]["hi"] is None
