"""Running one child process: its output copied to files and the terminal as it comes, Ctrl-C forwarded.

The child gets a process group of its own, so a Ctrl-C at the terminal reaches mapscope alone, which
forwards it once to the child's group, waits a grace period for it to end, and then kills the group.
Without its own group the child would see the terminal's signal and then mapscope's forwarded one, and a
program that takes a second Ctrl-C as "quit now" would skip its clean shutdown. A child in its own group
must not read the terminal (it would be stopped), so it gets /dev/null as stdin when stdin is a terminal.

Output is read as it arrives and written unbuffered to the capture files, so whatever happens to mapscope
later, everything the child printed up to then is on disk. Resource usage comes from wait4, so it is the
child's own (CPU time of its threads, peak RSS), not that of every process mapscope ever waited for.
"""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import BinaryIO, Protocol

from mapscope.errors import MapscopeError
from mapscope.readers import gctrace

_READ_BYTES = 1 << 16
_POLL_SECONDS = 0.05
# After the child exits, a grandchild may still hold its pipes open; stop reading after this long.
_DRAIN_SECONDS = 2.0
# The starts of the runtime's trace lines (gctrace, gcpacertrace, scavtrace, gctrace=2).
_TRACE_STARTS = ("gc ", "pacer: ", "scav ", "scan: ", "GC forced")


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class FileSink:
    """Appends to a capture file without buffering in Python, so a crash loses nothing written."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise MapscopeError(str(path), f"cannot write: {error.strerror or error}") from None
        self.path = path

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def close(self) -> None:
        """Synced before closing, so the sizes and hashes the manifest then records are what is on disk."""
        if self._file.closed:
            return
        with contextlib.suppress(OSError):
            os.fsync(self._file.fileno())
        self._file.close()


class ArrivalSink:
    """Notes the order in which the child's stdout and stderr lines arrive: after every read of one
    stream that completed lines, it appends `<stream> <lines>` to the arrivals file, `<lines>` being how
    many lines that stream has completed so far (readers/arrivals.py reads it back).

    Both streams are read in one loop, so lines read in different reads are in the order the child wrote
    them, up to the moment mapscope read them. `counts` outlives the sink: it continues over every program
    a run starts, like the capture files.
    """

    def __init__(self, log: FileSink, counts: dict[str, int], stream: str) -> None:
        self._log = log
        self._counts = counts
        self._stream = stream

    def write(self, data: bytes) -> None:
        lines = data.count(b"\n")
        if lines:
            self._counts[self._stream] += lines
            self._log.write(f"{self._stream} {self._counts[self._stream]}\n".encode())

    def close(self) -> None:
        self._log.close()


class BufferSink:
    """Keeps output in memory (for `go list`, whose answer mapscope reads), up to a limit."""

    def __init__(self, limit: int = 16 << 20) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = limit

    def write(self, data: bytes) -> None:
        if self._size + len(data) > self._limit:
            raise MapscopeError("go list", f"printed more than {self._limit >> 20} MiB")
        self._chunks.append(data)
        self._size += len(data)

    def close(self) -> None:
        """Nothing to release: the text stays readable."""

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")


class EchoSink:
    """Copies output to one of mapscope's own streams, leaving out the runtime's trace lines when asked
    (they go to the capture file; on the terminal they would bury the program's own output).

    Filtering needs whole lines, so a filtered stream is echoed line by line; a closed terminal or pipe
    stops the echo, never the capture.
    """

    def __init__(self, stream: BinaryIO, hide_trace: bool) -> None:
        self._stream: BinaryIO | None = stream
        self._hide_trace = hide_trace
        self._partial = b""

    def _emit(self, data: bytes) -> None:
        if self._stream is None or not data:
            return
        try:
            self._stream.write(data)
            self._stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            self._stream = None

    def write(self, data: bytes) -> None:
        if not self._hide_trace:
            self._emit(data)
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        self._emit(b"".join(line + b"\n" for line in lines if not _is_trace_line(line)))

    def close(self) -> None:
        if self._partial and not _is_trace_line(self._partial):
            self._emit(self._partial)
        self._partial = b""


def _is_trace_line(line: bytes) -> bool:
    """A line that is all trace: program text with a trace line glued behind it is still echoed."""
    text = line.decode("utf-8", "replace").removesuffix("\r")
    if not text.startswith(_TRACE_STARTS):
        return False
    record = gctrace.parse_line(text, 0)
    return record is not None and not isinstance(record, gctrace.UnrecognizedLine)


# The signals that stop a run: Ctrl-C, kill, and the terminal closing (which reaches only the foreground
# group, mapscope's, so without a handler the child's group would go on running).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequest:
    """Records a SIGINT/SIGTERM/SIGHUP sent to mapscope and passes it on to the running child's process
    group; a second signal kills the group at once."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.at: float | None = None
        self.count = 0
        self.child_group: int | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        if self.signal is None:
            self.signal, self.at = signum, time.monotonic()
        if self.child_group is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.child_group, signum if self.count == 1 else signal.SIGKILL)

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """Catch the stop signals for the duration, then restore the previous handlers."""
        previous = {signum: signal.signal(signum, self._handle) for signum in STOP_SIGNALS}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


