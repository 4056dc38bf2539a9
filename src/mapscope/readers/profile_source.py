"""Where profiles come from: a SOURCE argument (file, directory of profiles, or http(s) URL) -> Profiles.

Bytes are told apart by content, never by name: gzip (inflated with a cap first), the legacy text headers,
the old binary CPU format and goroutine dumps (both refused with a reason), else profile.proto. URLs are
fetched with a connect/read timeout, an overall deadline and a size cap; `profile?seconds=N` (and any
`seconds=N` delta profile) gets N more seconds, since the server answers only when the window closes.
"""

from __future__ import annotations

import http.client
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mapscope.errors import MapscopeError
from mapscope.readers import pprof, pprof_text, symbolize
from mapscope.readers.pprof import GZIP_MAGIC, Profile
from mapscope.readers.pprof_text import Progress

DEFAULT_TIMEOUT_SECONDS = 60.0
# A live server answers a TCP handshake at once; only the answer itself may take the read timeout.
CONNECT_TIMEOUT_SECONDS = 5.0
# The most a file or response may hold before inflating (1 GiB, as the inflated cap).
MAX_INPUT_BYTES = 1 << 30
_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class Loaded:
    """What one SOURCE gave: its profiles, and the files of a directory that are not profiles (why)."""

    profiles: tuple[Profile, ...]
    skipped: tuple[tuple[str, str], ...]


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def load(
    source: str,
    binary: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_bytes: int = MAX_INPUT_BYTES,
    progress: Progress | None = None,
) -> Loaded:
    """Every profile SOURCE names. A directory yields its non-hidden files in name order; files there
    that are no profile at all are skipped (and listed), while a damaged profile is still an error.
    `progress` hears how far the reading of a long legacy text profile got."""
    if is_url(source):
        data = fetch(source, timeout, max_bytes)
        return Loaded((parse(data, source, binary, progress=progress),), ())
    path = Path(source)
    if path.is_dir():
        profiles: list[Profile] = []
        skipped: list[tuple[str, str]] = []
        for entry in sorted(path.iterdir()):
            if entry.name.startswith(".") or not entry.is_file():
                continue
            data = read_file(entry, max_bytes)
            if not _claims_profile(data):
                try:
                    profiles.append(parse(data, str(entry), binary, progress=progress))
                except MapscopeError as error:
                    skipped.append((str(entry), error.problem))
                continue
            profiles.append(parse(data, str(entry), binary, progress=progress))
        if not profiles:
            raise MapscopeError(source, "the directory holds no profiles")
        return Loaded(tuple(profiles), tuple(skipped))
    return Loaded((parse(read_file(path, max_bytes), source, binary, progress=progress),), ())


def read_file(path: Path, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise MapscopeError(str(path), "no such file or directory") from None
    except OSError as error:
        raise MapscopeError(str(path), f"cannot read: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise MapscopeError(str(path), f"larger than {max_bytes} bytes")
    return data


def _claims_profile(data: bytes) -> bool:
    """Starts like a profile (gzip or a legacy text header), so a failure to read it is an error."""
    return data.startswith(GZIP_MAGIC) or pprof_text.looks_like_text(data)


def parse(
    data: bytes,
    source: str,
    binary: Path | None = None,
    max_decompressed: int = pprof.DEFAULT_MAX_DECOMPRESSED,
    progress: Progress | None = None,
) -> Profile:
    """Profile bytes of any supported kind -> Profile, symbolized with `binary` (or the binary the
    profile names, when that is here and is the right build; see symbolize.py)."""
    return symbolize.apply(_parse(data, source, max_decompressed, progress), binary)


def _parse(data: bytes, source: str, max_decompressed: int, progress: Progress | None) -> Profile:
    raw = pprof.gunzip(data, source, max_decompressed) if data.startswith(GZIP_MAGIC) else data
    if pprof_text.looks_like_text(raw):
        return pprof_text.parse_text(raw, source, progress)
    if raw[:200].lstrip().startswith(b"goroutine ") and b"[" in raw[:200]:
        raise MapscopeError(
            source, "a goroutine dump (debug=2), not a profile; fetch it with debug=0 or debug=1"
        )
    if _legacy_cpu(raw):
        raise MapscopeError(
            source,
            "a legacy binary CPU profile (written by Go before 1.8), which mapscope does not read; "
            "convert it with `go tool pprof -proto FILE > FILE.pb.gz`",
        )
    return pprof.parse_proto(raw, source)


def _legacy_cpu(data: bytes | bytearray) -> bool:
    """The header words 0, 3, 0, period, 0 of the old binary CPU format, in any word size and byte order."""
    for layout in ("<5I", ">5I", "<5Q", ">5Q"):
        size = struct.calcsize(layout)
        if len(data) >= size:
            words = struct.unpack(layout, data[:size])
            if words[0] == 0 and words[1] == 3 and words[2] == 0 and words[3] > 0 and words[4] == 0:
                return True
    return False


def _window_seconds(url: str) -> float:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    try:
        return max(0.0, float(query.get("seconds", ["0"])[0]))
    except ValueError:
        return 0.0


def _connect_quickly(connection: http.client.HTTPConnection, connect: Callable[[], None]) -> None:
    """Connect within CONNECT_TIMEOUT_SECONDS, then read with the connection's own timeout."""
    read_timeout = connection.timeout
    connection.timeout = min(read_timeout or CONNECT_TIMEOUT_SECONDS, CONNECT_TIMEOUT_SECONDS)
    connect()
    connection.timeout = read_timeout
    if connection.sock is not None:
        connection.sock.settimeout(read_timeout)


class _QuickConnect(http.client.HTTPConnection):
    def connect(self) -> None:
        _connect_quickly(self, super().connect)


class _QuickConnectTLS(http.client.HTTPSConnection):
    def connect(self) -> None:
        _connect_quickly(self, super().connect)


class _Handler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_QuickConnect, req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_QuickConnectTLS, req)


def fetch(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """GET a profile over http(s): connect/read timeout, an overall deadline, a size cap, one-line errors."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        if host:
            host.encode("idna")  # urllib fails on bad labels only when it connects
    except (ValueError, UnicodeError) as error:
        raise MapscopeError(url, f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise MapscopeError(url, "not an http(s) URL")
    budget = timeout + _window_seconds(url)
    deadline = time.monotonic() + budget
    request = urllib.request.Request(url, headers={"User-Agent": "mapscope"})
    try:
        with urllib.request.build_opener(_Handler).open(request, timeout=budget) as response:
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise MapscopeError(url, f"no complete answer within {budget:g}s")
                chunk = response.read(_READ_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise MapscopeError(url, f"the answer is larger than {max_bytes} bytes")
                chunks.append(chunk)
    except urllib.error.HTTPError as error:
        detail = error.read(200).decode("utf-8", "replace").strip().splitlines()
        said = f": {detail[0]}" if detail else ""
        raise MapscopeError(url, f"HTTP {error.code} {error.reason}{said}") from None
    except urllib.error.URLError as error:
        cause = error.reason
        if isinstance(cause, TimeoutError):
            raise MapscopeError(url, f"no connection within {CONNECT_TIMEOUT_SECONDS:g}s") from None
        text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        raise MapscopeError(url, f"cannot connect: {text}") from None
    except TimeoutError:
        raise MapscopeError(url, f"timed out after {budget:g}s") from None
    except (http.client.HTTPException, OSError) as error:
        raise MapscopeError(url, f"the connection failed: {error}") from None
    except (ValueError, UnicodeError) as error:
        raise MapscopeError(url, f"not a valid URL: {error}") from None
    return b"".join(chunks)
