"""Precision and recall of mapscope's map sites by bytes on real programs, profiled as a new user would.

  compile     the Go 1.27.3 compiler's own `-memprofile` (debug=1 text) while compiling a standard package
  types.test  a `go test -c go/types` binary run with -test.memprofile (allocs proto)
  pprofserver a live net/http/pprof server (tests/fixtures/services/pprofserver) under loopback traffic,
              its /debug/pprof/heap fetched as proto and as debug=1 text

Truth comes from the same profile bytes: `go tool pprof -raw` of the toolchain symbolizes every sample's
PCs with the binary (runtime frames and inlined frames included) and scripts/service_truth.py tells map
memory from the runtime frames. Where the profile writer hid the leaf runtime frames (protos), the CALL
at the innermost user PC (`go tool objdump`) names the runtime entry point: a map function is map memory,
and a `convT*` box is map memory when its line also calls `runtime.mapassign*`.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gen_service_profiles as gen
import service_truth as st

from mapscope import gotoolchain
from mapscope.analyses.map_sites import attribute
from mapscope.readers import profile_source
from mapscope.readers.pprof import sample_index

RELEASE = "1.27.3"
COMPILED_PACKAGE = "container/list"
TYPES_TESTS = "^Test(TypesInfo|DefsInfo|UsesInfo|ScopesInfo|FixedBugs|Issue.*|Lookup.*|Instantiate.*)$"
SERVER_REQUESTS = 3000
SERVER_RATE = "4096"
_LOCATION = re.compile(r"^\s*(\d+): 0x([0-9a-f]+) M=\d+ (.*)$")
_LINE = re.compile(r"^(\S.*?) (\S+):(\d+):\d+ s=\d+$")
_SAMPLE = re.compile(r"^\s*([-\d ]+): ([\d ]+)$")

Key = tuple[str, int]


@dataclass
class RealScore:
    program: str
    input: str
    truth_map: int
    reported_map: int
    recall: float
    precision: float
    total: int
    mapscope_total: int


def raw_samples(
    go: gotoolchain.Toolchain, binary: Path, profile: Path, column: str
) -> list[tuple[int, int, list[st.Frame]]]:
    """(value of `column`, leaf address, leaf-first frames) per sample, from `go tool pprof -raw`."""
    done = subprocess.run(
        [str(go.go), "tool", "pprof", "-raw", str(binary), str(profile)],
        env=go.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    header = lines.index("Samples:") + 1
    columns = [name.split("/")[0] for name in lines[header].split()]
    wanted = columns.index(column)
    locations: dict[int, tuple[int, list[st.Frame]]] = {}
    current: list[st.Frame] | None = None
    start = lines.index("Locations")
    for text in lines[start + 1 :]:
        if text.startswith("Mappings"):
            break
        match = _LOCATION.match(text)
        body = match.group(3) if match else text.strip()
        line = _LINE.match(body)
        frame = st.Frame(line.group(1), line.group(2), int(line.group(3))) if line else None
        if match:
            current = [frame] if frame else []
            locations[int(match.group(1))] = (int(match.group(2), 16), current)
        elif current is not None and frame is not None:
            current.append(frame)
    samples = []
    for text in lines[header + 1 : start]:
        match = _SAMPLE.match(text)
        if not match:
            continue
        value = int(match.group(1).split()[wanted])
        ids = [int(i) for i in match.group(2).split()]
        if not value or not ids:
            continue
        frames = [frame for i in ids for frame in locations[i][1]]
        samples.append((value, locations[ids[0]][0], frames))
    return samples


def _entry_cause(target: str | None) -> str | None:
    """The map cause of a runtime entry point called from user code (its own frames hidden)."""
    if target is None:
        return None
    if re.match(r"^runtime\.(makemap\w*|mapclone\w*)$|^maps\.clone$", target):
        return st.INITIAL
    if re.match(r"^runtime\.map(assign|access|delete|iter|clear)\w*$", target):
        return st.UNEXPLAINED
    return None


def truth_by_site(
    go: gotoolchain.Toolchain, binary: Path, profile: Path, column: str, calls: st.CallTargets
) -> tuple[dict[Key, int], int]:
    source = st.RuntimeSource(gen.goroot_src(go))

    def boxes(key: st.SiteKey) -> bool:
        return (key.file, key.line) in calls.stores

    found: dict[Key, int] = {}
    total = 0
    for value, leaf, frames in raw_samples(go, binary, profile, column):
        total += value
        key = st.site_of(frames)
        if key is None:
            continue
        # pprof's location addresses point into the call instruction (return address - 1).
        leaf_call = calls.at(leaf + 1) or calls.at(leaf)
        cause = st.classify(frames, leaf_call, source, boxes)
        if cause is None and st.site_index(frames) == 0:
            cause = _entry_cause(leaf_call)
        if cause is not None:
            found[(key.file, key.line)] = found.get((key.file, key.line), 0) + value
    return found, total


def score_input(
    program: str,
    name: str,
    profile: Path,
    binary: Path,
    sample: str,
    with_binary: bool,
    go: gotoolchain.Toolchain,
    calls: st.CallTargets,
) -> RealScore:
    column = {"alloc_space": "alloc_space", "inuse_space": "inuse_space"}[sample]
    truth, total = truth_by_site(go, binary, profile, column, calls)
    loaded = profile_source.load(str(profile), binary=binary if with_binary else None)
    parsed = loaded.profiles[0]
    report = attribute(parsed, sample_index(parsed, sample), None, None)
    # Both read the same samples; legacy text is unsampled by each in its own way, so mapscope's bytes
    # are brought to the truth's scale before they are compared.
    scale = total / report.total if report.total else 1.0
    have: dict[Key, int] = {}
    for site in report.sites:
        key = (Path(site.file).name, site.line)
        have[key] = have.get(key, 0) + round(site.value * scale)
    hit = sum(min(value, have.get(key, 0)) for key, value in truth.items())
    truth_map, reported_map = sum(truth.values()), sum(have.values())
    return RealScore(
        program,
        name,
        truth_map,
        reported_map,
        recall=hit / truth_map if truth_map else 1.0,
        precision=hit / reported_map if reported_map else 1.0,
        total=total,
        mapscope_total=report.total,
    )


def compile_profile(go: gotoolchain.Toolchain, out: Path) -> tuple[Path, Path]:
    """The compiler's own memory profile while it compiles COMPILED_PACKAGE (a fresh build of it)."""
    profile = out / "compile.memprof"
    profile.unlink(missing_ok=True)
    flags = f"-gcflags={COMPILED_PACKAGE}=-memprofile={profile} -memprofilerate=1"
    with tempfile.TemporaryDirectory() as cache:  # an empty build cache, so the compiler runs
        subprocess.run(
            [str(go.go), "build", "-o", os.devnull, flags, COMPILED_PACKAGE],
            env=go.env(GOCACHE=cache),
            check=True,
            timeout=600,
        )
    goroot = subprocess.run(
        [str(go.go), "env", "GOROOT", "GOHOSTOS", "GOHOSTARCH"],
        env=go.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return profile, Path(goroot[0]) / "pkg" / "tool" / f"{goroot[1]}_{goroot[2]}" / "compile"


def types_profile(go: gotoolchain.Toolchain, out: Path) -> tuple[Path, Path]:
    binary = out / "types.test"
    profile = out / "types.mem.pb.gz"
    goroot = gen.goroot_src(go)
    subprocess.run([str(go.go), "test", "-c", "-o", str(binary), "go/types"], env=go.env(), check=True)
    subprocess.run(
        [
            str(binary),
            f"-test.run={TYPES_TESTS}",
            "-test.short",
            f"-test.memprofile={profile}",
            "-test.memprofilerate=1",
        ],
        cwd=goroot / "go" / "types",
        env=go.env(),
        check=True,
        capture_output=True,
        timeout=600,
    )
    return profile, binary


def server_profiles(go: gotoolchain.Toolchain, out: Path) -> tuple[Path, Path, Path]:
    """Heap profiles (proto, debug=1 text) of the live pprofserver after bounded loopback traffic."""
    binary = out / "pprofserver"
    subprocess.run(
        [str(go.go), "build", "-trimpath", "-o", str(binary), "./pprofserver"],
        cwd=gen.SERVICES_DIR,
        env=go.env(),
        check=True,
    )
    env = {**os.environ, "MAPSCOPE_RATE": SERVER_RATE, "GOMAXPROCS": "2"}
    server = subprocess.Popen(
        [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert server.stdout is not None
        base = f"http://{server.stdout.readline().strip()}"
        for i in range(SERVER_REQUESTS):
            body = (b"v" * (i % 200)) or b"-"
            request = urllib.request.Request(
                f"{base}/put?k=key{i % 700}&t=tenant{i % 13}", data=body, method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read()
        proto, text = out / "server.heap.pb.gz", out / "server.heap.debug1.txt"
        for path, url in ((proto, f"{base}/debug/pprof/heap"), (text, f"{base}/debug/pprof/heap?debug=1")):
            path.write_bytes(profile_source.fetch(url))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)
    return proto, text, binary


def score_all(out: Path) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    go = gotoolchain.ensure(RELEASE)
    scores: list[RealScore] = []
    profile, binary = compile_profile(go, out)
    calls = st.CallTargets(go.go, binary, go.env())
    for name, with_binary in (("text", False), ("text+bin", True)):
        scores.append(score_input("compile", name, profile, binary, "alloc_space", with_binary, go, calls))
    profile, binary = types_profile(go, out)
    calls = st.CallTargets(go.go, binary, go.env())
    scores.append(score_input("types.test", "allocs", profile, binary, "alloc_space", False, go, calls))
    proto, text, binary = server_profiles(go, out)
    calls = st.CallTargets(go.go, binary, go.env())
    for sample in ("inuse_space", "alloc_space"):
        scores.append(
            score_input("pprofserver", f"heap.{sample[:5]}", proto, binary, sample, False, go, calls)
        )
    for name, with_binary in (("text", False), ("text+bin", True)):
        scores.append(score_input("pprofserver", name, text, binary, "alloc_space", with_binary, go, calls))
    return [asdict(score) for score in scores]


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'program':12} {'input':11} {'recall':>6} {'prec':>6} {'truth map B':>12} {'mapscope map B':>15}"
    ]
    for row in rows:
        lines.append(
            f"{row['program']:12} {row['input']:11} {100 * row['recall']:6.1f} {100 * row['precision']:6.1f} "
            f"{row['truth_map']:12d} {row['reported_map']:15d}"
        )
    return "\n".join(lines)
