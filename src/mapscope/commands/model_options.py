"""Options shared by the model commands (size, simulate, compare, measure): the map type and the Go target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mapscope import gotoolchain
from mapscope.errors import MapscopeError
from mapscope.gotoolchain import Toolchain
from mapscope.model.gotypes import GoType, MapType
from mapscope.model.versions import GoVersion, Target
from mapscope.readers.gotype_source import parse_map_type, parse_type

F = TypeVar("F", bound=Callable[..., Any])

WORKLOAD = (
    "Workload: keys 0..N-1 inserted in order (string keys are their decimal strings, built beforehand and "
    "not counted; array and struct keys carry i in their first bytes); churn keys are N..2N-1; an interface "
    "key or value holds the int i (no allocation below 256, the tiny allocator above) unless --boxed names "
    "another dynamic type; values are zero values. The map escapes to the heap; a GC runs after each "
    "operation."
)


def declarations(types: str | None) -> str:
    """--types: Go type declarations, inline or a .go file."""
    if not types:
        return ""
    if types.endswith(".go"):
        path = Path(types)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise MapscopeError(types, f"cannot read: {error.strerror}") from None
        except UnicodeDecodeError:
            raise MapscopeError(types, "not UTF-8 Go source") from None
    return types


def load_map_type(text: str, types: str | None) -> MapType:
    return parse_map_type(text, declarations(types))


def load_boxed(boxed: str | None, types: str | None) -> GoType | None:
    return parse_type(boxed, declarations(types)) if boxed else None


def installed_target(go: str | None, goexperiment: str | None) -> tuple[Target, Toolchain]:
    """The target and the installed toolchain a command runs Go with: `--go 1.25` is the newest installed
    1.25.x, no --go the newest installed patch of the newest modelled minor; never a download."""
    modelled = Target.parse(go, goexperiment)
    toolchain = gotoolchain.resolve(go or f"1.{modelled.version.minor}")
    return Target(GoVersion.from_release(toolchain.release), modelled.noswissmap), toolchain


def type_options(command: F) -> F:
    for option in reversed(
        [
            click.option("--types", help="Go type declarations used by TYPE, inline or a .go file."),
            click.option(
                "--boxed", metavar="TYPE", help="Dynamic type held by interface keys/values (default int)."
            ),
        ]
    ):
        command = option(command)
    return command


def target_options(command: F) -> F:
    for option in reversed(
        [
            click.option(
                "--go",
                "go",
                metavar="VERSION",
                help="Go release, e.g. 1.24 or 1.24.11 (default newest). Running Go takes an installed "
                "toolchain: 1.24 is the newest installed 1.24.x.",
            ),
            click.option("--goexperiment", metavar="NAME", help="noswissmap: bucket maps on Go 1.24/1.25."),
            click.option("--json", "json_output", is_flag=True, help="Print JSON."),
        ]
    ):
        command = option(command)
    return command
