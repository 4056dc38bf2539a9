"""`mapscope profile SOURCE...`: which map sites of a Go profile allocate or burn CPU, and why."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from mapscope import gotoolchain
from mapscope.analyses import cause_frames, flame
from mapscope.analyses.map_sites import SiteReport, attribute, sample_causes
from mapscope.analyses.profile_diff import ProfileDiff, diff
from mapscope.atomicfile import write_atomic, write_atomic_bytes
from mapscope.commands.count_option import Count
from mapscope.errors import MapscopeError
from mapscope.model.versions import Target
from mapscope.readers import go_buildinfo, go_stdlib, profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import Profile, sample_index
from mapscope.readers.pprof_text import Progress as ReadProgress
from mapscope.renderers import profile_export, profile_html, profile_proto
from mapscope.renderers.console import console
from mapscope.renderers.jsonout import dumps
from mapscope.renderers.profile_json import report_json
from mapscope.renderers.profile_terminal import DEFAULT_SITES, DEFAULT_TOP_ROWS, diff_view, report_view

# Inputs smaller than this read in well under a second: no progress bar for them.
_PROGRESS_MIN_BYTES = 32 << 20


@contextlib.contextmanager
def _reading_progress() -> Iterator[ReadProgress | None]:
    """A progress callback drawing a bar on stderr for large inputs, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=None, visible=False)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total >= _PROGRESS_MIN_BYTES)

        yield update


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


def _causes(profiles: list[tuple[Profile, int]], reports: list[SiteReport]) -> list[list[str | None]]:
    return [
        sample_causes(profile, index, report)
        for (profile, index), report in zip(profiles, reports, strict=True)
    ]


def _export(
    profiles: list[tuple[Profile, int]],
    causes: list[list[str | None]],
    folded: Path | None,
    speedscope: Path | None,
    proto: Path | None,
    map_only: bool,
) -> None:
    if len(profiles) != 1:
        raise MapscopeError(
            str(folded or speedscope or proto), f"exports take one profile, the sources gave {len(profiles)}"
        )
    profile, index = profiles[0]
    if proto is not None:
        write_atomic_bytes(
            proto, profile_proto.encode(cause_frames.with_cause_frames(profile, causes[0], map_only))
        )
    if folded is not None:
        write_atomic(folded, profile_export.folded(profile, index, causes[0]))
    if speedscope is not None:
        write_atomic(
            speedscope, profile_export.speedscope(profile, index, causes[0], Path(profile.source).name)
        )


def _html(
    path: Path,
    profiles: list[tuple[Profile, int]],
    causes: list[list[str | None]],
    reports: list[SiteReport],
    found: ProfileDiff | None,
    rows: int,
) -> None:
    """The page of one profile, or of BASE -> NEW with --diff."""
    if found is None and len(profiles) != 1:
        raise MapscopeError(
            str(path), f"--html takes one profile (or --diff BASE NEW), the sources gave {len(profiles)}"
        )
    inputs = [
        flame.FlameInput(profile, index, causes_of)
        for (profile, index), causes_of in zip(profiles, causes, strict=True)
    ]
    tree = flame.flame_tree(inputs)
    page = (
        profile_html.render_diff(found, tree, rows)
        if found is not None
        else profile_html.render_report(reports[0], tree, rows)
    )
    write_atomic(path, page)


