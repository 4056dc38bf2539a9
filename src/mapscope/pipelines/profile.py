"""The profile pipeline: SOURCE arguments read into profiles, each attributed to map sites, with the
per-sample causes, the flame tree and the BASE -> NEW diff when a renderer asks for them.

`mapscope profile` parses flags and picks renderers; everything between the bytes and the records the
renderers draw happens here, as pprof's driver hands a report its profile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from mapscope import gotoolchain
from mapscope.analyses import cause_frames, flame
from mapscope.analyses.map_sites import SiteReport, attribute, sample_causes
from mapscope.analyses.profile_diff import ProfileDiff, diff
from mapscope.errors import MapscopeError
from mapscope.model.versions import Target
from mapscope.readers import go_buildinfo, go_stdlib, profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import Profile, sample_index
from mapscope.readers.pprof_text import Progress as ReadProgress

__all__ = ["ProfileRequest", "ProfileRun", "run_profiles"]

Reading = Callable[[], AbstractContextManager[ReadProgress | None]]


@dataclass(frozen=True)
class ProfileRequest:
    """What the user asked for: the sources and how to read and attribute them."""

    sources: tuple[str, ...]
    sample: str | None = None
    source_dir: Path | None = None
    binary: Path | None = None
    target: Target | None = None  # from --go / --goexperiment
    compare: bool = False  # BASE NEW: one profile each, and their diff
    causes: bool = False  # per-sample causes, for flame graphs and exports


@dataclass(frozen=True)
class ProfileRun:
    """Every profile read (with the sample type chosen), its site report and, when asked, its causes."""

    profiles: tuple[tuple[Profile, int], ...]
    reports: tuple[SiteReport, ...]
    causes: tuple[list[str | None], ...]
    diff: ProfileDiff | None
    skipped: tuple[tuple[str, str], ...]

    def flame_tree(self) -> flame.FlameTree:
        """The flame tree of all profiles read (BASE and NEW with --diff), causes as leaf frames."""
        return flame.flame_tree(
            [
                flame.FlameInput(profile, index, causes)
                for (profile, index), causes in zip(self.profiles, self.causes, strict=True)
            ]
        )

    def single(self, what: str) -> tuple[Profile, int, list[str | None]]:
        """The one profile an export takes, with its causes."""
        if len(self.profiles) != 1:
            raise MapscopeError(what, f"exports take one profile, the sources gave {len(self.profiles)}")
        (profile, index), causes = self.profiles[0], self.causes[0]
        return profile, index, causes

    def with_cause_frames(self, what: str, map_only: bool) -> Profile:
        profile, _, causes = self.single(what)
        return cause_frames.with_cause_frames(profile, causes, map_only)


def _sources(directory: Path | None) -> SourceTree | None:
    if directory is None:
        return None
    if not directory.is_dir():
        raise MapscopeError(str(directory), "not a directory (--source takes the Go source tree)")
    return SourceTree(directory)


def _built_with(binary: Path) -> tuple[Target | None, str]:
    """The release (and map experiment) the binary's build info names, if mapscope models it."""
    found = go_buildinfo.go_version(binary) if binary.is_file() else None
    if found is None:
        return None, ""
    release, _, rest = found.removeprefix("go").partition(" ")
    experiment = "noswissmap" if "noswissmap" in rest else None
    try:
        return Target.parse(release, experiment), f"the binary's build info ({found})"
    except MapscopeError:
        return None, ""


def run_profiles(request: ProfileRequest, reading: Reading = contextlib.nullcontext) -> ProfileRun:
    """Read every source (`reading` gives each a progress callback), attribute each profile."""
    target, target_from = request.target, "--go"
    if target is None and request.binary is not None:
        target, target_from = _built_with(request.binary)
    tree = _sources(request.source_dir)
    roots = [(t.release, t.go.parent.parent / "src") for t in reversed(gotoolchain.installed())]
    reports: list[SiteReport] = []
    skipped: list[tuple[str, str]] = []
    profiles: list[tuple[Profile, int]] = []
    for source in request.sources:
        with reading() as progress:
            loaded = profile_source.load(source, binary=request.binary, progress=progress)
        if request.compare and len(loaded.profiles) != 1:
            raise MapscopeError(source, f"--diff needs one profile per source, found {len(loaded.profiles)}")
        skipped.extend(loaded.skipped)
        for profile in loaded.profiles:
            index = sample_index(profile, request.sample)
            profiles.append((profile, index))
            stdlib = go_stdlib.find(profile.functions, roots)
            reports.append(attribute(profile, index, tree, target, target_from, stdlib))
    causes = (
        tuple(
            sample_causes(profile, index, report)
            for (profile, index), report in zip(profiles, reports, strict=True)
        )
        if request.causes
        else ()
    )
    return ProfileRun(
        profiles=tuple(profiles),
        reports=tuple(reports),
        causes=causes,
        diff=diff(reports[0], reports[1]) if request.compare else None,
        skipped=tuple(skipped),
    )
