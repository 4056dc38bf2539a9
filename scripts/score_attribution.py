"""Score `mapscope profile`'s map-site attribution against the ground truth of the Go runtime itself.

Services mode (default): for every service x release directory that scripts/gen_service_profiles.py
wrote (generated here first unless --from DIR names existing output), runs mapscope's attribution
(`profile_source.load` + `map_sites.attribute`, what `mapscope profile` runs) on each input kind, with and
without `--source`, and compares it with truth.json, site by site (a site is file base name + line):

  heap.inuse   heap.pb.gz, inuse_space (what `mapscope profile heap.pb.gz` shows, no flags)
  heap.alloc   heap.pb.gz, alloc_space
  allocs       allocs.pb.gz, alloc_space
  text+bin     heap.debug1.txt (debug=1) with --binary, alloc_space
  text         heap.debug1.txt without the binary, alloc_space
  cpu          cpu.pb.gz (truth: the CPU profile's own stacks read by `go tool pprof -traces`)

Figures, by bytes (CPU: by samples' value):
  recall       truth map bytes that mapscope puts at the right site / all truth map bytes
  precision    mapscope's map bytes that are truly map bytes at that site / all mapscope's map bytes
  cause        bytes with the right cause at the right site / all truth map bytes
  type         truth map sites (typed by their `// map:` comment) whose reported map type is right
  value_err    sum over sites of |mapscope's map bytes - truth's| / all truth map bytes
  confidence   for each label (exact, split, guessed, none), how many of mapscope's cause shares match
               the truth's bytes for that site and cause within 1 %
  target_ok    whether the detected Go map implementation (bucket or Swiss) is the release's

Usage: python scripts/score_attribution.py [--from DIR] [--out DIR] [--json] [--real | --real-only]
  --real also scores real programs (scripts/real_programs.py: the compiler's -memprofile, a go/types
  test binary, a live net/http/pprof server): precision and recall by bytes, with and without the binary.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gen_service_profiles as gen
import real_programs
import service_truth as st

from mapscope import gotoolchain
from mapscope.analyses.map_sites import SiteReport, attribute
from mapscope.readers import profile_source
from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import sample_index

Key = tuple[str, int]


@dataclass(frozen=True)
class InputKind:
    name: str
    file: str
    sample: str
    with_binary: bool
    truth_column: str  # alloc_bytes, inuse_bytes, or cpu


INPUTS = (
    InputKind("heap.inuse", "heap.pb.gz", "inuse_space", False, "inuse_bytes"),
    InputKind("heap.alloc", "heap.pb.gz", "alloc_space", False, "alloc_bytes"),
    InputKind("allocs", "allocs.pb.gz", "alloc_space", False, "alloc_bytes"),
    InputKind("text+bin", "heap.debug1.txt", "alloc_space", True, "alloc_bytes"),
    InputKind("text", "heap.debug1.txt", "alloc_space", False, "alloc_bytes"),
    InputKind("cpu", "cpu.pb.gz", "cpu", False, "cpu"),
)
MODES = ("plain", "source")
_TOLERANCE = 0.01


@dataclass
class Score:
    """One service x release x input x mode."""

    service: str
    release: str
    input: str
    mode: str
    truth_map: int
    reported_map: int
    recall: float
    precision: float
    cause: float
    type_right: int
    type_sites: int
    value_error: float
    target: str
    target_ok: bool | None  # None for CPU profiles, where the implementation does not matter
    confidence: dict[str, list[int]] = field(default_factory=dict)  # label -> [right, total]
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Truth:
    """Truth map value per site and cause, and each site's annotated type."""

    by_cause: dict[Key, dict[str, int]]
    types: dict[Key, str]

    def site_totals(self) -> dict[Key, int]:
        return {key: sum(causes.values()) for key, causes in self.by_cause.items()}


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def truth_of(truth: Mapping[str, Any], column: str) -> Truth:
    by_cause: dict[Key, dict[str, int]] = {}
    types: dict[Key, str] = {}
    for site in truth["sites"]:
        causes = {c: v for c, v in site["map"].get(column, {}).items() if v > 0}
        if not causes:
            continue
        key = (site["file"], site["line"])
        merged = by_cause.setdefault(key, {})
        for cause, value in causes.items():
            merged[cause] = merged.get(cause, 0) + value
        if site["map_type"]:
            types[key] = site["map_type"]
    return Truth(by_cause, types)


