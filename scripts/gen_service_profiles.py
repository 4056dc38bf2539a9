"""Build and run the services of tests/fixtures/services with real Go toolchains; write their profiles and
the ground truth of their map memory.

Each service (stdlib only, see its main.go) sets runtime.MemProfileRate = 1 before it allocates, runs a
fixed workload and writes heap.pb.gz, allocs.pb.gz, heap.debug1.txt, cpu.pb.gz and memprofile.json
(every runtime.MemProfile record, its whole stack symbolized in the process). This script keeps the
binary, labels each record with scripts/service_truth.py (site, map or not, cause; the `// map: TYPE`
comments of the source give each map line its type) and writes truth.json beside the profiles:

    OUT/go<release>/<service>/{<service> (binary), heap.pb.gz, allocs.pb.gz, heap.debug1.txt,
                               cpu.pb.gz, memprofile.json, truth.json}

Usage: python scripts/gen_service_profiles.py [--out DIR] [--release 1.22.10 ...] [--service NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import service_truth as st

from mapscope import gotoolchain

RELEASES = ("1.22.10", "1.27.3")
ROOT = Path(__file__).resolve().parent.parent
SERVICES_DIR = ROOT / "tests" / "fixtures" / "services"
SERVICES = ("sessions", "index", "config")
BUILD_FLAGS = ("-trimpath", "-buildvcs=false")
DEFAULT_OUT = ROOT / "build" / "services"


def build(toolchain: gotoolchain.Toolchain, service: str, binary: Path) -> None:
    subprocess.run(
        [str(toolchain.go), "build", *BUILD_FLAGS, "-o", str(binary), f"./{service}"],
        cwd=SERVICES_DIR,
        env=toolchain.env(),
        check=True,
    )


def goroot_src(toolchain: gotoolchain.Toolchain) -> Path:
    return toolchain.go.parent.parent / "src"


def _frames(record: dict[str, Any]) -> list[st.Frame]:
    return [st.Frame(f["function"], f["file"], f["line"]) for f in record["frames"]]


def label(
    raw: dict[str, Any], service: str, calls: st.CallTargets, source: st.RuntimeSource
) -> dict[str, Any]:
    """The truth of one run: per site, its bytes and objects (allocated and in use), map or not, by cause."""
    typed = st.map_lines(SERVICES_DIR / service)

    def map_type(key: st.SiteKey) -> str | None:
        return typed.get((key.file, key.line)) if key.function.startswith("main.") else None

    def boxes(key: st.SiteKey) -> bool:
        found = map_type(key)
        return found is not None and st.has_interface(found)

    sites: dict[st.SiteKey, dict[str, Any]] = {}
    totals: dict[str, int] = defaultdict(int)
    for record in raw["records"]:
        frames = _frames(record)
        pcs = record["pcs"] or []
        counts = {
            "alloc_bytes": record["alloc_bytes"],
            "alloc_objects": record["alloc_objects"],
            "inuse_bytes": record["alloc_bytes"] - record["free_bytes"],
            "inuse_objects": record["alloc_objects"] - record["free_objects"],
        }
        for name, value in counts.items():
            totals[name] += value
        key = st.site_of(frames)
        if key is None:
            key = st.SiteKey("(runtime)", "", 0)
            cause = None
        else:
            cause = st.classify(frames, calls.at(pcs[0]) if pcs else None, source, boxes)
        site = sites.setdefault(
            key,
            {
                "function": key.function,
                "file": key.file,
                "line": key.line,
                "map_type": map_type(key),
                "all": defaultdict(int),
                "map": defaultdict(lambda: defaultdict(int)),
            },
        )
        for name, value in counts.items():
            site["all"][name] += value
            if cause is not None:
                site["map"][name][cause] += value
    return {
        "go_version": raw["go_version"],
        "mem_profile_rate": raw["mem_profile_rate"],
        "totals": dict(totals),
        "annotated": [
            {"file": file, "line": line, "map_type": kind} for (file, line), kind in sorted(typed.items())
        ],
        "sites": [
            {**site, "all": dict(site["all"]), "map": {k: dict(v) for k, v in site["map"].items()}}
            for site in sorted(sites.values(), key=lambda s: (s["file"], s["line"], s["function"]))
        ],
    }


def generate(release: str, service: str, out: Path) -> Path:
    """Build, run and label one service with one release; returns its output directory."""
    toolchain = gotoolchain.ensure(release)
    target = out / f"go{release}" / service
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    binary = target / service
    build(toolchain, service, binary)
    env = {**os.environ, "GOMAXPROCS": "2", "GOTOOLCHAIN": "local"}
    subprocess.run([str(binary), str(target)], env=env, check=True, timeout=300)
    raw = json.loads((target / "memprofile.json").read_text())
    calls = st.CallTargets(toolchain.go, binary, toolchain.env())
    truth = label(raw, service, calls, st.RuntimeSource(goroot_src(toolchain)))
    truth.update(service=service, release=release, binary=binary.name)
    (target / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--release", action="append", choices=RELEASES)
    parser.add_argument("--service", action="append", choices=SERVICES)
    args = parser.parse_args()
    for release in args.release or RELEASES:
        for service in args.service or SERVICES:
            target = generate(release, service, args.out)
            print(target)


if __name__ == "__main__":
    main()
