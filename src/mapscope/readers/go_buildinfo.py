"""The Go release a binary was built with, from the build-info blob the linker writes into every Go binary.

`mapscope run -- ./program` records which Go built the program without needing a toolchain. The blob
starts with the 14-byte magic `\\xff Go buildinf:`, a pointer-size byte and a flags byte; since Go 1.18
(flag bit 2) the version follows the 32-byte header inline, as a uvarint length and the string. Older
binaries point to the string instead; mapscope reports those as unknown.

The file is scanned in bounded chunks (the blob sits near the start of the data segment, but where that
is depends on the object format), so a large binary costs time, not memory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_INLINE_VERSION = 0x2
_CHUNK = 1 << 20
_MAX_VERSION = 256
_VERSION_RE = re.compile(r"go1\.\d+(?:\.\d+|rc\d+|beta\d+)?(?:[ +-][!-~]*)?")


def _uvarint(data: bytes, at: int) -> tuple[int, int] | None:
    value = shift = 0
    while at < len(data) and shift < 64:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7
    return None


def _version_at(blob: bytes) -> str | None:
    if len(blob) < _HEADER or not blob[15] & _INLINE_VERSION:
        return None
    decoded = _uvarint(blob, _HEADER)
    if decoded is None:
        return None
    length, start = decoded
    if not 0 < length <= _MAX_VERSION or start + length > len(blob):
        return None
    text = blob[start : start + length].decode("ascii", "replace")
    return text if _VERSION_RE.fullmatch(text) else None


def go_version(path: Path) -> str | None:
    """`go1.22.10` (as runtime.Version prints it), or None when the file is not a Go binary we can read."""
    keep = _HEADER + 10 + _MAX_VERSION
    overlap = len(_MAGIC) - 1
    try:
        with path.open("rb") as handle:
            fd = handle.fileno()
            offset = 0  # file offset of the window's first byte
            tail = b""
            while chunk := os.pread(fd, _CHUNK, offset + len(tail)):
                window = tail + chunk
                at = window.find(_MAGIC)
                while at >= 0:
                    version = _version_at(os.pread(fd, keep, offset + at))
                    if version is not None:
                        return version
                    at = window.find(_MAGIC, at + 1)
                tail = window[-overlap:]
                offset += len(window) - len(tail)
    except OSError:
        return None
    return None
