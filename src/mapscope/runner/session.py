"""One `mapscope run`: plan the steps for the command, run them into a fresh run directory, and keep its
manifest up to date after every step.

Layout of a run directory:
  manifest.json        what ran and how it ended (runner/manifest.py)
  stdout.txt           the program's stdout (for `go test`: every package's test binary, in order)
  stderr.txt           the program's stderr, where the runtime writes its gctrace/gcpacertrace lines
  arrivals.txt         the order in which stdout and stderr lines arrived (which GC ran during which
                       benchmark)
  build.log            output of `go list` and of the builds
  bin/                 the binaries that ran (test binaries kept for symbolizing the profiles)
  profiles/            CPU and heap profiles and execution traces, one set per test package

Whatever happens (a failing test, a crash, a build error, Ctrl-C), the directory ends up with a manifest
that says so and lists the files, and the run's exit status is non-zero.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from mapscope import __version__, gotoolchain
from mapscope.errors import MapscopeError
from mapscope.progress import Spinner
from mapscope.readers.go_buildinfo import go_version
from mapscope.runner import child
from mapscope.runner.child import ArrivalSink, BufferSink, EchoSink, FileSink, Outcome, Sink, StopRequest
from mapscope.runner.gocommand import (
    DEFAULT_TEST_TIMEOUT,
    PROFILE_FLAGS,
    GoRun,
    GoTest,
    Program,
    parse_command,
)
from mapscope.runner.manifest import FORMAT, FileEntry, Manifest, Role, Status, Step, write_manifest

DEFAULT_MEMPROFILERATE = 64 << 10
DEFAULT_GRACE_SECONDS = 10.0
# The trace settings mapscope adds; a user's own non-zero setting of either wins.
TRACE_SETTINGS = (("gctrace", "1"), ("gcpacertrace", "1"))


@dataclass(frozen=True)
class RunOptions:
    """What `mapscope run` was asked: `echo_stdout_to_stderr` keeps stdout free for --json; `progress`
    shows a status line while go list and builds run (a terminal's stderr only)."""

    command: tuple[str, ...]
    out: Path | None
    go: str | None
    go_bin: str | None
    profiles: bool
    memprofilerate: int
    show_trace: bool
    grace_seconds: float
    echo_stdout_to_stderr: bool
    progress: bool


def merge_godebug(user: str) -> str:
    """The user's GODEBUG with gctrace and gcpacertrace switched on (kept where already non-zero)."""
    entries = [entry for entry in user.split(",") if entry]
    for key, value in TRACE_SETTINGS:
        found = [i for i, entry in enumerate(entries) if entry.partition("=")[0] == key]
        if not found:
            entries.append(f"{key}={value}")
            continue
        for index in found:
            if entries[index].partition("=")[2] in ("", "0"):
                entries[index] = f"{key}={value}"
    return ",".join(entries)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "main"


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_run_dir(out: Path | None) -> Path:
    """A new, empty run directory: `out` (which may exist if empty), else mapscope-runs/<time>[-N]."""
    if out is not None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise MapscopeError(str(out), "exists and is not an empty directory (runs never overwrite)")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MapscopeError(str(out), f"cannot create: {error.strerror or error}") from None
        return out
    base = Path("mapscope-runs") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        candidate = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            continue
        except OSError as error:
            raise MapscopeError(str(candidate), f"cannot create: {error.strerror or error}") from None
        return candidate
    raise MapscopeError(str(base), "too many runs started in the same second")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Package:
    import_path: str
    dir: Path
    has_tests: bool


@dataclass
class _Session:
    """The state of one run while it goes (local to `execute`)."""

    options: RunOptions
    run_dir: Path
    cwd: Path
    stop: StopRequest
    manifest: Manifest
    clock: float
    expected: list[tuple[str, Role, str | None]] = field(default_factory=list)
    failures: list[tuple[str, int]] = field(default_factory=list)
    # Lines completed so far in stdout.txt ("o") and stderr.txt ("e"), for arrivals.txt.
    line_counts: dict[str, int] = field(default_factory=lambda: {"o": 0, "e": 0})

    def save(self, **changes: object) -> None:
        self.manifest = replace(self.manifest, **changes)  # type: ignore[arg-type]
        write_manifest(self.run_dir, self.manifest)

    def expect(self, relative: str, role: Role, package: str | None) -> Path:
        """A file the run will write, listed in the manifest when it exists at the end."""
        if all(path != relative for path, _, _ in self.expected):
            self.expected.append((relative, role, package))
        path = (self.run_dir / relative).resolve()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MapscopeError(str(path.parent), f"cannot create: {error.strerror or error}") from None
        return path

    def note(self, text: str) -> None:
        self.manifest = replace(self.manifest, notes=(*self.manifest.notes, text))

    def terminal(self, stream: str) -> Sink:
        if stream == "stdout" and not self.options.echo_stdout_to_stderr:
            return EchoSink(sys.stdout.buffer, hide_trace=False)
        return EchoSink(sys.stderr.buffer, hide_trace=stream == "stderr" and not self.options.show_trace)

    def step(
        self,
        phase: str,
        package: str | None,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        stdout: list[Sink] | None = None,
    ) -> Outcome:
        """Run one process and record it. A program's output goes to stdout.txt and stderr.txt; `go list`
        and builds write build.log (a list's stdout goes to `stdout` when given). While a list or a build
        runs, a status line says so; the first output it echoes clears it."""
        err: list[Sink] | None
        spinner = None
        if phase == "run":
            arrivals = FileSink(self.expect("arrivals.txt", Role.ARRIVALS, None))
            out: list[Sink] = [
                FileSink(self.expect("stdout.txt", Role.STDOUT, None)),
                self.terminal("stdout"),
                ArrivalSink(arrivals, self.line_counts, "o"),
            ]
            err = [
                FileSink(self.expect("stderr.txt", Role.STDERR, None)),
                self.terminal("stderr"),
                ArrivalSink(arrivals, self.line_counts, "e"),
            ]
        else:
            spinner = Spinner(_status_text(phase, package, argv), enabled=self.options.progress)
            echoed: list[Sink] = [
                spinner,
                FileSink(self.expect("build.log", Role.BUILD_LOG, None)),
                self.terminal("build"),
            ]
            out, err = (stdout, echoed) if stdout is not None else (echoed, None)
        started = time.monotonic()
        try:
            outcome = child.run(argv, cwd, env, out, err, self.stop, self.options.grace_seconds)
        finally:
            if spinner is not None:
                spinner.stop()
        record = Step(
            phase=phase,
            package=package,
            argv=tuple(argv),
            cwd=str(cwd),
            started_s=round(started - self.clock, 6),
            seconds=round(outcome.seconds, 6),
            exit_code=outcome.exit_code,
            signal=outcome.signal,
            user_cpu_s=round(outcome.user_cpu_s, 6),
            sys_cpu_s=round(outcome.sys_cpu_s, 6),
            max_rss_kib=outcome.max_rss_kib,
        )
        # The files so far, so that even a mapscope killed later leaves a usable directory behind.
        self.save(steps=(*self.manifest.steps, record), files=_final_files(self))
        if outcome.failed and not outcome.interrupted:
            self.failures.append((phase, outcome.shell_code))
        return outcome


def _status_text(phase: str, package: str | None, argv: list[str]) -> str:
    if phase == "list":
        return "go list: finding the packages"
    if package is not None:
        return f"go test -c: building the test binary of {package}"
    return f"go build: building {Path(argv[argv.index('-o') + 1]).name}"


def _build_env() -> dict[str, str]:
    """The user's environment for go commands, pinned to the chosen toolchain (no GOROOT, no switching).

    Unlike mapscope's own programs (gotoolchain.Toolchain.env), a user's module may need its GOPROXY,
    GOFLAGS and GOWORK, so those are left as they are.
    """
    env = dict(os.environ)
    env["GOTOOLCHAIN"] = "local"
    env.pop("GOROOT", None)
    return env


def _run_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GODEBUG"] = merge_godebug(env.get("GODEBUG", ""))
    return env


def _recorded_env(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith(("GO", "CGO_"))))


