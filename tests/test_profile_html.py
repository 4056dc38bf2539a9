"""`mapscope profile --html`: the flame tree, the page's escaping, and the page in headless Chromium.

The map-site fixtures are real Go 1.22.10 / 1.27.3 allocs profiles whose sites are known by construction
(5000 out-of-line [1024]byte values at main.bigValues). The hostile profile is made here with the
generated profile.proto writer: a CPU profile whose user function is named `<script>alert(1)</script>`
and inserts into a map (runtime.mapassign_fast64 above it), so the name is a map site, a flame frame
and a top row at once.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from browser import HOSTILE, watched_page

from mapscope.analyses import flame, map_sites, profile_totals
from mapscope.readers import profile_pb2, profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import Profile, sample_index
from mapscope.renderers import profile_export, profile_html

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

FIXTURES = Path(__file__).parent / "fixtures" / "profile_sites"
PROGRAM = FIXTURES / "program"
RATE1 = FIXTURES / "go1.27.3" / "rate1" / "allocs.pb.gz"
BASE = FIXTURES / "go1.22.10" / "rate1" / "allocs.pb.gz"
OUT_OF_LINE = 5000 * 1024  # 5000 [1024]byte values stored into main.bigValues' map


SITE = "main.</script><script>alert(2)</script>"


def hostile_cpu_profile() -> bytes:
    """samples/count and cpu/nanoseconds; a map insert at SITE, called from HOSTILE."""
    p = profile_pb2.Profile()
    strings = [b"", b"samples", b"count", b"cpu", b"nanoseconds", HOSTILE.encode(), b"<b>x.go</b>",
               b"runtime.mapassign_fast64", b"runtime/map_fast64.go", b"main.main", b"main.go",
               b"main.other", SITE.encode()]  # fmt: skip
    p.string_table.extend(strings)
    p.sample_type.add(type=1, unit=2)
    p.sample_type.add(type=3, unit=4)
    p.period_type.type, p.period_type.unit, p.period = 3, 4, 10_000_000
    for function_id, name, file in ((1, 5, 6), (2, 7, 8), (3, 9, 10), (4, 11, 10), (5, 12, 6)):
        p.function.add(id=function_id, name=name, system_name=name, filename=file)
        location = p.location.add(id=function_id, address=0x1000 * function_id)
        location.line.add(function_id=function_id, line=10 * function_id)
    p.sample.add(location_id=[2, 5, 1, 3], value=[3, 30_000_000])
    p.sample.add(location_id=[1, 3], value=[2, 20_000_000])
    p.sample.add(location_id=[4, 3], value=[5, 50_000_000])
    return gzip.compress(p.SerializeToString())


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", "profile", *args], capture_output=True, text=True, check=False
    )


def fixture_tree(min_fraction: float = 0.0, max_nodes: int = 1 << 30) -> tuple[Profile, int, flame.FlameTree]:
    profile = profile_source.load(str(RATE1)).profiles[0]
    index = sample_index(profile, "alloc_space")
    report = map_sites.attribute(profile, index, SourceTree(PROGRAM))
    causes = map_sites.sample_causes(profile, index, report)
    return (
        profile,
        index,
        flame.flame_tree([flame.FlameInput(profile, index, causes)], min_fraction, max_nodes),
    )


def paths(tree: flame.FlameTree, column: int) -> Counter[tuple[str, ...]]:
    """Root-to-node paths with the node's own value (its value less its children's)."""
    own = tree.values[0, column].copy()
    np.subtract.at(own, tree.parent[1:], tree.values[0, column, 1:])
    found: Counter[tuple[str, ...]] = Counter()
    names: list[tuple[str, ...]] = [()]
    for node in range(1, tree.parent.size):
        names.append((*names[tree.parent[node]], tree.names[tree.name[node]]))
        if own[node]:
            found[names[node]] += int(own[node])
    return found


def test_flame_tree_of_a_real_profile() -> None:
    profile, index, tree = fixture_tree()
    assert [vt.type for vt in tree.sample_types] == [vt.type for vt in profile.sample_types]
    assert tree.sample_types[tree.default_type].type == "alloc_space"
    for t, total in enumerate(profile_totals.totals(profile)):
        assert tree.values[0, t, 0] == tree.totals[0, t] == total.total
    # A child is never wider than its parent, in any sample type.
    assert (tree.values[0, :, 1:] <= tree.values[0][:, tree.parent[1:]]).all()
    # Nodes breadth-first, siblings by name: what the page relies on.
    assert (tree.parent[1:] < np.arange(1, tree.parent.size)).all()
    out_of_line = [
        node
        for node in range(1, tree.parent.size)
        if tree.cause[node] >= 0 and tree.causes[tree.cause[node]] == "out-of-line"
    ]
    assert [tree.names[tree.name[tree.parent[n]]] for n in out_of_line] == ["main.bigValues"]
    assert tree.values[0, tree.default_type, out_of_line[0]] == OUT_OF_LINE
    assert tree.cause_totals[0, tree.default_type, tree.causes.index("out-of-line")] == OUT_OF_LINE
    # With nothing cut, the tree holds exactly the folded export's stacks.
    report = map_sites.attribute(profile, index, SourceTree(PROGRAM))
    folded = profile_export.folded(profile, index, map_sites.sample_causes(profile, index, report))
    expected: Counter[tuple[str, ...]] = Counter()
    for line in folded.splitlines():
        stack, value = line.rsplit(" ", 1)
        expected[tuple(stack.split(";"))] += int(value)
    assert paths(tree, tree.default_type) == expected
    assert tree.cut_nodes == 0 and tree.capped_fraction is None


def test_small_frames_are_cut_and_counted() -> None:
    _, _, whole = fixture_tree()
    _, _, cut = fixture_tree(min_fraction=0.05)
    assert 0 < cut.parent.size < whole.parent.size and cut.cut_nodes > 0
    assert ((cut.values[0] >= 0.05 * cut.totals[0][:, None]).any(axis=0)[1:]).all()
    _, _, capped = fixture_tree(max_nodes=8)
    assert capped.parent.size == 8 and capped.capped_fraction is not None
    assert (capped.parent[1:] >= 0).all() and (capped.parent[1:] < np.arange(1, 8)).all()


def test_flame_tree_without_samples_or_causes() -> None:
    empty = profile_pb2.Profile()
    empty.string_table.extend([b"", b"alloc_space", b"bytes"])
    empty.sample_type.add(type=1, unit=2)
    profile = profile_source.parse(empty.SerializeToString(), "empty")
    tree = flame.flame_tree([flame.FlameInput(profile, 0, [])])
    assert tree.parent.tolist() == [-1] and tree.totals.tolist() == [[0]] and tree.causes == ()
    profile = profile_source.parse(gzip.decompress(hostile_cpu_profile()), "no causes")
    tree = flame.flame_tree([flame.FlameInput(profile, 1, [None] * len(profile.samples))])
    assert tree.causes == () and (tree.cause == -1).all()
    assert tree.values[0, 1, 0] == 100_000_000 and tree.parent.size == 6


def test_script_json_cannot_close_its_element() -> None:
    text = profile_html.script_json({"name": "</script><script>alert(1)</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert "\\u003c/script\\u003e" in text


def test_page_escapes_every_name(tmp_path: Path) -> None:
    source = tmp_path / "hostile<i>name.pb.gz"
    source.write_bytes(hostile_cpu_profile())
    page_file = tmp_path / "page.html"
    done = run(str(source), "--html", str(page_file))
    assert done.returncode == 0, done.stderr
    page = page_file.read_text()
    for raw in (HOSTILE, SITE, "<b>x.go", "<i>name"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the top table
    assert "main.&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page  # the site table
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page  # the flame data
    assert page.count("<script") == page.count("</script>") == 2  # the JSON block and the script
    policy = re.search(r"script-src '(sha256-[^']+)'", page)
    assert policy is not None and policy.group(1) in page
    assert not list(tmp_path.glob(".*.tmp"))


def test_html_errors(tmp_path: Path) -> None:
    done = run(str(FIXTURES / "go1.27.3" / "rate1"), "--html", str(tmp_path / "x.html"))
    assert done.returncode == 2 and "--html takes one profile" in done.stderr
    done = run(str(RATE1), "--html", str(tmp_path / "missing" / "x.html"))
    assert done.returncode == 2 and "cannot write" in done.stderr and done.stderr.count("\n") == 1


def frame_named(page: Page, name: str) -> Locator:
    return page.locator(".frame").filter(has_text=re.compile(f"^{re.escape(name)}$")).first


def test_page_in_headless_chromium(tmp_path: Path) -> None:
    page_file = tmp_path / "page.html"
    done = run(str(RATE1), "--source", str(PROGRAM), "--html", str(page_file))
    assert done.returncode == 0, done.stderr
    with watched_page(page_file, viewport={"width": 1200, "height": 900}) as watched:
        page = watched.page
        flame_width = page.evaluate("document.getElementById('flame').clientWidth")
        assert flame_width > 600
        assert page.locator(".frame").count() > 10
        assert page.locator("table.sites").inner_text().count("main.bigValues") == 2
        # Zoom: the clicked frame then spans the whole width, and its siblings are gone.
        target = frame_named(page, "main.cacheChurn")
        before = target.bounding_box()
        assert before is not None and before["width"] < flame_width - 5
        target.click()
        after = frame_named(page, "main.cacheChurn").bounding_box()
        assert after is not None and abs(after["width"] - flame_width) < 1
        assert frame_named(page, "main.bigValues").count() == 0
        page.click("#reset")
        assert frame_named(page, "main.bigValues").count() == 1
        # Search highlights every frame that matches, and says how much they hold.
        page.fill("#search", "[map: out-of")
        matched = page.locator(".frame.match")
        assert matched.count() == 1 and matched.inner_text() == "[map: out-of-line]"
        assert "1 frames match: 4.88 MiB" in page.locator("#matched").inner_text()
        page.fill("#search", "")
        assert page.locator(".frame.match").count() == 0
        # The sample-type switch changes the total (and every width).
        assert page.locator("#total").inner_text() == "Total alloc_space: 32.22 MiB"
        page.select_option("#sample-type", label="alloc_objects (count)")
        assert page.locator("#total").inner_text() == "Total alloc_objects: 281,454"
        legend = page.locator("#legend").inner_text()
        assert "out-of-line 5,000" in legend
    assert watched.problems == [] and watched.dialogs == []


def test_hostile_names_in_headless_chromium(tmp_path: Path) -> None:
    source = tmp_path / "hostile.pb.gz"
    source.write_bytes(hostile_cpu_profile())
    page_file = tmp_path / "page.html"
    done = run(str(source), "--html", str(page_file))
    assert done.returncode == 0, done.stderr
    with watched_page(page_file, viewport={"width": 1200, "height": 900}) as watched:
        page = watched.page
        frame = frame_named(page, HOSTILE)
        assert frame.inner_text() == HOSTILE
        assert frame_named(page, SITE).inner_text() == SITE
        assert page.evaluate("document.scripts.length") == 2
        assert page.locator("#flame script, #flame b, table script").count() == 0
        assert SITE in page.locator("table.sites").inner_text()
        assert HOSTILE in page.locator("table.top").inner_text()
        frame.click()  # zooming re-renders every name
        page.fill("#search", "<script>")
        assert page.locator(".frame.match").count() == 2
        assert page.locator("#total").inner_text() == "Total cpu: 0.10s"
        page.select_option("#sample-type", label="samples (count)")
        assert page.locator("#total").inner_text() == "Total samples: 10"
    assert watched.problems == [] and watched.dialogs == []


def test_diff_page_in_headless_chromium(tmp_path: Path) -> None:
    page_file = tmp_path / "diff.html"
    done = run("--diff", str(BASE), str(RATE1), "--source", str(PROGRAM), "--html", str(page_file))
    assert done.returncode == 0, done.stderr
    with watched_page(page_file, viewport={"width": 1200, "height": 900}) as watched:
        page = watched.page
        assert "(base 34.42 MiB)" in page.locator("#total").inner_text()
        # Swiss tables have no overflow buckets: that cause is gone in the new profile.
        assert "overflow 1.73 MiB → 0 B" in page.locator("#legend").inner_text()
        colours = page.evaluate(
            "Array.from(document.querySelectorAll('.frame'), e => getComputedStyle(e).backgroundColor)"
        )
        channels = [tuple(int(c) for c in re.findall(r"\d+", colour)[:3]) for colour in colours]
        assert any(r > b + 40 for r, _, b in channels)  # grew
        assert any(b > r + 40 for r, _, b in channels)  # shrank
        assert "main.growMap" in page.locator("table.diff").inner_text()
    assert watched.problems == [] and watched.dialogs == []
