"""`mapscope profile SOURCE...`: which map sites of a Go profile allocate or burn CPU, and why."""

from __future__ import annotations

from pathlib import Path

import click

from mapscope.analyses.map_sites import SiteReport, attribute
from mapscope.errors import MapscopeError
from mapscope.model.versions import Target
from mapscope.readers import profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import sample_index
from mapscope.renderers.jsonout import dumps
from mapscope.renderers.model_terminal import console
from mapscope.renderers.profile_json import report_json
from mapscope.renderers.profile_terminal import DEFAULT_TOP_ROWS, report_view


def _sources(directory: Path | None) -> SourceTree | None:
    if directory is None:
        return None
    if not directory.is_dir():
        raise MapscopeError(str(directory), "not a directory (--source takes the Go source tree)")
    return SourceTree(directory)


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
        help="The profiled binary: symbolizes legacy text profiles, runtime frames included.",
    )
    @click.option("--go", "go", metavar="VERSION", help="Go release the profile came from (default: detect).")
    @click.option("--goexperiment", metavar="NAME", help="noswissmap: bucket maps on Go 1.24/1.25.")
    @click.option("--top", "top_rows", type=click.IntRange(0), default=DEFAULT_TOP_ROWS, show_default=True,
                  help="Rows of the profile's top to print after the map sites.")  # fmt: skip
    @click.option("--json", "json_output", is_flag=True, help="Print JSON.")
    def profile(
        sources: tuple[str, ...],
        sample: str | None,
        source_dir: Path | None,
        binary: Path | None,
        go: str | None,
        goexperiment: str | None,
        top_rows: int,
        json_output: bool,
    ) -> None:
        """Map sites of Go profiles (files, directories or http(s) URLs): bytes, objects or CPU per site
        and cause (initial allocation, growth, overflow, out-of-line keys/values, boxing; or lookup,
        insert, growth, delete, iterate, clear, hash), then the rest of the profile's top."""
        target = Target.parse(go, goexperiment) if go or goexperiment else None
        tree = _sources(source_dir)
        reports: list[SiteReport] = []
        skipped: list[tuple[str, str]] = []
        for source in sources:
            loaded = profile_source.load(source, binary=binary)
            skipped.extend(loaded.skipped)
            for profile in loaded.profiles:
                reports.append(attribute(profile, sample_index(profile, sample), tree, target))
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
            out.print(report_view(report, top_rows))
        for name, problem in skipped:
            out.print(f"skipped {name}: {problem}")
