"""`mapscope gc` end to end: output shapes, exit codes, the HTML file."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

from browser import watched_page

FIXTURES = Path(__file__).parent / "fixtures" / "gc"
# Real Go 1.27.3 gctrace, gcpacertrace and scavtrace lines with program output between and glued before
# them (scripts/gen_gc_fixtures.py); the Go 1.22.10 one has gctrace lines only.
WITH_PACER = FIXTURES / "chatter_all_go1.27.3.log"
GC_ONLY = FIXTURES / "chatter_go1.22.10.log"
GC_LINE = re.compile(rb"gc \d+ @[^\n]*")


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", "gc", *args], input=stdin, capture_output=True, check=False
    )


def assert_one_line_error(done: subprocess.CompletedProcess[bytes], needle: str) -> None:
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert stderr.startswith("mapscope: error: ") and stderr.count("\n") == 1
    assert needle in stderr and "Traceback" not in stderr


def test_json_shape() -> None:
    done = run(str(WITH_PACER), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"source", "input", "summary", "mmu", "cycles"}
    data = WITH_PACER.read_bytes()
    assert len(report["cycles"]) == len(GC_LINE.findall(data)) == 10
    assert report["input"]["lines"] == data.count(b"\n") and report["input"]["unrecognized_lines"] == 0
    first = report["cycles"][0]
    # gc 1 @0.005s 4%: 0.082+1.2+0.17 ms clock, 0.16+0.13/0.053/0.87+0.34 ms cpu, 3->4->2 MB, 4 MB goal, ...
    assert first["cycle"]["start_s"] == 0.005 and first["cycle"]["mark_term_ms"] == 0.17
    assert first["cycle"]["assist_cpu_ms"] == 0.13 and first["cycle"]["heap_goal_mb"] == 4
    assert first["stw_ms"] == 0.252
    # pacer: assist ratio=0.8159498131793478 ... (∆goal 131072, ...); sweep done ... swept 528 pages
    assert first["assist"]["assist_ratio"] == 0.8159498131793478 and first["end"]["goal_delta_b"] == 131072
    assert first["sweep"]["pages_swept"] == 528
    assert set(report["summary"]["stw_ms"]) == {"p50", "p90", "p99", "max"}
    assert {p["window_ms"] for p in report["mmu"]["points"]} >= {1.0, 10.0, 100.0, 1000.0}
    assert all(set(flag) == {"code", "message", "cycles"} for flag in report["summary"]["flags"])


def test_csv_shape() -> None:
    done = run(str(GC_ONLY), "--csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    gc_lines = [line.decode() for line in GC_LINE.findall(GC_ONLY.read_bytes())]
    assert len(rows) == len(gc_lines) == 9
    for row, line in zip(rows, gc_lines, strict=True):
        clock = line.split(": ", 1)[1].split(" ms clock")[0]
        assert f"{row['sweep_term_ms']}+{row['mark_ms']}+{row['mark_term_ms']}" == clock
        assert line.startswith(f"gc {row['number']} @{row['start_s']}s {row['cpu_percent']}%")
    assert rows[7]["forced"] == "true" and rows[0]["forced"] == "false"
    assert rows[0]["pacer_assist_assist_ratio"] == ""


def test_terminal_output_and_stdin() -> None:
    data = WITH_PACER.read_bytes()
    done = run("-", stdin=data)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert text.startswith("stdin: 10 GC cycles")
    for needle in (
        "STW per cycle (sum)",
        "Minimum mutator utilization",
        "forced-cycles",
        "Cycles: 10 cycles",
    ):
        assert needle in text


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    hostile = b'gc <script>alert("x")</script> &amp;\n'
    log = tmp_path / 'run<b>&"1.log'
    log.write_bytes(hostile + WITH_PACER.read_bytes())
    out = tmp_path / "report.html"
    done = run(str(log), "--html", str(out), "--json")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "alert(&#34;x&#34;)" in page and "&amp;amp;" in page
    assert "run&lt;b&gt;&amp;&#34;1.log" in page and "<b>" not in page
    assert not re.search(r"https?://|src=|href=|@import|url\(", page)
    assert page.count("<svg") == 3 and page.count("<polyline") == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_no_gc_lines_is_an_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4000)
    assert_one_line_error(run(str(garbage)), "no `gc N @")
    assert_one_line_error(run("-", stdin=b""), "stdin")
    scav_only = tmp_path / "scavtrace.log"
    scav_only.write_bytes(
        b"".join(line for line in WITH_PACER.read_bytes().splitlines(True) if line[:5] == b"scav ")
    )
    assert_one_line_error(run(str(scav_only), "--json"), "GODEBUG=gctrace=1")


def test_bad_paths_and_options(tmp_path: Path) -> None:
    assert_one_line_error(run(str(tmp_path / "missing.log")), "cannot read")
    assert_one_line_error(run(str(tmp_path)), "cannot read")
    log = FIXTURES / "leakcheck_go1.27.3.log"
    assert_one_line_error(run(str(log), "--html", str(tmp_path / "no" / "such" / "r.html")), "cannot write")
    both = run(str(log), "--json", "--csv")
    assert both.returncode == 2 and b"pick one" in both.stderr


def test_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    """The page in a real browser: three charts with their marks inside the plot, every cycle in the table,
    the hostile line shown as text, no script, no console errors, nothing fetched."""
    sample = WITH_PACER.read_bytes()
    hostile = b'gc <script>alert("x")</script><b>bold</b>\n'
    log = tmp_path / "run.log"
    log.write_bytes(hostile + sample)
    out = tmp_path / "gc.html"
    done = run(str(log), "--html", str(out))
    assert done.returncode == 0, done.stderr
    cycles = sum(line.startswith(b"gc ") for line in sample.splitlines())
    with watched_page(out) as watched:
        page = watched.page
        assert page.title() == f"mapscope gc: {log}"
        assert page.locator("svg").count() == 3
        bars = page.locator("svg rect.bar")
        assert 0 < bars.count() <= cycles
        assert page.locator("svg polyline").count() == 5
        # Every mark lies inside its chart's plot area (the SVG's own coordinates).
        outside = page.evaluate(
            """() => Array.from(document.querySelectorAll("svg")).flatMap((svg) => {
                const box = svg.viewBox.baseVal;
                const marks = Array.from(svg.querySelectorAll("rect.bar, polyline"));
                return marks.filter((mark) => {
                    const b = mark.getBBox();
                    return b.x < 0 || b.y < 0 || b.x + b.width > box.width || b.y + b.height > box.height;
                }).map((mark) => mark.outerHTML.slice(0, 80));
            })"""
        )
        assert outside == []
        assert all(p.get_attribute("points") for p in page.locator("svg polyline").all())
        assert page.locator("h2:has-text('Cycles') + table tr").count() == cycles + 1
        assert page.evaluate("document.scripts.length") == 0
        assert page.locator("b, body script").count() == 0
        assert '<script>alert("x")</script><b>bold</b>' in page.locator("ul.notes-list").inner_text()
        box = page.locator("svg").first.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 100
    assert watched.problems == [] and watched.dialogs == []
