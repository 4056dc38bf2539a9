"""The command after `mapscope run --`, split into what to build and what to run.

`go test` and `go run` are not run as given. `go test` writes the test binary's stderr into its own stdout,
so the runtime's trace lines would land inside benchmark result lines, and a GODEBUG set for the go
command reaches the compiler and linker too, whose own gctrace lines would mix with the program's. So
mapscope builds first (`go test -c`, `go build`), without the trace settings, and then runs the binary
itself with stdout and stderr kept apart, the way `go test` would run it.

Arguments are sorted as cmd/go's test flag parser sorts them: build flags go to the build; test flags go
to the binary as `-test.name=value` (`-bench .` and `-test.bench=.` alike); a flag go does not know goes to
the binary verbatim and ends the package list; after the package list, a bare word is the value of a
preceding unknown flag that had none, else it and everything after it go to the binary; `-args` hands
the rest to the binary, and so does `--` (itself included).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from mapscope.errors import MapscopeError

# Build flags of `go test` and `go run` (cmd/go's AddBuildFlags, cover and vet flags).
_BUILD_VALUE_FLAGS = frozenset(
    {
        "p", "asmflags", "compiler", "buildmode", "gcflags", "gccgoflags", "mod", "modfile", "overlay",
        "installsuffix", "ldflags", "pgo", "pkgdir", "tags", "toolexec", "covermode", "coverpkg",
        "debug-actiongraph", "debug-runtime-trace", "debug-trace",
    }
)  # fmt: skip
_BUILD_BOOL_FLAGS = frozenset(
    {
        "a",
        "n",
        "x",
        "asan",
        "msan",
        "race",
        "linkshared",
        "modcacherw",
        "trimpath",
        "work",
        "cover",
        "buildvcs",
    }
)
# Build flags that change which packages and files there are, so `go list` must see them too.
_SELECTING_FLAGS = frozenset({"tags", "mod", "modfile", "overlay"})
# Flags `go test` forwards to the test binary (cmd/go/internal/test/flagdefs.go).
_TEST_VALUE_FLAGS = frozenset(
    {
        "bench", "benchtime", "blockprofile", "blockprofilerate", "count", "coverprofile", "cpu",
        "cpuprofile", "fuzz", "fuzzminimizetime", "fuzztime", "list", "memprofile", "memprofilerate",
        "mutexprofile", "mutexprofilefraction", "outputdir", "parallel", "run", "shuffle", "skip",
        "timeout", "trace",
    }
)  # fmt: skip
_TEST_BOOL_FLAGS = frozenset({"artifacts", "benchmem", "failfast", "fullpath", "short", "v"})
# Test flags that write files: `go test` resolves them against its own working directory.
PROFILE_FLAGS = frozenset(
    {"blockprofile", "coverprofile", "cpuprofile", "memprofile", "mutexprofile", "trace", "artifacts"}
)
_REFUSED = {
    "c": "mapscope builds the test binary itself and keeps it in the run directory",
    "o": "mapscope keeps the test binary in the run directory (bin/)",
    "i": "go test -i no longer exists",
    "json": "mapscope reads the text output; drop -json (the run directory keeps the text)",
    "exec": "mapscope runs the binary itself, so -exec cannot apply",
    "fuzz": "fuzzing needs go test's own driver; run it without mapscope",
}
# `go test`'s default timeout, which the test binary only has when told.
DEFAULT_TEST_TIMEOUT = "10m0s"


@dataclass(frozen=True)
class GoTest:
    """`go test`: `build_flags` for `go test -c` (`list_flags`, those that select packages, for
    `go list` too), `packages` as given (none means the current directory),
    `binary_args` for each test binary in the order given (test flags already as `-test.name=value`),
    `test_flags` the short names of the test flags the user set."""

    chdir: str | None
    build_flags: tuple[str, ...]
    list_flags: tuple[str, ...]
    packages: tuple[str, ...]
    binary_args: tuple[str, ...]
    test_flags: frozenset[str]


@dataclass(frozen=True)
class GoRun:
    """`go run`: `target` is one package or a list of .go files; `args` go to the program."""

    chdir: str | None
    build_flags: tuple[str, ...]
    target: tuple[str, ...]
    args: tuple[str, ...]


@dataclass(frozen=True)
class Program:
    """Any other command: run as it is."""

    argv: tuple[str, ...]


Command = GoTest | GoRun | Program


@dataclass(frozen=True)
class _Flag:
    """One flag argument: its name without dashes or `test.`, its value if written `-name=value`."""

    raw: str
    name: str
    value: str | None
    test_prefixed: bool


def _flag(arg: str) -> _Flag | None:
    """The flag an argument spells, None for a non-flag (`-` alone, or no leading dash)."""
    if len(arg) < 2 or arg[0] != "-" or arg == "--":
        return None
    body = arg[2:] if arg[1] == "-" else arg[1:]
    if not body or body[0] in "-=":
        return None
    name, eq, value = body.partition("=")
    prefixed = name.startswith("test.")
    return _Flag(arg, name.removeprefix("test.") if prefixed else name, value if eq else None, prefixed)


def is_go(program: str) -> bool:
    return os.path.basename(program) == "go"


def parse_command(argv: tuple[str, ...]) -> Command:
    """Sort the command after `--`; MapscopeError for what mapscope cannot run as asked."""
    if not argv:
        raise MapscopeError("mapscope run", "no command given after --")
    if not is_go(argv[0]):
        return Program(argv)
    if len(argv) < 2 or argv[1] not in ("test", "run"):
        sub = argv[1] if len(argv) > 1 else ""
        raise MapscopeError(f"go {sub}".strip(), "mapscope run runs `go test`, `go run` or a program")
    rest = list(argv[2:])
    chdir = None
    if rest and (flag := _flag(rest[0])) is not None and flag.name == "C":
        chdir, rest = _take_value(flag, rest)
    if argv[1] == "test":
        return _parse_test(chdir, rest)
    return _parse_run(chdir, rest)


def _take_value(flag: _Flag, args: list[str]) -> tuple[str, list[str]]:
    """The flag's value and the arguments after it (the value may be the next argument)."""
    if flag.value is not None:
        return flag.value, args[1:]
    if len(args) < 2:
        raise MapscopeError(flag.raw, "flag needs an argument")
    return args[1], args[2:]