def reported(
    report: SiteReport,
) -> tuple[dict[Key, dict[str, int]], dict[Key, str | None], list[tuple[Key, str, str, int]]]:
    """mapscope's map value per site and cause, its map types, and its shares (key, cause, label, value)."""
    by_cause: dict[Key, dict[str, int]] = {}
    types: dict[Key, str | None] = {}
    shares: list[tuple[Key, str, str, int]] = []
    for site in report.sites:
        key = (Path(site.file).name, site.line)
        merged = by_cause.setdefault(key, {})
        for share in site.shares:
            merged[str(share.cause)] = merged.get(str(share.cause), 0) + share.value
            shares.append((key, str(share.cause), share.confidence.value, share.value))
        if site.value > sum(s.value for s in site.shares):
            merged["unexplained"] = (
                merged.get("unexplained", 0) + site.value - sum(s.value for s in site.shares)
            )
        types[key] = types.get(key) or site.map_type
    return by_cause, types, shares


def compare(
    truth: Truth, report: SiteReport, labels: tuple[str, str, str, str], release: str, cpu: bool
) -> Score:
    got, got_types, shares = reported(report)
    want = truth.site_totals()
    have = {key: sum(causes.values()) for key, causes in got.items()}
    truth_map = sum(want.values())
    reported_map = sum(have.values())
    hit = sum(min(value, have.get(key, 0)) for key, value in want.items())
    cause_hit = sum(
        min(value, got.get(key, {}).get(cause, 0))
        for key, causes in truth.by_cause.items()
        for cause, value in causes.items()
    )
    error = sum(abs(have.get(key, 0) - want.get(key, 0)) for key in set(have) | set(want))
    type_right = sum(
        1
        for key, kind in truth.types.items()
        if got_types.get(key) and st.normalize_type(got_types[key] or "") == st.normalize_type(kind)
    )
    confidence: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, cause, label, value in shares:
        expected = truth.by_cause.get(key, {}).get(cause, 0)
        confidence[label][1] += 1
        if abs(expected - value) <= _TOLERANCE * max(expected, value):
            confidence[label][0] += 1
    swiss = not release.startswith(("1.22", "1.23"))
    detected_swiss = not report.target.startswith(("go1.22", "go1.23")) and "noswiss" not in report.target
    return Score(
        *labels,
        truth_map=truth_map,
        reported_map=reported_map,
        recall=_ratio(hit, truth_map),
        precision=_ratio(hit, reported_map),
        cause=_ratio(cause_hit, truth_map),
        type_right=type_right,
        type_sites=len(truth.types),
        value_error=error / truth_map if truth_map else 0.0,
        target=report.target,
        target_ok=None if cpu else swiss == detected_swiss,
        confidence=dict(confidence),
        missed=[f"{k[0]}:{k[1]}" for k, v in sorted(want.items(), key=lambda kv: -kv[1]) if not have.get(k)][
            :5
        ],
        spurious=[
            f"{k[0]}:{k[1]}" for k, v in sorted(have.items(), key=lambda kv: -kv[1]) if not want.get(k)
        ][:5],
    )


# -- CPU truth: the profile's own stacks, read by the toolchain's pprof ---------------------------------

