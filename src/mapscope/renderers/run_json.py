"""`mapscope run --json` and `mapscope report --json`: the manifest and every summary in one document.

The GC part is the summary and MMU curve (not every cycle: `mapscope gc stderr.txt --json` has those), with
the log's exact decimals as JSON numbers; the benchmark part is `mapscope bench compare --json`'s document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mapscope.analyses.run_summary import RunAnalysis
from mapscope.renderers.bench_text import document as bench_document
from mapscope.renderers.jsonout import dumps, to_jsonable
from mapscope.renderers.profile_json import report_json
from mapscope.runner.manifest import Manifest


def document(run_dir: Path, manifest: Manifest, analysis: RunAnalysis) -> dict[str, Any]:
    gc = analysis.gc
    return {
        "run_dir": str(run_dir),
        "manifest": manifest.to_json(),
        "gc": None
        if gc is None
        else to_jsonable({"source": gc.source, "input": gc.input, "summary": gc.summary, "mmu": gc.mmu}),
        "benchmarks": None if analysis.bench is None else bench_document(analysis.bench),
        "gc_per_op": [to_jsonable(row) for row in analysis.gc_per_op],
        "map_sites": [
            {"package": found.package, "profile": found.profile, "source_dir": found.source_dir}
            | report_json(found.report)
            for found in analysis.sites
        ],
        "models": [
            {**to_jsonable(row), "model_plus_pointees_b_per_entry": row.model_total}
            for row in analysis.models
        ],
        "notes": list(analysis.notes),
    }


def dumps_run(run_dir: Path, manifest: Manifest, analysis: RunAnalysis) -> str:
    return dumps(document(run_dir, manifest, analysis))
