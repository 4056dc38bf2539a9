"""The exact model of Go's heap: types, size classes and map layouts for every supported release.

`engine` answers for a map type, release and operations; `versions` names releases (`Target`), `gotypes` the
types, `records` the figures it returns; the layout modules (`buckets`, `swiss`, ...) serve the engine.
"""

__all__ = [
    "bucket_loads",
    "buckets",
    "engine",
    "entries",
    "gotypes",
    "ledger",
    "ops",
    "records",
    "scan",
    "simulate",
    "sizeclasses",
    "swiss",
    "swiss_loads",
    "tiny",
    "versions",
]
