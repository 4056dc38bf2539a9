"""The oracle: generated Go programs whose runtime.MemStats readings are the truth for the model.

`cases` declares what is measured, `program` writes the Go program, `runner` builds and runs it,
`records` are what it measured, `fixtures` keeps measured results for tests.
"""

__all__ = [
    "cases",
    "fixtures",
    "program",
    "records",
    "runner",
]