@dataclass(frozen=True)
class Outcome:
    """How a child ended: `exit_code` is None when a signal ended it (`signal`). `interrupted`: mapscope
    was asked to stop while it ran; `killed`: it outlived the grace period and was killed."""

    exit_code: int | None
    signal: str | None
    signal_number: int | None
    seconds: float
    user_cpu_s: float
    sys_cpu_s: float
    max_rss_kib: int
    interrupted: bool
    killed: bool

    @property
    def failed(self) -> bool:
        return self.exit_code != 0

    @property
    def shell_code(self) -> int:
        """The exit status a shell would report: the code, or 128 + the signal number."""
        if self.exit_code is not None:
            return self.exit_code
        return 128 + (self.signal_number or 0)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run(
    argv: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    stdout: Sequence[Sink],
    stderr: Sequence[Sink] | None,
    stop: StopRequest,
    grace_seconds: float,
) -> Outcome:
    """Run `argv` to its end; `stderr=None` sends the child's stderr to the stdout sinks."""
    stdin = subprocess.DEVNULL if sys.stdin is None or sys.stdin.isatty() else None
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if stderr is None else subprocess.PIPE,
            process_group=0,
        )
    except OSError as error:
        raise MapscopeError(argv[0], f"cannot run: {error.strerror or error}") from None
    stop.child_group = process.pid
    if stop.requested:
        # The signal came between our check and the child's start: pass it on now.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, stop.signal or signal.SIGINT)
    assert process.stdout is not None
    pipes: dict[int, Sequence[Sink]] = {process.stdout.fileno(): stdout}
    if stderr is not None:
        assert process.stderr is not None
        pipes[process.stderr.fileno()] = stderr
    try:
        status, usage, killed = _pump(process, pipes, stop, grace_seconds)
    except BaseException:
        # mapscope itself failed (a capture file could not be written): leave no child behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    finally:
        stop.child_group = None
        for handle in (process.stdout, process.stderr):
            if handle is not None:
                handle.close()
    if stop.requested:
        # The child is gone, but what it started in its group (a compiler under `go test -c`) may not be.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    process.returncode = os.waitstatus_to_exitcode(status)
    code = process.returncode
    return Outcome(
        exit_code=code if code >= 0 else None,
        signal=_signal_name(-code) if code < 0 else None,
        signal_number=-code if code < 0 else None,
        seconds=time.monotonic() - started,
        user_cpu_s=usage.ru_utime,
        sys_cpu_s=usage.ru_stime,
        max_rss_kib=usage.ru_maxrss,
        interrupted=stop.requested,
        killed=killed,
    )


def _pump(
    process: subprocess.Popen[bytes],
    pipes: dict[int, Sequence[Sink]],
    stop: StopRequest,
    grace_seconds: float,
) -> tuple[int, resource.struct_rusage, bool]:
    """Copy output until the child has exited and its pipes are drained; returns (status, rusage, killed)."""
    selector = selectors.DefaultSelector()
    for fd in pipes:
        selector.register(fd, selectors.EVENT_READ)
    status: int | None = None
    usage: resource.struct_rusage | None = None
    exited_at: float | None = None
    killed = False
    try:
        while True:
            now = time.monotonic()
            if status is None and stop.at is not None and not killed and now - stop.at > grace_seconds:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                killed = True
            open_fds = selector.get_map()
            if not open_fds and status is not None:
                break
            if exited_at is not None and now - exited_at > _DRAIN_SECONDS:
                break
            for key, _ in selector.select(_POLL_SECONDS) if open_fds else ():
                data = os.read(key.fd, _READ_BYTES)
                if data:
                    for sink in pipes[key.fd]:
                        sink.write(data)
                else:
                    selector.unregister(key.fd)
            if not open_fds:
                time.sleep(_POLL_SECONDS)
            if status is None:
                pid, wait_status, rusage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    status, usage, exited_at = wait_status, rusage, time.monotonic()
    finally:
        selector.close()
        for sinks in pipes.values():
            for sink in sinks:
                sink.close()
    assert status is not None and usage is not None
    return status, usage, killed
