"""Analyses are pure functions over records: no input reading, no printing, no text for display.

`bench` (benchstat's statistics and tables), `gc_summary` and `mmu` (gctrace), `bench_gc` (GC per benchmark
op), `map_sites`/`map_causes`/`map_shapes`/`cause_frames`/`profile_totals`/`profile_diff`/`flame` (pprof
attribution), `map_size`/`compare`/`model_vs_runtime`/`oracle_match` (the model), `run_summary` (a run).
"""

__all__ = [
    "bench",
    "bench_gc",
    "cause_frames",
    "compare",
    "flame",
    "gc_summary",
    "map_causes",
    "map_shapes",
    "map_sites",
    "map_size",
    "mmu",
    "model_vs_runtime",
    "oracle_match",
    "profile_diff",
    "profile_totals",
    "run_summary",
]
