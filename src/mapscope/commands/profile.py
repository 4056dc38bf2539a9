"""`mapscope profile SOURCE...`: which map sites of a Go profile allocate or burn CPU, and why."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.progress import Progress

from mapscope.atomicfile import write_atomic, write_atomic_bytes
from mapscope.commands.count_option import Count
from mapscope.errors import MapscopeError
from mapscope.model.versions import Target
from mapscope.pipelines.profile import ProfileRequest, ProfileRun, run_profiles
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
    with Progress(console=console(stderr=True, pipe_width=None), transient=True) as bar:
        task = bar.add_task("reading", total=None, visible=False)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total >= _PROGRESS_MIN_BYTES)

        yield update


def _export(
    run: ProfileRun, folded: Path | None, speedscope: Path | None, proto: Path | None, map_only: bool
) -> None:
    what = str(folded or speedscope or proto)
    profile, index, causes = run.single(what)
    if proto is not None:
        write_atomic_bytes(proto, profile_proto.encode(run.with_cause_frames(what, map_only)))
    if folded is not None:
        write_atomic(folded, profile_export.folded(profile, index, causes))
    if speedscope is not None:
        write_atomic(speedscope, profile_export.speedscope(profile, index, causes, Path(profile.source).name))


def _html(path: Path, run: ProfileRun, rows: int) -> None:
    """The page of one profile, or of BASE -> NEW with --diff."""
    if run.diff is None and len(run.profiles) != 1:
        raise MapscopeError(
            str(path), f"--html takes one profile (or --diff BASE NEW), the sources gave {len(run.profiles)}"
        )
    tree = run.flame_tree()
    page = (
        profile_html.render_diff(run.diff, tree, rows)
        if run.diff is not None
        else profile_html.render_report(run.reports[0], tree, rows)
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
        if compare and len(sources) != 2:
            raise click.UsageError("--diff takes two sources: BASE NEW")
        if map_only and proto is None:
            raise click.UsageError("--map-only goes with --proto FILE")
        exports = folded is not None or speedscope is not None or proto is not None
        request = ProfileRequest(
            sources=sources,
            sample=sample,
            source_dir=source_dir,
            binary=binary,
            target=Target.parse(go, goexperiment) if go or goexperiment else None,
            compare=compare,
            causes=exports or html is not None,
        )
        run = run_profiles(request, _reading_progress)
        if exports:
            _export(run, folded, speedscope, proto, map_only)
        if html is not None:
            _html(html, run, site_rows)
        found = run.diff
        if found is not None:
            if json_output:
                click.echo(dumps(found))
            else:
                console().print(diff_view(found, site_rows))
            return
        if json_output:
            payload = {
                "profiles": [report_json(report) for report in run.reports],
                "skipped": [{"file": name, "problem": problem} for name, problem in run.skipped],
            }
            click.echo(dumps(payload))
            return
        out = console()
        for position, report in enumerate(run.reports):
            if position:
                out.print()
            out.print(report_view(report, top_rows, site_rows))
        for name, problem in run.skipped:
            out.print(f"skipped {name}: {problem}")