def _go_prefix(toolchain: gotoolchain.Toolchain, chdir: str | None) -> list[str]:
    return [str(toolchain.go), *(["-C", chdir] if chdir else [])]


def _list_packages(
    session: _Session, toolchain: gotoolchain.Toolchain, command: GoTest
) -> list[_Package] | None:
    template = "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}"
    argv = [
        *_go_prefix(toolchain, command.chdir),
        "list",
        "-f",
        template,
        *command.list_flags,
        *command.packages,
    ]
    listing = BufferSink()
    outcome = session.step("list", None, argv, session.cwd, _build_env(), stdout=[listing])
    if outcome.failed:
        return None
    packages = []
    for line in listing.text().splitlines():
        import_path, _, rest = line.partition("\t")
        folder, _, counts = rest.partition("\t")
        tests, _, xtests = counts.partition("\t")
        if not folder or not tests.isdigit() or not xtests.isdigit():
            raise MapscopeError("go list", f"unexpected output line {line!r}")
        packages.append(_Package(import_path, Path(folder), int(tests) + int(xtests) > 0))
    return packages


def _test_binary_args(session: _Session, command: GoTest, package: str, name: str) -> list[str]:
    """What `go test` would give the binary, plus mapscope's profiles where the user set none."""
    args = ["-test.paniconexit0"]
    if "timeout" not in command.test_flags:
        args.append(f"-test.timeout={DEFAULT_TEST_TIMEOUT}")
    if command.test_flags & PROFILE_FLAGS and "outputdir" not in command.test_flags:
        # go test writes relative profile paths into its own working directory, not the package's.
        args.append(f"-test.outputdir={session.cwd}")
    options = session.options
    if options.profiles:
        for flag, suffix, role in (
            ("cpuprofile", "cpu.pprof", Role.CPU_PROFILE),
            ("memprofile", "mem.pprof", Role.MEM_PROFILE),
            ("trace", "trace.out", Role.TRACE),
        ):
            if flag not in command.test_flags:
                path = session.expect(f"profiles/{name}.{suffix}", role, package)
                args.append(f"-test.{flag}={path}")
        if "memprofilerate" not in command.test_flags and options.memprofilerate > 0:
            args.append(f"-test.memprofilerate={options.memprofilerate}")
    return [*args, *command.binary_args]


