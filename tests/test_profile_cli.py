"""`mapscope profile` end to end: terminal and JSON output, several sources, one-line errors."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "profile_sites"
PROGRAM = FIXTURES / "program"
RATE1 = FIXTURES / "go1.22.10" / "rate1" / "allocs.pb.gz"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", "profile", *args], capture_output=True, text=True, check=False
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], needle: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("mapscope: error: ")
    assert done.stderr.count("\n") == 1
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_terminal_view() -> None:
    done = run(str(RATE1), "--source", str(PROGRAM), "--top", "5")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Map sites (alloc_space)" in out
    assert "map[int][1024]byte" in out
    assert "out-of-line" in out and "boxing" in out and "overflow" in out
    assert "main.go:69" in out
    assert "Top of the profile (alloc_space)" in out
    assert "more rows (--top to show them)" in out


def test_json_records() -> None:
    done = run(str(RATE1), "--source", str(PROGRAM), "--sample", "alloc_space", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["skipped"] == []
    (report,) = payload["profiles"]
    assert report["sample_type"] == {"type": "alloc_space", "unit": "bytes"}
    assert report["count_type"] == {"type": "alloc_objects", "unit": "count"}
    assert report["profile_kind"] == "memory"
    assert report["source_files"] == ["sitesprog/main.go"]
    sites = {(s["function"], s["line"]): s for s in report["sites"]}
    big = sites["main.bigValues", 69]
    assert big["map_type"] == "map[int][1024]byte"
    assert big["kind"] == "assign"
    causes = {share["cause"]: share for share in big["shares"]}
    assert causes["out-of-line"]["value"] == 5000 * 1024
    assert causes["out-of-line"]["confidence"] == "exact"
    assert abs(causes["out-of-line"]["share"] - 5000 * 1024 / report["total"]) < 1e-6
    assert report["map_value"] == sum(s["value"] for s in report["sites"])
    assert report["top"]["total"] == report["total"]
    assert report["top"]["rows"][0]["name"]


def test_directories_and_go_version() -> None:
    done = run(str(FIXTURES / "go1.27.3" / "rate1"), "--go", "1.27", "--json", "--top", "0")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert len(payload["profiles"]) == 2  # allocs.pb.gz and heap.debug1.txt.gz
    for report in payload["profiles"]:
        assert report["target"] == "go1.27.3"
        assert report["target_from"] == "--go"


def test_cpu_profile(shared_samples: Path) -> None:
    done = run(str(shared_samples / "pprof" / "cpu_go1.22.10.pb.gz"), "--json")
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)["profiles"]
    assert report["profile_kind"] == "cpu"
    assert report["sample_type"]["type"] == "cpu"
    causes = {share["cause"] for site in report["sites"] for share in site["shares"]}
    assert causes == {"lookup", "insert", "growth", "delete", "iterate", "hash"}
    text = run(str(shared_samples / "pprof" / "cpu_go1.22.10.pb.gz"))
    assert "main.(*cache).get" in text.stdout


def test_errors(tmp_path: Path) -> None:
    assert_one_line_error(run(str(tmp_path / "missing.pb.gz")), "no such file")
    assert_one_line_error(run(str(RATE1), "--source", str(tmp_path / "nowhere")), "not a directory")
    assert_one_line_error(run(str(RATE1), "--sample", "nope"), "no sample type 'nope'")
    assert_one_line_error(run(str(RATE1), "--go", "1.9"), "not modelled")
    truncated = tmp_path / "truncated.pb.gz"
    truncated.write_bytes(RATE1.read_bytes()[:200])
    assert_one_line_error(run(str(truncated)), "truncated gzip")
    garbage = tmp_path / "garbage.pb.gz"
    garbage.write_bytes(gzip.compress(b"\xff" * 64))
    assert_one_line_error(run(str(garbage)), "not a pprof profile")


def test_source_tree_with_broken_go_files(tmp_path: Path) -> None:
    """Unparsable or hostile Go files under --source never stop the analysis."""
    (tmp_path / "sitesprog").mkdir()
    broken = (PROGRAM / "main.go").read_text().replace("func growMap", "func growMap((( {{{")
    (tmp_path / "sitesprog" / "main.go").write_text(broken)
    (tmp_path / "sitesprog" / "deep.go").write_text("package main\nvar x = " + "(" * 5000 + "1" + ")" * 5000)
    (tmp_path / "sitesprog" / "bad.go").write_bytes(b"\xff\xfe\x00 package")
    done = run(str(RATE1), "--source", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)["profiles"]
    assert report["sites"]


def test_diff_across_go_versions() -> None:
    base = FIXTURES / "go1.22.10" / "rate1" / "allocs.pb.gz"
    new = FIXTURES / "go1.27.3" / "rate1" / "allocs.pb.gz"
    done = run("--diff", str(base), str(new), "--source", str(PROGRAM), "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    # The release itself when its toolchain is installed (its standard library's lines match the
    # profile's), else the bucket-map model the sizes fit.
    assert payload["base_target"] in ("go1.22.10", "go1.23.9") and payload["new_target"] == "go1.27.3"
    rows = {(r["function"], r["line"], r["cause"]): r for r in payload["rows"]}
    # Swiss tables have no overflow buckets: the bucket map's overflow disappears...
    overflow = rows["main.growMap", 59, "overflow"]
    assert overflow["base"] > 0 and overflow["new"] == 0
    # ...while the 5000 out-of-line [1024]byte values are the same on both.
    values = rows["main.bigValues", 69, "out-of-line"]
    assert values["base"] == values["new"] == 5000 * 1024
    text = run("--diff", str(base), str(new), "--source", str(PROGRAM))
    assert "Map sites, base → new (alloc_space)" in text.stdout


def test_diff_of_cpu_profiles(shared_samples: Path) -> None:
    base = shared_samples / "pprof" / "cpu_go1.22.10.pb.gz"
    new = shared_samples / "pprof" / "cpu_go1.27.3.pb.gz"
    done = run("--diff", str(base), str(new), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    both = {r["cause"] for r in rows if r["base"] > 0} & {r["cause"] for r in rows if r["new"] > 0}
    assert both == {"lookup", "insert", "growth", "delete", "iterate", "hash"}


def test_diff_errors() -> None:
    goroutines = FIXTURES.parent / "pprof" / "default" / "goroutine.pb.gz"
    assert_one_line_error(run("--diff", str(RATE1), str(goroutines)), "cannot be compared")
    done = run("--diff", str(RATE1))
    assert done.returncode == 2 and "--diff takes two sources" in done.stderr


def test_folded_and_speedscope_exports(tmp_path: Path) -> None:
    folded, speedscope = tmp_path / "out.folded", tmp_path / "out.speedscope.json"
    done = run(
        str(RATE1),
        "--source",
        str(PROGRAM),
        "--folded",
        str(folded),
        "--speedscope",
        str(speedscope),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    total = json.loads(done.stdout)["profiles"][0]["total"]
    lines = folded.read_text().splitlines()
    weights = [int(line.rsplit(" ", 1)[1]) for line in lines]
    assert sum(weights) == total
    assert "runtime.main;main.main;main.bigValues;[map: out-of-line] 5120000" in lines
    document = json.loads(speedscope.read_text())
    assert document["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    (profile,) = document["profiles"]
    assert profile["type"] == "sampled" and profile["unit"] == "bytes"
    assert profile["endValue"] == sum(profile["weights"]) == total
    assert all(w > 0 for w in profile["weights"])
    names = {frame["name"] for frame in document["shared"]["frames"]}
    assert {"[map: growth]", "[map: boxing]", "[map: overflow]"} <= names
    assert not list(tmp_path.glob(".*.tmp"))
    several = run(str(FIXTURES / "go1.27.3" / "rate1"), "--folded", str(folded))
    assert_one_line_error(several, "exports take one profile")
