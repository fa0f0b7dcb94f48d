"""Run TGI-Bench's performance benchmarks in one process and print their ratios.

    python benchmarks/run.py [--quick] [--json] [--only NAME ...]

Each benchmark measures the things it compares in the same run (these machines are noisy,
so only ratios measured together mean anything), repeats the measurement, and reports
``{"name", "ratio", "goal", "per_repeat", "spread", "detail"}``: ``ratio`` is the median
of the repeats' ratios ``per_repeat``, ``spread`` their range over the median; with
``--json`` one JSON object per line. ``--quick`` uses small shapes and finishes in about
five minutes on 2 cores; it is what CI runs as a smoke test (no timing assertions).
docs/performance.md records the full figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# As `tgibench` does (tgibench.cli.main), before torch is imported: idle OpenMP threads
# sleep rather than spin, for the timings here and in their child processes.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from benchmarks.decode import measure_decode
from benchmarks.evaluate import measure_evaluate_vs_floor
from benchmarks.kab_overhead import measure_kab_retro_overhead
from benchmarks.scoring import measure_peak_memory, measure_scoring

Result = dict[str, Any]
BENCHMARKS: dict[str, Callable[[bool], list[Result]]] = {
    "scoring": measure_scoring,  # shared_features_speedup, suite_vs_floor
    "peak_memory": lambda quick: [measure_peak_memory(quick)],
    "kab_retro_overhead": lambda quick: [measure_kab_retro_overhead(quick)],
    "decode": lambda quick: [measure_decode(quick)],
    "evaluate": lambda quick: [measure_evaluate_vs_floor(quick)],
}


def spread(per_repeat: list[float]) -> float:
    """Range of the repeats' ratios over their median (0: they agree exactly)."""
    middle = statistics.median(per_repeat)
    return round((max(per_repeat) - min(per_repeat)) / middle, 3) if middle else math.inf


def _verdict(result: Result) -> str:
    goal, ratio = result.get("goal"), result["ratio"]
    if goal is None:
        return "(no goal)"
    lower_is_better = result["name"] != "shared_features_speedup"
    met = ratio <= goal if lower_is_better else ratio >= goal
    return f"goal {'<=' if lower_is_better else '>='} {goal}: {'met' if met else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes (CI smoke test)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="a subset")
    args = parser.parse_args(argv)
    for name in args.only or BENCHMARKS:
        start = time.perf_counter()
        for result in BENCHMARKS[name](args.quick):
            result["spread"] = spread(result["per_repeat"])
            result.setdefault("detail", {})["wall_seconds"] = round(time.perf_counter() - start, 1)
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                print(
                    f"{result['name']:<26} ratio {result['ratio']:<8} {_verdict(result)}; "
                    f"repeats {result['per_repeat']} (spread {result['spread']:.1%})"
                )
                print(f"{'':<26} {json.dumps(result['detail'])}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