_CPU_ENTRY = (
    (re.compile(r"^runtime\.mapaccess"), "lookup"),
    (re.compile(r"^runtime\.mapassign"), "insert"),
    (re.compile(r"^runtime\.mapdelete"), "delete"),
    (re.compile(r"^runtime\.(mapiter\w*|mapIter\w*)$"), "iterate"),
    (re.compile(r"^runtime\.mapclear"), "clear"),
    (re.compile(r"^runtime\.makemap"), "make"),
    (re.compile(r"^(runtime\.mapclone\w*|maps\.clone)$"), "clone"),
)
_CPU_MAP_FRAME = re.compile(
    r"^(runtime\.(map\w+|makemap\w*|hashGrow|growWork\w*|evacuate\w*|\(\*hmap\)\.\w+|\(\*bmap\)\.\w+)"
    r"|internal/runtime/maps\.|maps\.clone$)"
)
_CPU_HASH = re.compile(
    r"^runtime\.((mem|str|aes|f32|f64|c64|c128|inter|nilinter)hash\w*|efaceHash|typehash)$"
)
_CPU_OVERFLOW = frozenset(("runtime.(*hmap).newoverflow", "runtime.(*hmap).createOverflow"))
_DURATION = re.compile(r"^\s*([\d.]+)(ns|us|µs|ms|s)\s+(\S.*)$")
_UNIT = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def cpu_truth(
    go: gotoolchain.Toolchain, profile: Path, binary: Path
) -> tuple[dict[Key, dict[str, int]], int]:
    """CPU time per site and map operation, from `go tool pprof -traces` (functions and lines via -lines)."""
    done = subprocess.run(
        [str(go.go), "tool", "pprof", "-traces", "-lines", str(binary), str(profile)],
        env=go.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    by_cause: dict[Key, dict[str, int]] = {}
    total = 0
    for block in done.stdout.split("-----------+")[1:]:
        lines = [line for line in block.splitlines()[1:] if line.strip()]
        if not lines:
            continue
        first = _DURATION.match(lines[0])
        if first is None:
            continue
        value = round(float(first.group(1)) * _UNIT[first.group(2)])
        total += value
        frames = [first.group(3).strip(), *(line.strip() for line in lines[1:])]
        parsed = [_cpu_frame(text) for text in frames]
        site = next((i for i, (fn, _, _) in enumerate(parsed) if not st.is_runtime(fn)), None)
        if site is None:
            continue
        run = [fn for fn, _, _ in parsed[:site]]
        if not any(_CPU_MAP_FRAME.match(fn) for fn in run):
            continue
        cause = _cpu_cause(run)
        _, file, line = parsed[site]
        merged = by_cause.setdefault((file, line), {})
        merged[cause] = merged.get(cause, 0) + value
    return by_cause, total


def _cpu_cause(run: list[str]) -> str:
    """Hashing when a hash function is the leaf-most map work, growth when the map makes room (grow,
    evacuate, split, overflow buckets), else the operation the user's line called."""
    if _CPU_HASH.match(run[0]):
        return "hash"
    if any(st.GROWTH_FRAME.match(fn) or fn in _CPU_OVERFLOW for fn in run):
        return "growth"
    for fn in reversed(run):
        for pattern, name in _CPU_ENTRY:
            if pattern.match(fn):
                return name
    return "hash"


def _cpu_frame(text: str) -> tuple[str, str, int]:
    """`main.busy /x/main.go:92 (inline)` -> (function, base name, line)."""
    parts = text.replace("(inline)", "").split()
    function = parts[0]
    where = parts[1] if len(parts) > 1 else ":0"
    file, _, line = where.rpartition(":")
    return function, Path(file).name, int(line) if line.isdigit() else 0


# -- running mapscope --------------------------------------------------------------------------------


def run_mapscope(path: Path, kind: InputKind, binary: Path | None, tree: SourceTree | None) -> SiteReport:
    loaded = profile_source.load(str(path), binary=binary if kind.with_binary else None)
    profile = loaded.profiles[0]
    return attribute(profile, sample_index(profile, kind.sample), tree, None)


def score_run(directory: Path, go: gotoolchain.Toolchain) -> list[Score]:
    """Every input kind x mode of one generated service run."""
    truth_file = json.loads((directory / "truth.json").read_text())
    service, release = truth_file["service"], truth_file["release"]
    binary = directory / truth_file["binary"]
    tree = SourceTree(gen.SERVICES_DIR)
    scores = []
    for kind in INPUTS:
        if kind.truth_column == "cpu":
            by_cause, _ = cpu_truth(go, directory / kind.file, binary)
            truth = Truth(by_cause, {})
        else:
            truth = truth_of(truth_file, kind.truth_column)
        for mode in MODES:
            report = run_mapscope(directory / kind.file, kind, binary, tree if mode == "source" else None)
            labels = (service, release, kind.name, mode)
            scores.append(compare(truth, report, labels, release, kind.truth_column == "cpu"))
    return scores


def _pct(value: float) -> str:
    return f"{100 * value:5.1f}"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else "ok" if ok else "WRONG"


def table(scores: Iterable[Score]) -> str:
    header = (
        f"{'service':9} {'go':7} {'input':10} {'mode':6} {'recall':>6} {'prec':>6} {'cause':>6} "
        f"{'type':>5} {'valerr':>6} {'target':8} {'exact':>7} {'split':>7} {'guess':>7}  missed / spurious"
    )
    rows = [header]
    for s in scores:
        conf = {label: f"{r}/{t}" for label, (r, t) in s.confidence.items()}
        rows.append(
            f"{s.service:9} {s.release:7} {s.input:10} {s.mode:6} {_pct(s.recall):>6} {_pct(s.precision):>6} "
            f"{_pct(s.cause):>6} {s.type_right:>2}/{s.type_sites:<2} {_pct(s.value_error):>6} "
            f"{_verdict(s.target_ok):8} {conf.get('exact', '-'):>7} {conf.get('split', '-'):>7} "
            f"{conf.get('guessed', '-'):>7}  {','.join(s.missed[:3])} / {','.join(s.spurious[:3])}"
        )
    return "\n".join(rows)


def summary(scores: list[Score]) -> dict[str, dict[str, float]]:
    """Byte-weighted recall, precision and cause accuracy per input x mode over all services and releases,
    the share of typed sites with the right type, of runs with the right implementation, and of the cause
    shares of each confidence label that match the truth."""
    out: dict[str, dict[str, float]] = {}
    groups: dict[str, list[Score]] = defaultdict(list)
    for s in scores:
        groups[f"{s.input}/{s.mode}"].append(s)
    for name, members in groups.items():
        truth = sum(s.truth_map for s in members)
        rep = sum(s.reported_map for s in members)
        judged = [s for s in members if s.target_ok is not None]
        out[name] = {
            "recall": _ratio(round(sum(s.recall * s.truth_map for s in members)), truth),
            "precision": _ratio(round(sum(s.precision * s.reported_map for s in members)), rep),
            "cause": _ratio(round(sum(s.cause * s.truth_map for s in members)), truth),
            "type": _ratio(sum(s.type_right for s in members), sum(s.type_sites for s in members)),
            "target_ok": _ratio(sum(bool(s.target_ok) for s in judged), len(judged)),
        }
        for label in ("exact", "split", "guessed"):
            right = sum(s.confidence.get(label, [0, 0])[0] for s in members)
            shares = sum(s.confidence.get(label, [0, 0])[1] for s in members)
            if shares:
                out[name][f"{label}_right"] = right / shares
    return out


def score_services(source: Path) -> list[Score]:
    scores: list[Score] = []
    for directory in sorted(source.glob("go*/*")):
        if (directory / "truth.json").is_file():
            release = directory.parent.name.removeprefix("go")
            scores.extend(score_run(directory, gotoolchain.ensure(release)))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="source", type=Path, help="output of gen_service_profiles.py")
    parser.add_argument("--out", type=Path, default=gen.DEFAULT_OUT, help="where to generate (no --from)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--real", action="store_true", help="also score real programs (real_programs.py)")
    parser.add_argument("--real-only", action="store_true", help="score only the real programs")
    args = parser.parse_args()
    real = real_programs.score_all(args.out / "real") if args.real or args.real_only else []
    source = args.source
    if args.real_only:
        print(json.dumps({"real": real}, indent=1) if args.json else real_programs.table(real))
        return
    if source is None:
        for release in gen.RELEASES:
            for service in gen.SERVICES:
                gen.generate(release, service, args.out)
        source = args.out
    scores = score_services(source)
    if args.json:
        json.dump(
            {"services": [asdict(s) for s in scores], "summary": summary(scores), "real": real},
            sys.stdout,
            indent=1,
        )
        print()
        return
    print(table(scores))
    print()
    for name, figures in summary(scores).items():
        print(f"{name:18} " + "  ".join(f"{k} {_pct(v)}" for k, v in figures.items()))
    if real:
        print()
        print(real_programs.table(real))


if __name__ == "__main__":
    main()
