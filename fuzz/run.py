"""Coverage-guided fuzzing of one mapscope command with atheris (libFuzzer): `python fuzz/run.py TARGET`.

The corpus lives in fuzz/corpus/TARGET (seeded from the project's fixtures and ../shared/samples on the
first run); inputs that break the contract, hang past --timeout or pass --rss-mb are written to
fuzz/crashers/TARGET, which tests/test_fuzz_crashers.py replays on every `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["mapscope"]):
    from fuzz.targets import ROOT, TARGETS, ContractError, check, seed_files

MAX_INPUT_BYTES = 1 << 20


def keep(crashers: Path, broken: ContractError, data: bytes) -> None:
    """One input per kind of break, the smallest seen, so the fuzzer goes on past the first find."""
    name = hashlib.sha1(broken.signature.encode()).hexdigest()[:12]
    path = crashers / name
    if path.exists() and path.stat().st_size <= len(data):
        return
    path.write_bytes(data)
    (crashers / f"{name}.why").write_text(f"{broken.signature}\n{broken}\n")
    print(f"broken ({len(data)} bytes): {str(broken)[:200]}", file=sys.stderr)


class Tally:
    """Inputs tried and broken, added to fuzz/survivors.json (which the README quotes) every few seconds:
    libFuzzer ends the process itself when its time is up, so there is no last word to wait for."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.inputs = self.broken = 0
        self.flushed = (0, 0)
        self.started = self.last = time.monotonic()

    def count(self, broken: bool) -> None:
        self.inputs += 1
        self.broken += broken
        now = time.monotonic()
        if now - self.last >= 5:
            self.flush(now)

    def flush(self, now: float) -> None:
        path = ROOT / "fuzz" / "survivors.json"
        totals = json.loads(path.read_text()) if path.exists() else {}
        entry = totals.setdefault(self.name, {"inputs": 0, "broken": 0, "seconds": 0})
        entry["inputs"] += self.inputs - self.flushed[0]
        entry["broken"] += self.broken - self.flushed[1]
        entry["seconds"] += round(now - self.last)
        self.flushed, self.last = (self.inputs, self.broken), now
        path.write_text(json.dumps(totals, indent=2, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("--rss-mb", type=int, default=1024)
    args = parser.parse_args()
    target = TARGETS[args.target]
    corpus = ROOT / "fuzz" / "corpus" / target.name
    crashers = ROOT / "fuzz" / "crashers" / target.name
    corpus.mkdir(parents=True, exist_ok=True)
    crashers.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for seed in seed_files(target):
            if seed.stat().st_size <= MAX_INPUT_BYTES:
                shutil.copy(seed, corpus / f"seed-{seed.parent.name}-{seed.name}")

    # One run outside libFuzzer's clock: the first call imports half of mapscope, and a timeout that
    # fires inside an import leaves a module half made for every later input.
    check(target, next(path for path in corpus.iterdir()).read_bytes())
    tally = Tally(target.name)

    def one_input(data: bytes) -> None:
        try:
            check(target, data)
        except ContractError as broken:
            keep(crashers, broken, data)
            tally.count(broken=True)
        else:
            tally.count(broken=False)

    atheris.Setup(
        [
            sys.argv[0],
            str(corpus),
            f"-max_total_time={args.seconds}",
            f"-timeout={args.timeout}",
            f"-rss_limit_mb={args.rss_mb}",
            f"-max_len={MAX_INPUT_BYTES}",
            f"-artifact_prefix={crashers}/",
            "-print_final_stats=1",
        ],
        one_input,
    )
    atheris.Fuzz()


if __name__ == "__main__":
    main()
