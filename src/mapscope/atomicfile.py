"""Output files that readers never see half-written: a sibling temporary file, synced to disk, renamed
over the target, and the rename itself synced (the folder), so that after a crash or power loss the file
is either the old one or the whole new one. The one way mapscope writes a file it produces whole."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from mapscope.errors import MapscopeError


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file in the same folder and os.replace."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and os.replace.

    The temporary file is created like any other file (the umask applies), unlike mkstemp's 0600.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        _sync_folder(path.parent)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise MapscopeError(str(path), f"cannot write: {error.strerror or error}") from None


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
