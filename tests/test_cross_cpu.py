"""Other CPUs, emulated on this one (benchmarks/cross_cpu.py): the mini-bench renders the same
bytes under every restriction of the libraries' kernel dispatch, and scores stay within the
tolerances docs/reliability.md states."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.cross_cpu import (
    CROSS_CPU_TOLERANCE,
    compare_runs,
    machine_variants,
    render_hashes,
    variant_process,
)

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {v.name: v for v in machine_variants()}
RENDER_VARIANTS = [name for name, v in VARIANTS.items() if not v.uses_torch or name == "oldest"]


@pytest.fixture(scope="module")
def rendered_here() -> dict[str, list[str]]:
    return render_hashes()


@pytest.mark.slow
@pytest.mark.parametrize("name", RENDER_VARIANTS)
def test_mini_bench_renders_the_same_bytes_on_every_cpu(
    name: str, rendered_here: dict[str, list[str]]
) -> None:
    # frames and JPEG files of every kind of scene: camera paths, cut-outs, footage shrunk
    # and enlarged (benchmarks/cross_cpu.py's SCENE_SAMPLES)
    done = variant_process(VARIANTS[name], ["render-hashes"], timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout)
    assert [k for k in rendered_here if theirs[k] != rendered_here[k]] == []


def _evaluate(name: str, out: Path) -> Path:
    run = out / name
    args = ["tgibench", "evaluate", "--model", "flow", "--bench", "mini", "--lengths", "25"]
    done = variant_process(
        VARIANTS[name],
        [*args, "--out", str(run), "--workers", "1", "--no-videos", "-q"],
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return run


@pytest.mark.slow
def test_scores_on_the_oldest_cpu_stay_within_the_stated_tolerance(tmp_path: Path) -> None:
    # flow generates with OpenCV and every metric scores with OpenCV and torch: under the
    # most restricted variant (OpenCV, NumPy, libm, libjpeg, FFmpeg and torch at once) each
    # case's each metric moves by no more than docs/reliability.md's table says
    differences = compare_runs(_evaluate("default", tmp_path), _evaluate("oldest", tmp_path))
    assert set(differences) == set(CROSS_CPU_TOLERANCE), "a metric without a stated tolerance"
    beyond = {
        metric: stats["abs"]
        for metric, stats in differences.items()
        if stats["abs"] > CROSS_CPU_TOLERANCE[metric]
    }
    assert beyond == {}


def test_the_documented_tolerances_are_the_ones_tested() -> None:
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    for metric, tolerance in CROSS_CPU_TOLERANCE.items():
        assert f"| {metric} | {tolerance:.0e} |" in text, metric
