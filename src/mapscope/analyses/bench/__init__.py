"""benchstat's summaries and A/B comparisons of Go benchmark results, number for number, as plain data.

`units` tidies and classes units, `stats` holds the statistics (medians, intervals, U test, geomeans) and
`tables` groups results into benchstat's tables; renderers/bench_text.py turns them into text.
"""

from mapscope.analyses.bench.stats import (
    Assumption,
    Summary,
    Test,
    mann_whitney_p,
    min_samples_for_ci,
    min_samples_for_difference,
)
from mapscope.analyses.bench.tables import (
    DEFAULT_ALPHA,
    DEFAULT_CONFIDENCE,
    BenchReport,
    Cell,
    Geomean,
    LabeledFile,
    Row,
    Table,
    compare,
    parse_key,
)
from mapscope.analyses.bench.units import UnitClass, tidy_unit, unit_class

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_CONFIDENCE",
    "Assumption",
    "BenchReport",
    "Cell",
    "Geomean",
    "LabeledFile",
    "Row",
    "Summary",
    "Table",
    "Test",
    "UnitClass",
    "compare",
    "mann_whitney_p",
    "min_samples_for_ci",
    "min_samples_for_difference",
    "parse_key",
    "tidy_unit",
    "unit_class",
]
