"""`mapscope profile` against the real Go toolchains: totals equal `go tool pprof -top`, and the legacy
text profiles of the map-site fixtures, symbolized with the rebuilt binary, give their causes from the
runtime frames themselves."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_profile_sites import BIG_STORE, CACHE_STORE, FIXTURES, GROW_STORE, IFACE_STORE, PROGRAM, RELEASES

from mapscope.analyses import map_sites
from mapscope.analyses.map_shapes import MemoryClass
from mapscope.analyses.map_sites import FoundBy
from mapscope.cli import build_cli
from mapscope.gotoolchain import Toolchain
from mapscope.readers import profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import sample_index

pytestmark = pytest.mark.live

_TOTAL = re.compile(r"of (-?\d+)B total")


@pytest.fixture(scope="session")
def binaries(
    go_release: Callable[[str], Toolchain], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The fixture program rebuilt by each release exactly as the generator built it."""
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    built = {}
    for release in RELEASES:
        go = go_release(release)
        output = tmp_path_factory.mktemp(f"sites{release}") / "sitesprog"
        command = [str(go.go), *manifest["build"][1:-3], "-o", str(output), "."]
        subprocess.run(command, cwd=PROGRAM, env=go.env(), check=True)
        build_id = subprocess.run(
            [str(go.go), "tool", "buildid", str(output)],
            env=go.env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert build_id == manifest["releases"][release]["build_id"], "the rebuilt binary differs"
        built[release] = output
    return built


def pprof_total(go: Toolchain, path: Path, sample: str) -> int:
    done = subprocess.run(
        [str(go.go), "tool", "pprof", "-top", f"-sample_index={sample}", "-unit=B", str(path)],
        env=go.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    match = _TOTAL.search(done.stdout)
    assert match is not None, done.stdout
    return int(match.group(1))


@pytest.mark.parametrize("release", RELEASES)
def test_totals_equal_go_tool_pprof(release: str, go_release: Callable[[str], Toolchain]) -> None:
    go = go_release("1.27.3")
    runner = CliRunner()
    for rate in ("rate1", "default"):
        for name in ("allocs.pb.gz", "heap.debug1.txt.gz"):
            path = FIXTURES / f"go{release}" / rate / name
            for sample in ("alloc_space", "inuse_space"):
                expected = pprof_total(go, path, sample)
                result = runner.invoke(build_cli(), ["profile", str(path), "--sample", sample, "--json"])
                assert result.exit_code == 0, result.output
                payload = json.loads(result.output)["profiles"][0]
                assert payload["total"] == payload["top"]["total"] == expected, (path, sample)
                text = runner.invoke(build_cli(), ["profile", str(path), "--sample", sample, "--top", "0"])
                assert f"({expected:,} B)" in text.output or f"{expected:,} B" in text.output


@pytest.mark.parametrize("release", RELEASES)
def test_runtime_frames_of_symbolized_text_profiles(release: str, binaries: dict[str, Path]) -> None:
    path = FIXTURES / f"go{release}" / "rate1" / "heap.debug1.txt.gz"
    profile = profile_source.load(str(path), binary=binaries[release]).profiles[0]
    found = map_sites.attribute(profile, sample_index(profile, "alloc_space"))
    swiss = release.startswith("1.27")
    assert ("Swiss" in found.target_from) is swiss
    by_line = {s.line: s for s in found.sites}
    for line in (GROW_STORE, BIG_STORE, IFACE_STORE, CACHE_STORE):
        assert by_line[line].found_by is FoundBy.RUNTIME
        causes = {s.cause: s for s in by_line[line].shares}
        assert causes[MemoryClass.GROWTH].confidence.value == "exact"
        assert (MemoryClass.OVERFLOW in causes) is not swiss
    big = {s.cause: (s.value, s.count) for s in by_line[BIG_STORE].shares}
    assert big[MemoryClass.OUT_OF_LINE] == (5000 * 1024, 5000)
    # With the source as well, boxes (allocated before mapassign, so with no map frame) are found too.
    with_source = map_sites.attribute(profile, sample_index(profile, "alloc_space"), SourceTree(PROGRAM))
    iface = {s.cause: s.count for s in next(s for s in with_source.sites if s.line == IFACE_STORE).shares}
    assert 75_000 <= iface[MemoryClass.BOXING] <= 75_002
    assert iface[MemoryClass.INITIAL] == 1
