"""`mapscope run` without running Go: how commands are sorted into build and run, GODEBUG merging, the
manifest's checks against hostile run directories, and the errors users see."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mapscope.errors import MapscopeError
from mapscope.readers.go_buildinfo import go_version
from mapscope.runner.gocommand import GoRun, GoTest, Program, parse_command
from mapscope.runner.manifest import (
    FORMAT,
    FileEntry,
    Manifest,
    Role,
    Status,
    Step,
    file_path,
    read_manifest,
    write_manifest,
)
from mapscope.runner.session import merge_godebug


def go_test(*args: str) -> GoTest:
    command = parse_command(("go", "test", *args))
    assert isinstance(command, GoTest)
    return command


def test_test_flags_go_to_the_binary_in_both_spellings() -> None:
    command = go_test("-bench", ".", "-benchmem", "-count=10", "-test.run", "^$", "-v", "./pkg")
    assert command.packages == ("./pkg",)
    assert command.binary_args == (
        "-test.bench=.",
        "-test.benchmem=true",
        "-test.count=10",
        "-test.run=^$",
        "-test.v=true",
    )
    assert command.test_flags == {"bench", "benchmem", "count", "run", "v"}
    assert command.build_flags == ()


def test_build_flags_go_to_the_build_and_selecting_ones_to_go_list() -> None:
    command = go_test("-tags", "fast", "-race", "-gcflags=-N -l", "-mod=vendor", "./a", "./b")
    assert command.build_flags == ("-tags", "fast", "-race", "-gcflags=-N -l", "-mod=vendor")
    assert command.list_flags == ("-tags", "fast", "-mod=vendor")
    assert command.packages == ("./a", "./b")
    assert command.binary_args == ()


def test_flags_after_the_package_list_and_args_tail() -> None:
    command = go_test("./pkg", "-count", "3", "-args", "-custom", "x", "./notapackage")
    assert command.packages == ("./pkg",)
    assert command.binary_args == ("-test.count=3", "-custom", "x", "./notapackage")


def test_unknown_flags_end_the_package_list_as_go_test_does() -> None:
    # An unknown flag without a value may take the next word as its value; after that, a bare word and
    # everything after it goes to the binary.
    command = go_test("-myflag", "value", "./pkg", "-bench", ".")
    assert command.packages == ()
    assert command.binary_args == ("-myflag", "value", "./pkg", "-bench", ".")
    command = go_test("./pkg", "-myflag=1", "word", "-count", "2")
    assert command.packages == ("./pkg",)
    assert command.binary_args == ("-myflag=1", "word", "-count", "2")


def test_terminator_and_cover_profile() -> None:
    command = go_test("-coverprofile", "c.out", "--", "-x")
    assert command.binary_args == ("-test.coverprofile=c.out", "--", "-x")
    assert command.build_flags == ("-cover",)


def test_chdir_must_come_first() -> None:
    assert go_test("-C", "sub", "-bench", ".").chdir == "sub"
    with pytest.raises(MapscopeError, match="first flag"):
        go_test("-bench", ".", "-C", "sub")


@pytest.mark.parametrize("flag", ["-c", "-o=x.test", "-json", "-exec=wrapper", "-fuzz=FuzzX"])
def test_refused_flags_say_why(flag: str) -> None:
    with pytest.raises(MapscopeError, match="not supported by mapscope run"):
        go_test(flag)


def test_missing_flag_value() -> None:
    with pytest.raises(MapscopeError, match="needs an argument"):
        go_test("-bench")


def test_go_run_package_files_and_program_args() -> None:
    command = parse_command(("go", "run", "-race", ".", "-port", "8080"))
    assert command == GoRun(None, ("-race",), (".",), ("-port", "8080"))
    command = parse_command(("go", "run", "main.go", "util.go", "arg.go.txt"))
    assert command == GoRun(None, (), ("main.go", "util.go"), ("arg.go.txt",))
    with pytest.raises(MapscopeError, match="no package"):
        parse_command(("go", "run", "-race"))


def test_other_commands() -> None:
    assert parse_command(("./server", "-port", "1")) == Program(("./server", "-port", "1"))
    assert isinstance(parse_command(("/usr/local/go/bin/go", "test")), GoTest)
    with pytest.raises(MapscopeError, match="runs `go test`, `go run` or a program"):
        parse_command(("go", "build", "."))
    with pytest.raises(MapscopeError, match="no command"):
        parse_command(())


@pytest.mark.parametrize(
    ("user", "merged"),
    [
        ("", "gctrace=1,gcpacertrace=1"),
        ("madvdontneed=1", "madvdontneed=1,gctrace=1,gcpacertrace=1"),
        ("gctrace=2,x=1", "gctrace=2,x=1,gcpacertrace=1"),
        ("gctrace=0,gcpacertrace=0", "gctrace=1,gcpacertrace=1"),
        ("a=1,,b=2,", "a=1,b=2,gctrace=1,gcpacertrace=1"),
    ],
)
def test_godebug_is_merged_into_the_users(user: str, merged: str) -> None:
    assert merge_godebug(user) == merged


def manifest(**changes: object) -> Manifest:
    base = Manifest(
        format=FORMAT,
        mapscope_version="0",
        status=Status.OK,
        exit_code=0,
        command=("go", "test", "."),
        kind="go test",
        cwd="/somewhere",
        go_release="1.27.3",
        go_binary=None,
        godebug="gctrace=1,gcpacertrace=1",
        environment=(("GODEBUG", "gctrace=1,gcpacertrace=1"),),
        host=(("system", "Linux"),),
        started_utc="2026-01-01T00:00:00Z",
        finished_utc="2026-01-01T00:00:01Z",
        seconds=1.0,
        steps=(Step("run", None, ("x",), "/", 0.0, 1.0, None, "SIGINT", 0.5, 0.1, 1000),),
        files=(FileEntry("stdout.txt", Role.STDOUT, None, 0, "0" * 64),),
        notes=("a note",),
    )
    return Manifest(**{**base.__dict__, **changes})


def test_manifest_round_trip(tmp_path: Path) -> None:
    written = manifest()
    write_manifest(tmp_path, written)
    assert read_manifest(tmp_path) == written
    assert not [p for p in tmp_path.iterdir() if p.name != "manifest.json"]  # no temporary left behind


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d.update(status="great"), "not one of"),
        (lambda d: d.update(exit_code="0"), "exit_code"),
        (lambda d: d.update(exit_code=True), "exit_code"),
        (lambda d: d["steps"][0].update(argv=[1]), "argv"),
        (lambda d: d.update(environment={"A": 1}), "environment"),
        (lambda d: d["files"][0].update(path="../etc/passwd"), "not inside"),
        (lambda d: d["files"][0].update(path="/etc/passwd"), "not inside"),
        (lambda d: d.update(files="x"), "files"),
        (lambda d: d.clear(), "format"),
    ],
)
def test_hostile_manifests_are_refused(tmp_path: Path, edit: object, problem: str) -> None:
    data = manifest().to_json()
    edit(data)  # type: ignore[operator]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(MapscopeError, match=problem):
        read_manifest(tmp_path)


def test_manifest_that_is_not_json_or_too_deep(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_bytes(b"\xff\x00not json")
    with pytest.raises(MapscopeError, match="not JSON"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("[" * 100000)
    with pytest.raises(MapscopeError, match="not JSON"):
        read_manifest(tmp_path)
    with pytest.raises(MapscopeError, match="cannot read"):
        read_manifest(tmp_path / "missing")


def test_a_link_out_of_the_run_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stdout.txt").symlink_to("/etc/hostname")
    with pytest.raises(MapscopeError, match="outside the run directory"):
        file_path(tmp_path, FileEntry("stdout.txt", Role.STDOUT, None, 0, ""))


def test_buildinfo_of_files_that_are_not_go_binaries(tmp_path: Path) -> None:
    assert go_version(Path(sys.executable)) is None
    fake = tmp_path / "fake"
    # The magic with a version flag but a length running past the end, then one that is fine.
    header = b"\xff Go buildinf:" + b"\x08\x02" + b"\0" * 16
    fake.write_bytes(b"x" * 100 + header + b"\x7f" + b"go1" + b"y" * 10 + header + b"\x09go1.22.10")
    assert go_version(fake) == "go1.22.10"
    assert go_version(tmp_path / "missing") is None


def mapscope(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    cases = [
        (("run", "--out", "used", "--", "true"), "not an empty directory"),
        (("run", "--", "./no-such-program"), "not an executable file"),
        (("run", "--", "no-such-program-anywhere"), "not found on PATH"),
        (("run", "--", "go", "build", "."), "runs `go test`"),
        (("report", "nothing-here"), "cannot read"),
    ]
    for args, problem in cases:
        done = mapscope(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("mapscope: error: ") and problem in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "mapscope-runs").exists()