def _refuse(flag: _Flag) -> None:
    if flag.name in _REFUSED and not flag.test_prefixed:
        raise MapscopeError(flag.raw, f"not supported by mapscope run: {_REFUSED[flag.name]}")
    if flag.name == "C":
        raise MapscopeError(flag.raw, "-C must be the first flag (as go requires)")


def _parse_test(chdir: str | None, args: list[str]) -> GoTest:
    build: list[str] = []
    selecting: list[str] = []
    packages: list[str] | None = None
    binary: list[str] = []
    test_flags: set[str] = set()
    in_packages = False
    after_valueless_unknown = False
    while args:
        arg = args[0]
        was_after_valueless = after_valueless_unknown
        after_valueless_unknown = False
        if arg == "--":
            binary.extend(args)
            break
        flag = _flag(arg)
        if flag is None:
            if not in_packages and packages is not None:
                if was_after_valueless:
                    binary.append(arg)
                    args = args[1:]
                    continue
                binary.extend(args)
                break
            in_packages = True
            packages = [*(packages or []), arg]
            args = args[1:]
            continue
        in_packages = False
        if flag.name == "args" and not flag.test_prefixed and flag.value is None:
            binary.extend(args[1:])
            packages = packages if packages is not None else []
            break
        _refuse(flag)
        if flag.name in _TEST_VALUE_FLAGS:
            value, args = _take_value(flag, args)
            binary.append(f"-test.{flag.name}={value}")
            test_flags.add(flag.name)
        elif flag.name in _TEST_BOOL_FLAGS:
            binary.append(f"-test.{flag.name}={'true' if flag.value is None else flag.value}")
            test_flags.add(flag.name)
            args = args[1:]
        elif flag.test_prefixed or flag.name in ("paniconexit0", "testlogfile", "gocoverdir"):
            # Another -test.* flag of the testing package (or one go test sets itself): for the binary.
            binary.append(arg)
            args = args[1:]
        elif flag.name in _BUILD_VALUE_FLAGS or flag.name == "vet":
            value, args = _take_value(flag, args)
            given = (arg,) if flag.value is not None else (arg, value)
            build.extend(given)
            if flag.name in _SELECTING_FLAGS:
                selecting.extend(given)
        elif flag.name in _BUILD_BOOL_FLAGS:
            build.append(arg)
            args = args[1:]
        else:
            packages = packages if packages is not None else []
            binary.append(arg)
            after_valueless_unknown = flag.value is None
            args = args[1:]
    if "coverprofile" in test_flags and "cover" not in _names(build):
        build.append("-cover")  # as go test does: a cover profile needs a binary built for coverage
    return GoTest(
        chdir, tuple(build), tuple(selecting), tuple(packages or ()), tuple(binary), frozenset(test_flags)
    )


def _names(args: list[str]) -> set[str]:
    return {flag.name for flag in map(_flag, args) if flag is not None}


def _parse_run(chdir: str | None, args: list[str]) -> GoRun:
    build: list[str] = []
    while args:
        arg = args[0]
        if arg == "--":
            args = args[1:]
            break
        flag = _flag(arg)
        if flag is None:
            break
        _refuse(flag)
        if flag.name in _BUILD_VALUE_FLAGS:
            value, args = _take_value(flag, args)
            build.extend((arg,) if flag.value is not None else (arg, value))
        elif flag.name in _BUILD_BOOL_FLAGS or flag.name == "v":
            build.append(arg)
            args = args[1:]
        else:
            raise MapscopeError(arg, "flag provided but not defined by go run")
    if not args:
        raise MapscopeError("go run", "no package or .go files named")
    if args[0].endswith(".go"):
        count = next((i for i, arg in enumerate(args) if not arg.endswith(".go")), len(args))
        return GoRun(chdir, tuple(build), tuple(args[:count]), tuple(args[count:]))
    return GoRun(chdir, tuple(build), (args[0],), tuple(args[1:]))
