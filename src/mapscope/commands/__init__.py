"""One module per CLI command (registered lazily by cli.COMMANDS): a command parses flags, calls one pipeline or
analysis, and picks a renderer. `count_option` and `model_options` are the option types commands share.
"""

__all__ = [
    "bench",
    "compare",
    "count_option",
    "gc",
    "go_toolchain",
    "measure",
    "model_options",
    "profile",
    "report",
    "run",
    "simulate",
    "size",
]
