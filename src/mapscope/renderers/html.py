"""The one Jinja environment of the HTML renderers: templates from renderers/templates, autoescaping on.

Autoescaping is what keeps a name from a benchmark, a profile or a log from turning into markup, so every
page is made through this environment; renderers hand templates plain strings and numbers.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader

__all__ = ["environment"]


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("mapscope.renderers", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
