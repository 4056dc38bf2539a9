"""Readers turn bytes (files, Go source, tool output) into typed records; they never print.

The public modules: one per input format. `bytecursor` is the batch line parser the text readers share.
"""

__all__ = [
    "arrivals",
    "bytecursor",
    "gctrace",
    "go_addr2line",
    "go_buildinfo",
    "go_source",
    "gobench",
    "gotype_source",
    "pprof",
    "pprof_text",
    "profile_source",
]
