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


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", "gc", *args], input=stdin, capture_output=True, check=False
    )


def assert_one_line_error(done: subprocess.CompletedProcess[bytes], needle: str) -> None:
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert stderr.startswith("mapscope: error: ") and stderr.count("\n") == 1
    assert needle in stderr and "Traceback" not in stderr


def test_json_shape(shared_samples: Path) -> None:
    path = shared_samples / "gctrace" / "gctrace+gcpacertrace_go1.25.5.log"
    done = run(str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"source", "input", "summary", "mmu", "cycles"}
    lines = path.read_text().splitlines()
    assert len(report["cycles"]) == sum(line.startswith("gc ") for line in lines) == 10
    assert report["input"]["lines"] == len(lines) and report["input"]["unrecognized_lines"] == 0
    first = report["cycles"][0]
    # gc 1 @0.003s 6%: 0.12+0.65+0.098 ms clock, 0.25+0.10/0.10/0.24+0.19 ms cpu, 3->3->3 MB, 4 MB goal, ...
    assert first["cycle"]["start_s"] == 0.003 and first["cycle"]["mark_term_ms"] == 0.098
    assert first["cycle"]["assist_cpu_ms"] == 0.1 and first["cycle"]["heap_goal_mb"] == 4
    assert first["stw_ms"] == 0.218
    assert first["assist"]["assist_ratio"] == 0.8739491 and first["end"]["goal_delta_b"] == -81920
    assert first["sweep"]["pages_swept"] == 502
    assert set(report["summary"]["stw_ms"]) == {"p50", "p90", "p99", "max"}
    assert {p["window_ms"] for p in report["mmu"]["points"]} >= {1.0, 10.0, 100.0, 1000.0}
    assert all(set(flag) == {"code", "message", "cycles"} for flag in report["summary"]["flags"])


def test_csv_shape(shared_samples: Path) -> None:
    path = shared_samples / "gctrace" / "gctrace_go1.21.13.log"
    done = run(str(path), "--csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    gc_lines = [line for line in path.read_text().splitlines() if line.startswith("gc ")]
    assert len(rows) == len(gc_lines)
    for row, line in zip(rows, gc_lines, strict=True):
        clock = line.split(": ", 1)[1].split(" ms clock")[0]
        assert f"{row['sweep_term_ms']}+{row['mark_ms']}+{row['mark_term_ms']}" == clock
        assert line.startswith(f"gc {row['number']} @{row['start_s']}s {row['cpu_percent']}%")
    assert rows[6]["forced"] == "true" and rows[0]["forced"] == "false"
    assert rows[0]["pacer_assist_assist_ratio"] == ""


def test_terminal_output_and_stdin(shared_samples: Path) -> None:
    data = (shared_samples / "gctrace" / "gctrace_go1.27.3.log").read_bytes()
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


def test_html_is_self_contained_and_escaped(tmp_path: Path, shared_samples: Path) -> None:
    hostile = b'gc <script>alert("x")</script> &amp;\n'
    log = tmp_path / 'run<b>&"1.log'
    log.write_bytes(hostile + (shared_samples / "gctrace" / "gctrace+gcpacertrace_go1.27.3.log").read_bytes())
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


def test_no_gc_lines_is_an_error(tmp_path: Path, shared_samples: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4000)
    assert_one_line_error(run(str(garbage)), "no `gc N @")
    assert_one_line_error(run("-", stdin=b""), "stdin")
    scav_only = shared_samples / "gctrace" / "scavtrace_go1.27.3.log"
    assert_one_line_error(run(str(scav_only), "--json"), "GODEBUG=gctrace=1")


def test_bad_paths_and_options(tmp_path: Path) -> None:
    assert_one_line_error(run(str(tmp_path / "missing.log")), "cannot read")
    assert_one_line_error(run(str(tmp_path)), "cannot read")
    log = FIXTURES / "leakcheck_go1.27.3.log"
    assert_one_line_error(run(str(log), "--html", str(tmp_path / "no" / "such" / "r.html")), "cannot write")
    both = run(str(log), "--json", "--csv")
    assert both.returncode == 2 and b"pick one" in both.stderr


def test_html_renders_in_headless_chromium(tmp_path: Path, shared_samples: Path) -> None:
    """The page in a real browser: three charts with their marks inside the plot, every cycle in the table,
    the hostile line shown as text, no script, no console errors, nothing fetched."""
    sample = (shared_samples / "gctrace" / "gctrace+gcpacertrace_go1.27.3.log").read_bytes()
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
