"""`mapscope run` on real Go 1.27.3: go test with benchmarks, a failing test, a build error, go run, a
built program, Ctrl-C, and a program that ignores it. Expected figures are counted straight from the
captured files (gc lines, benchmark lines), not by the code under test."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pty
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope.gotoolchain import Toolchain
from mapscope.pipelines.run import analyze_run
from mapscope.readers.go_buildinfo import go_version
from mapscope.runner.manifest import Manifest, Role, Status, file_path, read_manifest

pytestmark = pytest.mark.live

FIXTURES = Path(__file__).parent / "fixtures" / "run"
RELEASE = "1.27.3"


@pytest.fixture
def toolchain(go_release: Callable[[str], Toolchain]) -> Toolchain:
    return go_release(RELEASE)


def copy_fixture(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    return folder


def mapscope_run(
    *args: str, cwd: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mapscope", "run", "--go", RELEASE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )


def check_files(run_dir: Path, manifest: Manifest) -> dict[Role, list[Path]]:
    """Every listed file exists with the listed size and SHA-256; returns them by role."""
    by_role: dict[Role, list[Path]] = {}
    for entry in manifest.files:
        path = file_path(run_dir, entry)
        data = path.read_bytes()
        assert len(data) == entry.bytes and hashlib.sha256(data).hexdigest() == entry.sha256, entry.path
        by_role.setdefault(entry.role, []).append(path)
    return by_role


def test_go_test_with_benchmarks(tmp_path: Path, toolchain: Toolchain) -> None:
    folder = copy_fixture("tinyrun", tmp_path)
    run_dir = tmp_path / "run"
    done = mapscope_run(
        "--out", str(run_dir), "--", "go", "test", "-run", ".", "-bench", ".", "-benchtime", "20x",
        "-count", "2", ".",
        cwd=folder,
        extra_env={"GODEBUG": "madvdontneed=1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = read_manifest(run_dir)
    assert (manifest.status, manifest.exit_code, manifest.kind) == (Status.OK, 0, "go test")
    assert manifest.go_release == RELEASE
    assert manifest.godebug == "madvdontneed=1,gctrace=1,gcpacertrace=1"
    assert dict(manifest.environment)["GODEBUG"] == manifest.godebug
    assert [step.phase for step in manifest.steps] == ["list", "build", "run"]
    run_step = manifest.steps[-1]
    assert run_step.exit_code == 0 and run_step.cwd == str(folder)
    assert "-test.bench=." in run_step.argv and "-test.count=2" in run_step.argv
    assert manifest.finished_utc is not None and manifest.seconds is not None

    files = check_files(run_dir, manifest)
    assert set(files) == set(Role)
    assert go_version(files[Role.BINARY][0]) == f"go{RELEASE}"
    for role in (Role.CPU_PROFILE, Role.MEM_PROFILE, Role.TRACE):
        assert files[role][0].stat().st_size > 0
    stdout = files[Role.STDOUT][0].read_text()
    stderr = files[Role.STDERR][0].read_text()
    bench_lines = [line for line in stdout.splitlines() if line.startswith("BenchmarkFill/")]
    gc_lines = [line for line in stderr.splitlines() if line.startswith("gc ")]
    assert len(bench_lines) == 2 and "tinyrun: stdout line" in stdout
    assert not any(line.startswith("gc ") for line in stdout.splitlines())  # stdout and stderr kept apart
    assert "tinyrun: stderr line" in stderr and gc_lines
    assert any(line.startswith("pacer: ") for line in stderr.splitlines())
    # The terminal saw the program's own output as it ran, but not the trace lines mapscope added.
    assert "tinyrun: stdout line" in done.stdout and "tinyrun: stderr line" in done.stderr
    assert not any(line.startswith("gc ") for line in done.stderr.splitlines())
    assert f"Run {run_dir}" in done.stdout and "live-B/entry" in done.stdout

    analysis = analyze_run(run_dir, manifest)
    assert analysis.gc is not None and analysis.gc.summary.cycles == len(gc_lines)
    assert analysis.gc.summary.forced_cycles >= 4  # two runtime.GC() per reported metric
    assert analysis.bench_file is not None and len(analysis.bench_file.results) == 2
    (row,) = analysis.models
    measured = [float(line.split()[-2]) for line in bench_lines]
    assert row.measured_b_per_entry == statistics.median(measured)
    assert row.difference_pct is not None and abs(row.difference_pct) < 2


def test_failing_test_and_json(tmp_path: Path, toolchain: Toolchain) -> None:
    folder = copy_fixture("tinyrun", tmp_path)
    run_dir = tmp_path / "run"
    done = mapscope_run(
        "--json", "--no-profiles", "--out", str(run_dir), "--", "go", "test", "-run", "Test", ".",
        cwd=folder,
        extra_env={"MAPSCOPE_FIXTURE_FAIL": "1"},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)  # the program's stdout went to stderr, keeping stdout JSON
    assert "--- FAIL: TestFailsWhenAsked" in done.stderr
    manifest = read_manifest(run_dir)
    assert document["manifest"] == manifest.to_json()
    assert (manifest.status, manifest.exit_code) == (Status.FAILED, 1)
    assert manifest.steps[-1].exit_code == 1
    files = check_files(run_dir, manifest)
    assert Role.CPU_PROFILE not in files
    assert "--- FAIL: TestFailsWhenAsked" in files[Role.STDOUT][0].read_text()
    assert document["gc"] is None or document["gc"]["summary"]["cycles"] >= 1


def test_build_error(tmp_path: Path, toolchain: Toolchain) -> None:
    folder = copy_fixture("tinyrun", tmp_path)
    (folder / "broken_test.go").write_text("package tinyrun\n\nfunc broken() { undefined() }\n")
    run_dir = tmp_path / "run"
    done = mapscope_run("--out", str(run_dir), "--", "go", "test", ".", cwd=folder)
    assert done.returncode == 1
    manifest = read_manifest(run_dir)
    assert (manifest.status, manifest.exit_code) == (Status.BUILD_FAILED, 1)
    assert [step.phase for step in manifest.steps] == ["list", "build"]
    files = check_files(run_dir, manifest)
    assert "undefined" in files[Role.BUILD_LOG][0].read_text() and "undefined" in done.stderr


def test_go_run_with_program_arguments(tmp_path: Path, toolchain: Toolchain) -> None:
    folder = copy_fixture("sleeper", tmp_path)
    run_dir = tmp_path / "run"
    done = mapscope_run("--out", str(run_dir), "--", "go", "run", ".", "-sleep", "0s", cwd=folder)
    assert done.returncode == 0, done.stderr
    manifest = read_manifest(run_dir)
    assert (manifest.status, manifest.kind) == (Status.OK, "go run")
    assert [step.phase for step in manifest.steps] == ["build", "run"]
    assert manifest.steps[-1].argv[1:] == ("-sleep", "0s")
    files = check_files(run_dir, manifest)
    assert files[Role.STDOUT][0].read_text() == "ready\nwoke up\n"
    assert go_version(files[Role.BINARY][0]) == f"go{RELEASE}"


def build_sleeper(tmp_path: Path, toolchain: Toolchain) -> Path:
    folder = copy_fixture("sleeper", tmp_path)
    subprocess.run(
        [str(toolchain.go), "build", "-o", "sleeper", "."],
        cwd=folder,
        env=toolchain.env(),
        check=True,
        timeout=300,
    )
    return folder


def start_and_interrupt(folder: Path, run_dir: Path, *program_args: str) -> tuple[int, float]:
    """Run the sleeper under mapscope, send SIGINT once it is ready; (exit status, seconds to exit). The
    seconds are only ever checked from below: a slow machine makes them longer, never shorter."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mapscope", "run", "--grace", "1", "--out", str(run_dir), "--", "./sleeper",
         *program_args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        seen = b""
        deadline = time.monotonic() + 120
        while b"ready\n" not in seen:
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([process.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                assert chunk, f"mapscope ended early: {seen!r}"
                seen += chunk
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        process.communicate(timeout=60)
        return process.returncode, time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ctrl_c_stops_the_program_and_keeps_what_was_collected(tmp_path: Path, toolchain: Toolchain) -> None:
    folder = build_sleeper(tmp_path, toolchain)
    run_dir = tmp_path / "run"
    code, _ = start_and_interrupt(folder, run_dir)
    assert code == 130
    manifest = read_manifest(run_dir)
    assert (manifest.status, manifest.exit_code, manifest.kind) == (Status.INTERRUPTED, 130, "program")
    assert manifest.go_release == RELEASE  # from the binary's build information
    (step,) = manifest.steps
    assert (step.exit_code, step.signal) == (None, "SIGINT")
    files = check_files(run_dir, manifest)
    assert files[Role.STDOUT][0].read_text() == "ready\n"
    analysis = analyze_run(run_dir, manifest)
    assert analysis.gc is not None and analysis.gc.summary.forced_cycles == 3


def test_a_program_that_ignores_ctrl_c_is_killed_after_the_grace_period(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    folder = build_sleeper(tmp_path, toolchain)
    run_dir = tmp_path / "run"
    code, seconds = start_and_interrupt(folder, run_dir, "-ignore-interrupt")
    assert code == 130 and seconds >= 1  # the grace period was given
    manifest = read_manifest(run_dir)
    assert manifest.status is Status.INTERRUPTED
    assert manifest.steps[0].signal == "SIGKILL"
    assert "woke up" not in (run_dir / "stdout.txt").read_text()


# A -toolexec wrapper that stalls a build without using the CPU: each tool still reports its version (go
# asks for it to key its cache), every real compile or link waits, deaf to Ctrl-C and SIGTERM, so only a
# kill of its process group ends it.
STALL = """#!/bin/sh
case "$*" in *-V=full*) exec "$@" ;; esac
trap '' INT TERM
touch "$STALL_MARKER"
sleep 600
"""


def live_processes(session: int) -> dict[int, str]:
    """The processes of a session that have not ended (zombies aside): pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, _ppid, _group, sid = stat[stat.rindex(")") + 2 :].split()[:4]
        if int(sid) == session and state != "Z":
            found[int(entry.name)] = command
    return found


def start_stoppable(tmp_path: Path, phase: str, stderr: int) -> tuple[subprocess.Popen[bytes], Path]:
    """`mapscope run -- go test -bench` of gcbench in a session of its own; for `phase` build, with the
    build stalled. Returns once that phase is under way."""
    folder = copy_fixture("gcbench", tmp_path)
    env = dict(os.environ)
    flags = []
    marker = tmp_path / "stalled"
    if phase == "build":
        stall = tmp_path / "stall.sh"
        stall.write_text(STALL)
        stall.chmod(0o755)
        flags.append(f"-toolexec={stall}")
        # A cache of its own, so the build cannot be answered from the cache without running a tool.
        env.update(STALL_MARKER=str(marker), GOCACHE=str(tmp_path / "gocache"))
    process = subprocess.Popen(
        [sys.executable, "-m", "mapscope", "run", "--go", RELEASE, "--grace", "1", "--out", str(tmp_path / "run"),
         "--", "go", "test", *flags, "-run", "^$", "-bench", "Garbage", "-benchtime", "1000000x", "."],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (
        marker.exists()
        if phase == "build"
        else any("-test.paniconexit0" in command for command in live_processes(process.pid).values())
    ):
        assert process.poll() is None, f"mapscope ended before the {phase} started"
        assert time.monotonic() < deadline, f"the {phase} did not start within 300 s"
        time.sleep(0.1)
    return process, tmp_path / "run"


def stop_and_reap(process: subprocess.Popen[bytes], signum: int) -> dict[int, str]:
    """Send `signum` to mapscope and wait for it; returns what of its session outlived it (killed after)."""
    session = process.pid
    try:
        process.send_signal(signum)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # A process killed with SIGKILL may take a moment to be gone from /proc; a stalled tool would stay.
    deadline = time.monotonic() + 30
    while (survivors := live_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return survivors


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("phase", ["build", "run"])
def test_a_stopped_run_leaves_no_process_and_says_interrupted(
    tmp_path: Path, toolchain: Toolchain, phase: str, signum: int
) -> None:
    process, run_dir = start_stoppable(tmp_path, phase, subprocess.DEVNULL)
    assert len(live_processes(process.pid)) >= 2  # mapscope and what it started
    assert stop_and_reap(process, signum) == {}
    assert process.returncode == 128 + signum
    manifest = read_manifest(run_dir)
    assert (manifest.status, manifest.exit_code) == (Status.INTERRUPTED, 128 + signum)
    assert manifest.finished_utc is not None
    assert [step.phase for step in manifest.steps] == ["list", "build", "run"][: 2 if phase == "build" else 3]
    assert manifest.steps[-1].exit_code != 0
    files = check_files(run_dir, manifest)
    assert (Role.BINARY in files) == (phase == "run")
    report = subprocess.run(
        [sys.executable, "-m", "mapscope", "report", str(run_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    assert f"interrupted (exit {128 + signum})" in report.stdout


def test_a_build_shows_its_status_on_a_terminal_and_nothing_when_piped(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    status = "go test -c: building the test binary of gcbench"
    controller, terminal = pty.openpty()
    try:
        process, _ = start_stoppable(tmp_path / "tty", "build", terminal)
        os.close(terminal)
        seen = b""
        deadline = time.monotonic() + 120
        while status.encode() not in seen:
            assert time.monotonic() < deadline, seen
            if select.select([controller], [], [], 1.0)[0]:
                seen += os.read(controller, 4096)
        # The reader of the terminal keeps draining it, so the status line never blocks mapscope.
        with contextlib.suppress(OSError):
            while select.select([controller], [], [], 0)[0]:
                os.read(controller, 4096)
        assert stop_and_reap(process, signal.SIGTERM) == {}
    finally:
        os.close(controller)
    process, _ = start_stoppable(tmp_path / "pipe", "build", subprocess.PIPE)
    assert stop_and_reap(process, signal.SIGTERM) == {}
    assert process.stderr is not None
    assert process.stderr.read() == b""