def register(cli: click.Group) -> None:
    @cli.command("profile")
    @click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
    @click.option(
        "--sample",
        metavar="TYPE",
        help="Sample type, as pprof's -sample_index: alloc_space, inuse_space, alloc_objects, cpu, ... "
        "(default: the profile's default).",
    )
    @click.option(
        "--source",
        "source_dir",
        type=click.Path(path_type=Path),
        help="Go source tree: read the sites' lines to find map types and what each line does.",
    )
    @click.option(
        "--binary",
        type=click.Path(path_type=Path),
        help="The profiled Go binary (ELF, amd64): names legacy text profiles' PCs (runtime frames and "
        "inlined calls included) and finds what each call site calls; checked against the profile's build ID. "
        "Without it, the binary the profile names is used when it is here.",
    )
    @click.option("--go", "go", metavar="VERSION", help="Go release the profile came from (default: detect).")
    @click.option("--goexperiment", metavar="NAME", help="noswissmap: bucket maps on Go 1.24/1.25.")
    @click.option("--top", "top_rows", type=Count(), default=DEFAULT_TOP_ROWS, show_default=True,
                  help="Rows of the profile's top to print after the map sites.")  # fmt: skip
    @click.option("--sites", "site_rows", type=Count(), default=DEFAULT_SITES, show_default=True,
                  help="Map sites (or --diff rows) to print, largest first; also on the --html page.")  # fmt: skip
    @click.option("--diff", "compare", is_flag=True, help="Compare two profiles (SOURCE is BASE NEW): per site "
                  "and cause, what grew.")  # fmt: skip
    @click.option("--folded", type=click.Path(path_type=Path), help="Also write folded stacks here, with the "
                  "map cause as a leaf frame (`[map: growth]`).")  # fmt: skip
    @click.option("--speedscope", type=click.Path(path_type=Path), help="Also write a speedscope JSON file "
                  "here, with the map cause as a leaf frame.")  # fmt: skip
    @click.option("--proto", type=click.Path(path_type=Path), help="Also write the profile as gzipped "
                  "profile.proto here, for go tool pprof, with the map cause as a leaf frame.")  # fmt: skip
    @click.option("--map-only", is_flag=True, help="With --proto: keep only the samples with a map cause.")
    @click.option("--html", "html", type=click.Path(path_type=Path), help="Also write a self-contained HTML "
                  "page here: flame graph (zoom, search, sample types; diff colours with --diff) and the map "
                  "sites.")  # fmt: skip
    @click.option("--json", "json_output", is_flag=True, help="Print JSON.")
    def profile(
        sources: tuple[str, ...],
        sample: str | None,
        source_dir: Path | None,
        binary: Path | None,
        go: str | None,
        goexperiment: str | None,
        top_rows: int,
        site_rows: int,
        compare: bool,
        folded: Path | None,
        speedscope: Path | None,
        proto: Path | None,
        map_only: bool,
        html: Path | None,
        json_output: bool,
    ) -> None:
        """Map sites of Go profiles (files, directories or http(s) URLs): bytes, objects or CPU per site
        and cause (initial allocation, growth, overflow, out-of-line keys/values, boxing; or lookup,
        insert, growth, delete, iterate, clear, hash), then the rest of the profile's top."""
        target = Target.parse(go, goexperiment) if go or goexperiment else None
        target_from = "--go"
        if target is None and binary is not None:
            target, target_from = _built_with(binary)
        tree = _sources(source_dir)
        if compare and len(sources) != 2:
            raise click.UsageError("--diff takes two sources: BASE NEW")
        if map_only and proto is None:
            raise click.UsageError("--map-only goes with --proto FILE")
        roots = [(t.release, t.go.parent.parent / "src") for t in reversed(gotoolchain.installed())]
        reports: list[SiteReport] = []
        skipped: list[tuple[str, str]] = []
        profiles: list[tuple[Profile, int]] = []
        for source in sources:
            with _reading_progress() as progress:
                loaded = profile_source.load(source, binary=binary, progress=progress)
            if compare and len(loaded.profiles) != 1:
                raise MapscopeError(
                    source, f"--diff needs one profile per source, found {len(loaded.profiles)}"
                )
            skipped.extend(loaded.skipped)
            for profile in loaded.profiles:
                index = sample_index(profile, sample)
                profiles.append((profile, index))
                stdlib = go_stdlib.find(profile.functions, roots)
                reports.append(attribute(profile, index, tree, target, target_from, stdlib))
        causes = _causes(profiles, reports) if folded or speedscope or proto or html else []
        if folded is not None or speedscope is not None or proto is not None:
            _export(profiles, causes, folded, speedscope, proto, map_only)
        found = diff(reports[0], reports[1]) if compare else None
        if html is not None:
            _html(html, profiles, causes, reports, found, site_rows)
        if found is not None:
            if json_output:
                click.echo(dumps(found))
            else:
                console().print(diff_view(found, site_rows))
            return
        if json_output:
            payload = {
                "profiles": [report_json(report) for report in reports],
                "skipped": [{"file": name, "problem": problem} for name, problem in skipped],
            }
            click.echo(dumps(payload))
            return
        out = console()
        for position, report in enumerate(reports):
            if position:
                out.print()
            out.print(report_view(report, top_rows, site_rows))
        for name, problem in skipped:
            out.print(f"skipped {name}: {problem}")
