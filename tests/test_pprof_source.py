"""Profile sources over HTTP, against a tiny net/http/pprof look-alike on the loopback interface."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mapscope.errors import MapscopeError
from mapscope.readers import profile_source

FIXTURES = Path(__file__).parent / "fixtures" / "pprof" / "default"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query)
        if parts.path == "/debug/pprof/heap":
            name = "heap.debug1.txt" if query.get("debug") == ["1"] else "heap.pb.gz"
            self.reply(200, (FIXTURES / name).read_bytes())
        elif parts.path == "/debug/pprof/allocs":
            self.reply(200, (FIXTURES / "allocs.pb.gz").read_bytes())
        elif parts.path == "/debug/pprof/profile":
            # Like net/http/pprof: the answer comes when the `seconds` window closes.
            time.sleep(float(query.get("seconds", ["30"])[0]))
            self.reply(200, (FIXTURES / "goroutine.pb.gz").read_bytes())
        elif parts.path == "/slow":
            time.sleep(3)
            self.reply(200, b"")
        elif parts.path == "/big":
            self.reply(200, bytes(5 << 20))
        else:
            self.reply(404, b"Unknown profile\n")

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_heap_over_http(server: str) -> None:
    loaded = profile_source.load(f"{server}/debug/pprof/heap")
    local = profile_source.load(str(FIXTURES / "heap.pb.gz"))
    assert loaded.profiles[0].samples.values.tolist() == local.profiles[0].samples.values.tolist()
    assert loaded.profiles[0].source == f"{server}/debug/pprof/heap"


def test_text_heap_over_http(server: str) -> None:
    profile = profile_source.load(f"{server}/debug/pprof/heap?debug=1").profiles[0]
    assert profile.format == "go-heap-text"


def test_allocs_over_http(server: str) -> None:
    profile = profile_source.load(f"{server}/debug/pprof/allocs").profiles[0]
    assert profile.default_sample_type == "alloc_space"


def test_cpu_window_extends_the_timeout(server: str) -> None:
    # The answer comes after 2 s, later than the 1.9 s timeout alone allows; the window adds 2 s more.
    loaded = profile_source.load(f"{server}/debug/pprof/profile?seconds=2", timeout=1.9)
    assert loaded.profiles[0].sample_types[0].type == "goroutine"


def test_http_error_is_one_line(server: str) -> None:
    with pytest.raises(MapscopeError, match=r"HTTP 404 Not Found: Unknown profile$"):
        profile_source.load(f"{server}/debug/pprof/nosuch")


def test_timeout(server: str) -> None:
    # The server would answer (with nothing) after 3 s: only the timeout gives this error.
    with pytest.raises(MapscopeError, match=r"timed out after 0.5s"):
        profile_source.load(f"{server}/slow", timeout=0.5)


def test_size_cap(server: str) -> None:
    with pytest.raises(MapscopeError, match=r"larger than 1048576 bytes"):
        profile_source.load(f"{server}/big", max_bytes=1 << 20)


def test_dead_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MapscopeError, match=r"cannot connect: .*refused"):
        profile_source.load(f"http://127.0.0.1:{port}/debug/pprof/heap", timeout=2)


def test_not_http() -> None:
    with pytest.raises(MapscopeError, match="not an http"):
        profile_source.fetch("ftp://127.0.0.1/heap")
