"""Smoke test of the performance benchmarks: they run and report well-formed ratios.

No timing is asserted (docs/performance.md records the figures); this only guards the
scripts against rot.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXPECTED = {
    "shared_features_speedup",
    "suite_vs_floor",
    "peak_memory_vs_video",
    "kab_retro_overhead",
    "decode_decord_vs_pyav",
    "evaluate_vs_floor",
}


@pytest.mark.slow
def test_benchmarks_run_quick_and_print_ratios() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert {r["name"] for r in results} == EXPECTED
    for result in results:
        assert math.isfinite(result["ratio"]) and result["ratio"] > 0, result
        assert isinstance(result["detail"], dict) and result["detail"], result
        repeats = result["per_repeat"]
        assert len(repeats) >= 2 and min(repeats) <= result["ratio"] <= max(repeats), result
        assert result["spread"] == pytest.approx(
            (max(repeats) - min(repeats)) / result["ratio"], abs=1e-3
        )
