"""Renderers turn analysis results into terminal tables, JSON, HTML and charts; they never compute.

Shared by all: `console` (the one rich console factory), `html` (the one Jinja environment), `jsonout` (the
one JSON policy). Per command family: `<family>_terminal`, `<family>_json`, `<family>_html`, ...; a table
shown by several of them has one view-model (`bench_text`).
"""

__all__ = [
    "bench_terminal",
    "bench_text",
    "console",
    "gc_csv",
    "gc_html",
    "gc_json",
    "gc_terminal",
    "html",
    "jsonout",
    "model_json",
    "model_terminal",
    "oracle_terminal",
    "profile_export",
    "profile_html",
    "profile_json",
    "profile_proto",
    "profile_terminal",
    "run_html",
    "run_json",
    "run_terminal",
    "units",
]
