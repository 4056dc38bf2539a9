"""manifest.json, the index of a run directory: what ran, with which Go and environment, how it ended,
how long each step took, and every file collected (size and SHA-256).

`mapscope run` writes it when the run starts (status `running`) and again when it ends, each time
atomically, so a run directory always has a whole manifest, even when mapscope itself was killed.
`mapscope report` reads it back from a directory that may come from anywhere: every field is checked,
and file paths must stay inside the run directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from mapscope.atomicfile import write_atomic
from mapscope.errors import MapscopeError
from mapscope.readers import jsontext

FORMAT = "mapscope-run/1"
MANIFEST = "manifest.json"
_MAX_MANIFEST_BYTES = 16 << 20
_E = TypeVar("_E", bound=StrEnum)


class Status(StrEnum):
    RUNNING = "running"  # the run has not ended (or mapscope was killed before it could say)
    OK = "ok"
    FAILED = "failed"  # the program or a test failed, crashed, or was killed by a signal
    BUILD_FAILED = "build-failed"
    INTERRUPTED = "interrupted"  # stopped by Ctrl-C / SIGTERM; what was collected is kept


class Role(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"
    ARRIVALS = "arrivals"  # the order of stdout and stderr lines (readers/arrivals.py)
    BUILD_LOG = "build-log"
    BINARY = "binary"
    CPU_PROFILE = "cpu-profile"
    MEM_PROFILE = "mem-profile"
    TRACE = "trace"


@dataclass(frozen=True)
class Step:
    """One process mapscope started: `phase` is list, build or run; times are seconds, `started_s` from
    the start of the run; `exit_code` is None while running or when a signal ended it (`signal`)."""

    phase: str
    package: str | None
    argv: tuple[str, ...]
    cwd: str
    started_s: float
    seconds: float
    exit_code: int | None
    signal: str | None
    user_cpu_s: float
    sys_cpu_s: float
    max_rss_kib: int


@dataclass(frozen=True)
class FileEntry:
    """A collected file: `path` relative to the run directory, with `/` separators."""

    path: str
    role: Role
    package: str | None
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """Everything about one run. `environment` holds only GO* and CGO_* variables (others may hold
    secrets); `godebug` is the GODEBUG the program ran with."""

    format: str
    mapscope_version: str
    status: Status
    exit_code: int | None
    command: tuple[str, ...]
    kind: str
    cwd: str
    go_release: str | None
    go_binary: str | None
    godebug: str
    environment: tuple[tuple[str, str], ...]
    host: tuple[tuple[str, str], ...]
    started_utc: str
    finished_utc: str | None
    seconds: float | None
    steps: tuple[Step, ...]
    files: tuple[FileEntry, ...]
    notes: tuple[str, ...]

    def files_with(self, role: Role) -> tuple[FileEntry, ...]:
        return tuple(entry for entry in self.files if entry.role is role)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "mapscope_version": self.mapscope_version,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "command": list(self.command),
            "kind": self.kind,
            "cwd": self.cwd,
            "go_release": self.go_release,
            "go_binary": self.go_binary,
            "godebug": self.godebug,
            "environment": dict(self.environment),
            "host": dict(self.host),
            "started_utc": self.started_utc,
            "finished_utc": self.finished_utc,
            "seconds": self.seconds,
            "steps": [{**step.__dict__, "argv": list(step.argv)} for step in self.steps],
            "files": [{**entry.__dict__, "role": entry.role.value} for entry in self.files],
            "notes": list(self.notes),
        }


def write_manifest(run_dir: Path, manifest: Manifest) -> None:
    write_atomic(run_dir / MANIFEST, json.dumps(manifest.to_json(), indent=2) + "\n")


class _Checked:
    """Typed access to one JSON object, failing with the manifest's name and the field's path."""

    def __init__(self, source: str, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise MapscopeError(source, f"{where or 'the manifest'} is not a JSON object")
        self.source, self.data, self.where = source, data, where

    def _get(self, key: str, kinds: tuple[type, ...], optional: bool) -> Any:
        value = self.data.get(key)
        if value is None and optional:
            return None
        # bool is an int in Python; no field here is a bool, so refuse it wherever a number is expected.
        if not isinstance(value, kinds) or isinstance(value, bool):
            kind = "/".join(k.__name__ for k in kinds)
            raise MapscopeError(self.source, f"field {self.where}{key} is missing or not {kind}")
        return value

    def text(self, key: str) -> str:
        return str(self._get(key, (str,), False))

    def text_or_none(self, key: str) -> str | None:
        value = self._get(key, (str,), True)
        return None if value is None else str(value)

    def integer_or_none(self, key: str) -> int | None:
        value = self._get(key, (int,), True)
        return None if value is None else int(value)

    def number(self, key: str) -> float:
        value = self.number_or_none(key)
        if value is None:
            raise MapscopeError(self.source, f"field {self.where}{key} is missing or not int/float")
        return value

    def number_or_none(self, key: str) -> float | None:
        """Every number of a manifest (times, sizes, CPU, RSS) is a non-negative quantity."""
        value = self._get(key, (int, float), True)
        if value is not None and value < 0:
            raise MapscopeError(self.source, f"field {self.where}{key} is negative ({value})")
        return None if value is None else float(value)

    def texts(self, key: str) -> tuple[str, ...]:
        values = self._get(key, (list,), False)
        if not all(isinstance(value, str) for value in values):
            raise MapscopeError(self.source, f"field {self.where}{key} is not a list of strings")
        return tuple(values)

    def pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        values = self._get(key, (dict,), False)
        if not all(isinstance(value, str) for value in values.values()):
            raise MapscopeError(self.source, f"field {self.where}{key} is not an object of strings")
        return tuple((str(k), v) for k, v in values.items())

    def objects(self, key: str) -> list[_Checked]:
        values = self._get(key, (list,), False)
        return [_Checked(self.source, value, f"{self.where}{key}[{i}].") for i, value in enumerate(values)]


def _choice(source: str, kind: type[_E], value: str, field: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise MapscopeError(source, f"field {field} is {value!r}, not one of {allowed}") from None


def _safe_path(source: str, text: str) -> str:
    path = PurePosixPath(text)
    if not text or path.is_absolute() or ".." in path.parts or "\\" in text or "\0" in text:
        raise MapscopeError(source, f"file path {text!r} is not inside the run directory")
    return text


def read_manifest(run_dir: Path) -> Manifest:
    """The manifest of a run directory, every field checked."""
    path = run_dir / MANIFEST
    source = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_MANIFEST_BYTES + 1)
    except OSError as error:
        raise MapscopeError(source, f"cannot read: {error.strerror or error}") from None
    if len(raw) > _MAX_MANIFEST_BYTES:
        raise MapscopeError(source, f"larger than {_MAX_MANIFEST_BYTES >> 20} MiB; not a mapscope manifest")
    data = jsontext.load(raw, source)
    top = _Checked(source, data, "")
    if top.text("format") != FORMAT:
        raise MapscopeError(source, f"format is {top.text('format')!r}, expected {FORMAT!r}")
    steps = tuple(
        Step(
            phase=step.text("phase"),
            package=step.text_or_none("package"),
            argv=step.texts("argv"),
            cwd=step.text("cwd"),
            started_s=step.number("started_s"),
            seconds=step.number("seconds"),
            exit_code=step.integer_or_none("exit_code"),
            signal=step.text_or_none("signal"),
            user_cpu_s=step.number("user_cpu_s"),
            sys_cpu_s=step.number("sys_cpu_s"),
            max_rss_kib=int(step.number("max_rss_kib")),
        )
        for step in top.objects("steps")
    )
    files = tuple(
        FileEntry(
            path=_safe_path(source, entry.text("path")),
            role=_choice(source, Role, entry.text("role"), f"{entry.where}role"),
            package=entry.text_or_none("package"),
            bytes=int(entry.number("bytes")),
            sha256=entry.text("sha256"),
        )
        for entry in top.objects("files")
    )
    return Manifest(
        format=FORMAT,
        mapscope_version=top.text("mapscope_version"),
        status=_choice(source, Status, top.text("status"), "status"),
        exit_code=top.integer_or_none("exit_code"),
        command=top.texts("command"),
        kind=top.text("kind"),
        cwd=top.text("cwd"),
        go_release=top.text_or_none("go_release"),
        go_binary=top.text_or_none("go_binary"),
        godebug=top.text("godebug"),
        environment=top.pairs("environment"),
        host=top.pairs("host"),
        started_utc=top.text("started_utc"),
        finished_utc=top.text_or_none("finished_utc"),
        seconds=top.number_or_none("seconds"),
        steps=steps,
        files=files,
        notes=top.texts("notes"),
    )


def file_path(run_dir: Path, entry: FileEntry) -> Path:
    """Where a listed file is; MapscopeError if a link leads it out of the run directory."""
    root = run_dir.resolve()
    path = (root / entry.path).resolve()
    if not path.is_relative_to(root):
        raise MapscopeError(str(run_dir / MANIFEST), f"file {entry.path!r} leads outside the run directory")
    return path
