"""Smoke tests of the benchmarks: they run and report well-formed ratios and figures.

No timing is asserted (docs/performance.md and docs/leaderboard.md record the figures);
this only guards the scripts against rot.
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


def _run_script(name: str, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    script = REPO / "benchmarks" / name
    out = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_leaderboard_statistics_benchmarks_run_and_print_their_figures() -> None:
    """The simulation and the speed script run small and print well-formed figures (the
    figures themselves are checked in docs/leaderboard.md, not here)."""
    text = _run_script("leaderboard_stats.py", "--runs", "100")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) == 3 + 4  # coverage of three metrics; rate, two powers, lone best
    shares = [float(cell.strip(" |%")) for row in rows for cell in row.split(" | ")[1:4]]
    assert len(shares) == 21 and all(0 <= share <= 100 for share in shares)
    text = _run_script("leaderboard_speed.py", "--runs", "3", "--cases", "50", "--metrics", "4")
    assert "3 runs x 50 cases x 4 metrics (2000 resamples):" in text
    assert math.isfinite(float(text.split(": ")[1].split(" s")[0]))
