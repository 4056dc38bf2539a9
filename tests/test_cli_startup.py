"""`mapscope --version` and `--help` import click and the command table only: each command's module, and
numpy, rich, jinja2 or protobuf with it, loads when that command runs (bench/cli_startup.py has the CPU)."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from mapscope.cli import COMMANDS, build_cli

HEAVY = {"numpy", "rich", "jinja2", "markupsafe", "google", "tree_sitter", "tree_sitter_go", "elftools"}

PROBE = """
import json, sys
from mapscope.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {heavy} or m.startswith("mapscope.commands."))
print("\\n" + json.dumps(loaded), file=sys.stderr)
"""


def loaded_by(*args: str) -> list[str]:
    """The heavy and command modules in sys.modules after `mapscope ARGS` ran in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=sorted(HEAVY)), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(done.stderr.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"], []])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    assert loaded_by(*args) == []


def test_import_mapscope_is_light() -> None:
    code = f"import sys, mapscope, mapscope.cli; print(sorted(set(m.split('.')[0] for m in sys.modules) & set({sorted(HEAVY)})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_command_help_imports_that_command_only() -> None:
    loaded = loaded_by("go", "--help")
    assert [m for m in loaded if m.startswith("mapscope.commands.")] == ["mapscope.commands.go_toolchain"]


def test_help_lists_every_command_of_the_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "--help"], capture_output=True, text=True, check=True
    )
    listed = done.stdout.split("Commands:")[1].splitlines()
    for name, entry in COMMANDS.items():
        assert any(line.split()[:1] == [name] and entry.short_help in line for line in listed), name
    assert "1e6" in done.stdout and "10k" in done.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_table_entry_loads_its_command(name: str) -> None:
    cli = build_cli()
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", name, "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: mapscope {name} ")
