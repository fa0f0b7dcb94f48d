"""What a user waits for: `tgibench evaluate` end to end against the floor of its cases.

``evaluate_vs_floor`` runs the command (a fresh process: Python start-up, imports, worker
processes, generation, scoring, writing the run directory) on a fixed set of mini-bench
cases and divides its wall time by the floor of the same cases, measured in this process
with the networks already loaded: decoding each case (its ground-truth frames and the
video the run saved), one pass of each backbone the run used over the frames it must see
(LPIPS: video, ground truth, the two keyframes; CLIP, when its weights are here: frames
and texts) and one optical flow per adjacent pair of the video.

The model is ``crossfade``, whose generation costs next to nothing, so the ratio is the
price of the harness. The run is the steady state of a benchmark: a first, untimed run
fills the feature cache with the ground truth's motion (computed once per case, for the
first model; its wall is in the detail as ``first_model``). Each round times a fresh run
and the floor, alternating; the ratio is the median over rounds.

Each round also times a bare fresh Python that imports what every worker needs (torch,
OpenCV, PyAV) and exits: ``startup_s`` in the detail, the part of the wall that no
command in a new process avoids. ``after_startup_vs_floor`` is (evaluate - that) / floor,
the median over rounds: what the harness costs beyond it. Neither changes ``ratio``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.scoring import floor_passes, interleaved, ratios
from tgibench.data import Case, load_benchmark
from tgibench.features.backbones import Backbones
from tgibench.features.store import ScoringInputs
from tgibench.metrics.registry import select_metrics
from tgibench.rundir import RESULTS_FILE, VIDEOS_DIR, read_rows
from tgibench.video import read_video, to_float
from tgibench.weights import cache_dir

MODEL = "crossfade"
#: The cases, by ``quick``: mini-bench lengths (every case of those lengths).
LENGTHS = {True: (25,), False: (25, 33, 65, 81)}
REPEATS = {True: 3, False: 2}  # --quick: small figures, more noise; a median of 3
#: Backbones the floor knows how to run (any other the run uses is named in the detail).
FLOOR_BACKBONES = {"lpips-alex", "clip"}


def _command(out: Path, lengths: tuple[int, ...]) -> list[str]:
    return [
        *(sys.executable, "-m", "tgibench", "evaluate", "--quiet"),
        *("--model", MODEL, "--bench", "mini", "--out", str(out)),
        *("--lengths", ",".join(map(str, lengths))),
    ]


def _time_evaluate(out: Path, lengths: tuple[int, ...], env: dict[str, str]) -> float:
    """Wall seconds of one `tgibench evaluate` into a new run directory ``out``."""
    start = time.perf_counter()
    done = subprocess.run(_command(out, lengths), env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"tgibench evaluate failed: {done.stderr[-2000:]}")
    return elapsed


#: A fresh process importing what every worker needs, then leaving as `tgibench` does.
BARE_IMPORTS = "import torch, cv2, av, os; os._exit(0)"


def _time_bare_start(env: dict[str, str]) -> float:
    """Wall seconds of a fresh Python importing torch, OpenCV and PyAV (and no more)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", BARE_IMPORTS], env=env, check=True)
    return time.perf_counter() - start


def _used_backbones(run: Path) -> set[str]:
    """Backbones of the metrics that got a value in the run (the others had no weights)."""
    scored = {k for row in read_rows(run / RESULTS_FILE) for k, v in row.items() if v is not None}
    return {b for m in select_metrics() if m.name in scored for b in m.backbones}


def _time_floor(cases: list[Case], videos: Path, nets: Backbones, clip: bool) -> float:
    """Seconds of the floor of ``cases`` (module docstring), videos read from ``videos``."""
    start = time.perf_counter()
    for case in cases:
        target = case.load_frames(torch.uint8)
        assert target is not None
        inputs = ScoringInputs(
            video=read_video(videos / f"{case.case_id}.mp4", dtype=torch.uint8),
            target=target,
            first=to_float(target[0]),
            last=to_float(target[-1]),
        )
        texts = [case.caption, case.first_desc, case.last_desc] if clip else None
        floor_passes(inputs, nets, texts)
    return time.perf_counter() - start


def measure_evaluate_vs_floor(quick: bool) -> dict[str, Any]:
    """``evaluate_vs_floor`` (module docstring): goal <= 1.5."""
    lengths = LENGTHS[quick]
    cases = list(load_benchmark("mini").filter(lengths=lengths))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"  # a cache of its own, with the converted LPIPS weights
        cache.mkdir()
        for weights in cache_dir().glob("lpips-*.safetensors"):
            shutil.copy(weights, cache)
        repo = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path, "TGIBENCH_CACHE": str(cache)}
        env["HF_HUB_OFFLINE"] = "1"
        first = Path(tmp) / "first"
        first_model = _time_evaluate(first, lengths, env)
        used = _used_backbones(first)
        nets = Backbones("cpu")
        for name in used & FLOOR_BACKBONES:
            nets.get(name)
        runs = iter(range(1000))
        timed = interleaved(
            {
                "evaluate": lambda: _time_evaluate(Path(tmp) / f"run{next(runs)}", lengths, env),
                "floor": lambda: _time_floor(cases, first / VIDEOS_DIR, nets, "clip" in used),
                "startup": lambda: _time_bare_start(env),
            },
            REPEATS[quick],
        )
    per_repeat = ratios(timed["evaluate"], timed["floor"])
    after_startup = [e - b for e, b in zip(timed["evaluate"], timed["startup"], strict=True)]
    return {
        "name": "evaluate_vs_floor",
        "ratio": statistics.median(per_repeat),
        "goal": 1.5,
        "per_repeat": per_repeat,
        "detail": {
            "command": " ".join(_command(Path("OUT"), lengths)[1:]),
            "cases": len(cases),
            "backbones": sorted(used),
            "not_in_floor": sorted(used - FLOOR_BACKBONES),
            "evaluate_s": [round(s, 2) for s in timed["evaluate"]],
            "floor_s": [round(s, 2) for s in timed["floor"]],
            "startup_s": [round(s, 2) for s in timed["startup"]],
            "after_startup_vs_floor": statistics.median(ratios(after_startup, timed["floor"])),
            "first_model_s": round(first_model, 2),
            "first_model_vs_floor": round(first_model / statistics.median(timed["floor"]), 3),
        },
    }
