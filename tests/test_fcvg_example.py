"""docs/examples/batch_fcvg.py, FCVG's worked batch example: its case handling (reading an
export, writing N-frame videos under their final names, ``.failed`` for a case that fails)
with FCVG's models replaced by a stand-in (they need FCVG's clone, weights and a GPU)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np
from PIL import Image

from tgibench.data import load_benchmark
from tgibench.data.export import export_cases
from tgibench.data.manifest import benchmark_fingerprint
from tgibench.video import read_video

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "batch_fcvg.py"


def test_the_fcvg_example_writes_each_case_or_its_failure(tmp_path):
    bench = load_benchmark("mini")
    cases = bench.filter(lengths=[25, 33], challenges=["near-static"])
    export_cases(cases, benchmark_fingerprint(bench), "mini", tmp_path / "cases")
    example = runpy.run_path(str(EXAMPLE))
    seen: list[tuple[int, int]] = []

    def stand_in(first: Image.Image, last: Image.Image, num_frames: int, seed: int):
        seen.append((num_frames, seed))
        if len(seen) == 2:
            raise RuntimeError("CUDA out of memory")
        a, b = np.asarray(first, dtype=np.float32), np.asarray(last, dtype=np.float32)
        t = np.linspace(0, 1, num_frames)[:, None, None, None]
        return [Image.fromarray(f) for f in np.round((1 - t) * a + t * b).astype(np.uint8)]

    example["run"](tmp_path / "cases" / "cases.jsonl", stand_in)
    lines = [json.loads(x) for x in (tmp_path / "cases" / "cases.jsonl").read_text().splitlines()]
    assert [n for n, _ in seen] == [c["num_frames"] for c in lines] and len(lines) == len(cases)
    failed = tmp_path / "cases" / (lines[1]["video"] + ".failed")
    assert "CUDA out of memory" in failed.read_text()
    for case in lines[:1] + lines[2:]:
        video = read_video(tmp_path / "cases" / case["video"])
        assert video.shape[0] == case["num_frames"]
    assert not list((tmp_path / "cases").rglob("*.partial"))