def _go_test(session: _Session, toolchain: gotoolchain.Toolchain, command: GoTest) -> None:
    packages = _list_packages(session, toolchain, command)
    if packages is None or session.stop.requested:
        return
    names: set[str] = set()
    for package in packages:
        if not package.has_tests:
            session.note(f"{package.import_path}: no test files")
            print(f"?   \t{package.import_path}\t[no test files]", file=sys.stderr, flush=True)
            continue
        name = _safe_name(package.import_path)
        while name in names:
            name += "_"
        names.add(name)
        binary = session.expect(f"bin/{name}.test", Role.BINARY, package.import_path)
        build = [*_go_prefix(toolchain, command.chdir), "test", "-c", "-o", str(binary),
                 *command.build_flags, package.import_path]  # fmt: skip
        if session.step("build", package.import_path, build, session.cwd, _build_env()).failed:
            continue
        if session.stop.requested:
            return
        if not binary.is_file():
            session.note(f"{package.import_path}: go test -c wrote no binary")
            continue
        argv = [str(binary), *_test_binary_args(session, command, package.import_path, name)]
        outcome = session.step("run", package.import_path, argv, package.dir, _run_env())
        verdict = "ok  " if not outcome.failed else "FAIL"
        print(f"{verdict}\t{package.import_path}\t{outcome.seconds:.3f}s", file=sys.stderr, flush=True)
        if session.stop.requested:
            return


