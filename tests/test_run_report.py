"""`mapscope report`: the HTML page escapes every name from its input, and renders in a real browser.

The run directory here is made by hand so that names can be hostile: a benchmark called
`<script>alert(1)</script>`, markup in the command line, the environment and the package name. Its GC
log is a real Go 1.27.3 log (tests/fixtures/gc); its benchmark figures are those tests/fixtures/run/tinyrun
printed on Go 1.27.3 (map[int]int, 1000 entries: 36.94 live-B/entry); its heap profile is a real Go
1.27.3 one of tests/fixtures/profile_sites/program, whose directory is the package's.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from browser import HOSTILE, watched_page

from mapscope.analyses.map_size import size_report
from mapscope.model.versions import Target
from mapscope.pipelines.run import analyze_run
from mapscope.readers.gotype_source import parse_map_type
from mapscope.renderers import run_html
from mapscope.runner.manifest import (
    FORMAT,
    FileEntry,
    Manifest,
    Role,
    Status,
    Step,
    read_manifest,
    write_manifest,
)

GC_LOG = Path(__file__).parent / "fixtures" / "gc" / "chatter_all_go1.27.3.log"
SITES = Path(__file__).parent / "fixtures" / "profile_sites"
# The whole GC log arrives between the configuration lines and the first result line.
ARRIVALS = "o 3\ne 54\no 9\n"
STDOUT = f"""goos: linux
goarch: amd64
pkg: <b>evil</b>
BenchmarkFill/map=map[int]int/n=1000-2   	 100	      5000 ns/op	        36.94 live-B/entry
BenchmarkFill/map=map[int]int/n=1000-2   	 100	      5100 ns/op	        36.94 live-B/entry
Benchmark{HOSTILE}-2   	 100	         7 ns/op
BenchmarkX/map=<img_src=x_onerror=alert(2)>/n=10-2   	 10	  1 ns/op	 5 live-B/entry
PASS
"""


def make_run_dir(root: Path) -> Path:
    run_dir = root / "run"
    run_dir.mkdir()
    (run_dir / "stdout.txt").write_text(STDOUT)
    (run_dir / "arrivals.txt").write_text(ARRIVALS)
    shutil.copyfile(GC_LOG, run_dir / "stderr.txt")
    (run_dir / "profiles").mkdir()
    shutil.copyfile(SITES / "go1.27.3" / "rate1" / "allocs.pb.gz", run_dir / "profiles" / "sites.mem.pprof")
    files = tuple(
        FileEntry(
            name,
            role,
            package,
            (run_dir / name).stat().st_size,
            hashlib.sha256((run_dir / name).read_bytes()).hexdigest(),
        )
        for name, role, package in (
            ("stdout.txt", Role.STDOUT, None),
            ("stderr.txt", Role.STDERR, None),
            ("arrivals.txt", Role.ARRIVALS, None),
            ("profiles/sites.mem.pprof", Role.MEM_PROFILE, "sitesprog"),
        )
    )
    write_manifest(
        run_dir,
        Manifest(
            format=FORMAT,
            mapscope_version="test",
            status=Status.FAILED,
            exit_code=1,
            command=("go", "test", "-bench", HOSTILE, "./pkg"),
            kind="go test",
            cwd="/tmp/<i>cwd</i>",
            go_release="1.27.3",
            go_binary=None,
            godebug="gctrace=1,gcpacertrace=1,x=<u>",
            environment=(("GODEBUG", "gctrace=1,gcpacertrace=1,x=<u>"), ("GOFLAGS", "<em>flags</em>")),
            host=(("system", "Linux"),),
            started_utc="2026-01-01T00:00:00Z",
            finished_utc="2026-01-01T00:00:09Z",
            seconds=9.0,
            steps=(
                Step("run", "<pkg>", ("./x.test", HOSTILE), "/tmp", 0.1, 8.9, 1, None, 8.0, 0.5, 50000),
                Step("run", "sitesprog", ("./s.test",), str(SITES / "program"), 9, 1, 0, None, 1, 0, 1),
            ),
            files=files,
            notes=(f"note with {HOSTILE}",),
        ),
    )
    return run_dir


def render(tmp_path: Path) -> Path:
    run_dir = make_run_dir(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "report", str(run_dir), "--html", str(tmp_path / "report.html")],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / "report.html"


def test_every_name_from_input_is_escaped(tmp_path: Path) -> None:
    page = render(tmp_path).read_text()
    for raw in (HOSTILE, "<img", "<b>evil", "<i>cwd", "<u>", "<em>flags", "<pkg>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img_src=x_onerror=alert(2)&gt;" in page
    assert page.count("<script>") == 1  # the page's own table-sorting script
    assert not list(tmp_path.glob(".report.html.*"))  # written atomically, nothing left behind


def test_model_beside_measured_and_gc_parts(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path)
    manifest = read_manifest(run_dir)
    analysis = analyze_run(run_dir, manifest)
    assert analysis.bench is not None and analysis.gc is not None
    rows = {row.benchmark: row for row in analysis.models}
    fill = rows["Fill/map=map[int]int/n=1000-2"]
    assert (fill.measured_b_per_entry, fill.samples, fill.target) == (36.94, 2, "go1.27.3")
    model = size_report(parse_map_type("map[int]int"), 1000, Target.parse("1.27.3"))
    assert fill.model_b_per_entry == model.retained_bytes.value / 1000
    assert fill.difference_pct is not None and abs(fill.difference_pct) < 1
    hostile = rows["X/map=<img_src=x_onerror=alert(2)>/n=10-2"]
    assert hostile.model_b_per_entry is None and hostile.note is not None
    # The gc lines of the log, counted without mapscope's reader.
    gc_lines = [line for line in GC_LOG.read_bytes().splitlines() if line.startswith(b"gc ")]
    assert analysis.gc.summary.cycles == len(gc_lines)
    page = run_html.render(run_dir, manifest, analysis)
    assert page.count('class="gc-chart"') == 2
    assert 'class="model-chart"' in page
    # Every cycle of the log arrived before the first result: Fill's two samples (200 iterations) get
    # the first's; the log's pacer-started cycles are its gc lines without "(forced)".
    paced = [line for line in gc_lines if not line.endswith(b"(forced)")]
    by_name = {row.benchmark: row for row in analysis.gc_per_op}
    assert by_name["Fill/map=map[int]int/n=1000-2"].cycles == len(paced)
    assert by_name["Fill/map=map[int]int/n=1000-2"].iterations == 200
    assert by_name[f"{HOSTILE}-2"].cycles == 0
    # The heap profile's map sites, with the program's source: bigValues stores [1024]byte values.
    (found,) = analysis.sites
    assert found.package == "sitesprog" and found.source_dir == str(SITES / "program")
    assert any(
        s.function == "main.bigValues" and s.map_type == "map[int][1024]byte" for s in found.report.sites
    )
    assert 'class="sites"' in page and "main.bigValues" in page and 'class="gc-per-op"' in page


def test_report_text_and_json(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "report", str(run_dir)],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert HOSTILE in done.stdout and "36.9" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "report", str(run_dir), "--json"],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    document = json.loads(done.stdout)
    assert document["manifest"]["status"] == "failed"
    assert document["gc"]["summary"]["cycles"] > 0
    assert document["models"][0]["measured_b_per_entry"] == 36.94
    assert {row["benchmark"] for row in document["gc_per_op"]} >= {"Fill/map=map[int]int/n=1000-2"}
    assert document["map_sites"][0]["package"] == "sitesprog" and document["map_sites"][0]["sites"]


def test_a_run_that_recorded_no_end_says_so(tmp_path: Path) -> None:
    """A manifest still `running` (mapscope was killed with SIGKILL, or is still at it) has no exit code."""
    run_dir = make_run_dir(tmp_path)
    write_manifest(
        run_dir,
        replace(
            read_manifest(run_dir), status=Status.RUNNING, exit_code=None, finished_utc=None, seconds=None
        ),
    )
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "report", str(run_dir)],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "running (no exit status: mapscope is still running it, or was killed" in done.stdout
    assert "None" not in done.stdout


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page_file = render(tmp_path)
    with watched_page(page_file) as watched:
        page = watched.page
        assert page.title().startswith("mapscope run: go test -bench")
        assert page.locator("svg.gc-chart").count() == 2
        assert page.locator("svg.gc-chart rect.bar").count() > 0
        assert page.locator("svg.gc-chart polyline").count() == 3
        # Fill: measured and model bars; X: measured only (no model for its map).
        assert page.locator("svg.model-chart rect").count() == 3
        assert page.locator("table.sites tr").count() > 5
        assert HOSTILE in page.locator("table.gc-per-op").inner_text()
        assert page.evaluate("document.scripts.length") == 1
        assert page.locator("img, b, u, em, i:not([class])").count() == 0
        assert HOSTILE in page.locator("table.bench").first.inner_text()
        # Sorting by measured bytes puts the smallest first: the page's script runs.
        page.locator("table.models th").nth(2).click()
        first = page.locator("table.models tr").nth(1).inner_text()
        assert first.startswith("X/map=<img_src")
        box = page.locator("svg.gc-chart").first.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 100
    assert watched.problems == [] and watched.dialogs == []
