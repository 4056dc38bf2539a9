"""Real-program scoring (scripts/real_programs.py) on the live net/http/pprof server: its truth, read
from the fetched profile with the toolchain's `go tool pprof -raw` and `go tool objdump`, accounts for the
profile, finds the server's map stores, and today's attribution holds its floors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import real_programs as real
import service_truth as st

from mapscope.gotoolchain import Toolchain

pytestmark = pytest.mark.live

# Today's figures on main, with room for the sampling of a live heap: (recall, precision).
FLOORS = {"text+bin": (0.90, 0.85), "heap.inuse": (0.0, 0.90), "heap.alloc": (0.0, 0.90), "text": (0.0, 0.90)}


def test_live_server_truth_and_score(go_release: Callable[[str], Toolchain], tmp_path: Path) -> None:
    go = go_release(real.RELEASE)
    proto, text, binary = real.server_profiles(go, tmp_path)
    calls = st.CallTargets(go.go, binary, go.env())
    truth, total = real.truth_by_site(go, binary, text, "alloc_space", calls)
    assert 0 < sum(truth.values()) < total
    stores = {key for key in calls.stores if key[0] == "main.go"}
    assert stores, "the server stores into maps"
    assert any(key in truth for key in stores)
    rows = [
        real.score_input("pprofserver", "heap.inuse", proto, binary, "inuse_space", False, go, calls),
        real.score_input("pprofserver", "heap.alloc", proto, binary, "alloc_space", False, go, calls),
        real.score_input("pprofserver", "text", text, binary, "alloc_space", False, go, calls),
        real.score_input("pprofserver", "text+bin", text, binary, "alloc_space", True, go, calls),
    ]
    for row in rows:
        assert row.total == row.mapscope_total, row
        recall, precision = FLOORS[row.input]
        assert row.recall >= recall and row.precision >= precision, real.table([vars(r) for r in rows])