def _go_run(session: _Session, toolchain: gotoolchain.Toolchain, command: GoRun) -> None:
    first = command.target[0]
    stem = Path(first).stem if first.endswith(".go") else Path(first.rstrip("/")).name
    name = _safe_name(stem if stem not in ("", ".", "..") else session.cwd.name)
    binary = session.expect(f"bin/{name}", Role.BINARY, None)
    build = [*_go_prefix(toolchain, command.chdir), "build", "-o", str(binary), *command.build_flags,
             *command.target]  # fmt: skip
    if session.step("build", None, build, session.cwd, _build_env()).failed or session.stop.requested:
        return
    workdir = session.cwd / command.chdir if command.chdir else session.cwd
    session.step("run", None, [str(binary), *command.args], workdir, _run_env())


def _resolve_program(program: str) -> Path:
    """The program's path, checked before anything is started or created."""
    if "/" in program:
        path = Path(os.path.abspath(program))  # Path("./x") alone would become "x", a PATH lookup
    else:
        found = shutil.which(program)
        if found is None:
            raise MapscopeError(program, "not found on PATH")
        path = Path(found)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise MapscopeError(program, "not an executable file")
    return path


def _final_files(session: _Session) -> tuple[FileEntry, ...]:
    entries = []
    for relative, role, package in session.expected:
        path = session.run_dir / relative
        if path.is_file():
            entries.append(FileEntry(relative, role, package, path.stat().st_size, _sha256(path)))
    return tuple(entries)


def _verdict(session: _Session) -> tuple[Status, int]:
    if session.stop.requested:
        return Status.INTERRUPTED, 128 + (session.stop.signal or 2)
    for phase, code in session.failures:
        if phase in ("list", "build"):
            return Status.BUILD_FAILED, code
    if session.failures:
        return Status.FAILED, session.failures[0][1]
    return Status.OK, 0


def execute(options: RunOptions) -> tuple[Path, Manifest]:
    """Run the command into a new run directory; the manifest says how it ended (never raises for a
    failing program, only for what keeps mapscope from running it at all)."""
    command = parse_command(options.command)
    toolchain = None
    program: Path | None = None
    go_release = None
    go_binary = None
    notes: list[str] = []
    if isinstance(command, Program):
        program = _resolve_program(command.argv[0])
        built_with = go_version(program)
        go_release = built_with.removeprefix("go") if built_with else None
        go_binary = None
        if built_with is None:
            notes.append(f"{program}: no Go build information found (not a Go binary, or Go before 1.18)")
        if options.go or options.go_bin:
            notes.append("--go/--go-bin do not apply to a program that is already built")
    else:
        toolchain = gotoolchain.find(options.go, options.go_bin)
        go_release, go_binary = toolchain.release, str(toolchain.go)
    run_dir = make_run_dir(options.out)
    run_env = _run_env()
    manifest = Manifest(
        format=FORMAT,
        mapscope_version=__version__,
        status=Status.RUNNING,
        exit_code=None,
        command=options.command,
        kind="program"
        if isinstance(command, Program)
        else ("go test" if isinstance(command, GoTest) else "go run"),
        cwd=str(Path.cwd()),
        go_release=go_release,
        go_binary=go_binary,
        godebug=run_env["GODEBUG"],
        environment=_recorded_env(run_env),
        host=(
            ("system", platform.system()),
            ("machine", platform.machine()),
            ("cpus", str(os.cpu_count() or 0)),
        ),
        started_utc=_utc_now(),
        finished_utc=None,
        seconds=None,
        steps=(),
        files=(),
        notes=tuple(notes),
    )
    stop = StopRequest()
    session = _Session(options, run_dir.resolve(), Path.cwd(), stop, manifest, time.monotonic())
    # From here on a Ctrl-C is recorded rather than raised, so the run directory always gets its manifest.
    with stop.installed():
        session.save()
        try:
            if isinstance(command, GoTest):
                assert toolchain is not None
                _go_test(session, toolchain, command)
            elif isinstance(command, GoRun):
                assert toolchain is not None
                _go_run(session, toolchain, command)
            else:
                assert program is not None
                session.step("run", None, [str(program), *command.argv[1:]], session.cwd, run_env)
        finally:
            status, code = _verdict(session)
            session.save(
                status=status,
                exit_code=code,
                finished_utc=_utc_now(),
                seconds=round(time.monotonic() - session.clock, 6),
                files=_final_files(session),
            )
    return run_dir, session.manifest
