"""Exports of a profile with its map causes: folded stacks and speedscope JSON.

Both carry the map cause of each sample as a virtual leaf frame, `[map: growth]`, so a flame graph tool
colours or searches map work by cause. Weights are the absolute sample values: speedscope draws heap
profiles only with positive weights (its issue #370), and folded-stack tools expect counts.
"""

from __future__ import annotations

import json
from collections import Counter

from mapscope.analyses import map_causes
from mapscope.readers.pprof import Profile

SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"
_UNITS = {"bytes": "bytes", "nanoseconds": "nanoseconds", "microseconds": "microseconds"}


def _cause_frame(cause: str) -> str:
    return f"[map: {cause}]"


def _stacks(profile: Profile, index: int, causes: list[str | None]) -> Counter[tuple[str, ...]]:
    """Root-first function names per sample (with the cause frame), summed by stack."""
    frames = map_causes.location_frames(profile)
    samples = profile.samples
    values = samples.values[:, index]
    totals: Counter[tuple[str, ...]] = Counter()
    for i in range(len(samples)):
        value = abs(int(values[i]))
        if value == 0:
            continue
        names: list[str] = []
        for location in samples.stack(i).tolist():
            lines = frames[location]
            if lines:
                names.extend(f.function for f in lines)
            else:
                names.append(f"{profile.locations[location].address:#x}")
        names.reverse()
        if causes[i] is not None:
            names.append(_cause_frame(str(causes[i])))
        totals[tuple(names)] += value
    return totals


def folded(profile: Profile, index: int, causes: list[str | None]) -> str:
    """Brendan Gregg's folded format: `root;...;leaf value` per distinct stack, sorted."""
    lines = [
        ";".join(n.replace(";", ":") for n in stack) + f" {value}"
        for stack, value in _stacks(profile, index, causes).items()
    ]
    return "".join(f"{line}\n" for line in sorted(lines))


def speedscope(profile: Profile, index: int, causes: list[str | None], name: str) -> str:
    """One sampled profile in speedscope's file format."""
    stacks = _stacks(profile, index, causes)
    frame_index: dict[str, int] = {}
    frames: list[dict[str, str]] = []
    samples, weights = [], []
    for stack, value in sorted(stacks.items()):
        ids = []
        for frame in stack:
            if frame not in frame_index:
                frame_index[frame] = len(frames)
                frames.append({"name": frame})
            ids.append(frame_index[frame])
        samples.append(ids)
        weights.append(value)
    sample_type = profile.sample_types[index]
    document = {
        "$schema": SPEEDSCOPE_SCHEMA,
        "exporter": "mapscope",
        "name": name,
        "activeProfileIndex": 0,
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": f"{name} ({sample_type.type})",
                "unit": _UNITS.get(sample_type.unit, "none"),
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
    }
    return json.dumps(document, separators=(",", ":"))
