"""Regenerate src/mapscope/analyses/benchstat_choose.json with a real Go toolchain (amd64).

Usage: .venv/bin/python scripts/gen_benchstat_choose.py [release]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from mapscope import gotoolchain

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "src" / "mapscope" / "analyses" / "benchstat_choose.json"


def main() -> None:
    toolchain = gotoolchain.ensure(sys.argv[1] if len(sys.argv) > 1 else "1.27.3")
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [str(toolchain.go), "run", str(REPO / "scripts" / "benchstat_choose.go")],
            env=toolchain.env(GOARCH="amd64", GOAMD64="v1", GOCACHE=str(Path(scratch) / "cache")),
            cwd=scratch,
            capture_output=True,
            text=True,
            check=True,
        )
    handle, temporary = tempfile.mkstemp(dir=TARGET.parent, prefix=".benchstat_choose.")
    with os.fdopen(handle, "w") as out:
        out.write(done.stdout)
    os.chmod(temporary, 0o644)
    os.replace(temporary, TARGET)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
