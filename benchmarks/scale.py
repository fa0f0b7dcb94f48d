"""TGI-Bench at the published benchmark's size: 500 folders x 4 lengths = 2000 cases.

    HF_HUB_OFFLINE=1 python benchmarks/scale.py [--folders 500] [--keep DIR] [--json]

Builds a copy in TGI-Bench's layout in a temporary folder (500 folders of 81 frames, tiny
16x16 JPEG frames: the counts are the point, not the pixels; 40,500 files), then times
what grows with the number of cases:

- ``load_benchmark`` (in this process), ``tgibench data info`` and ``tgibench data
  manifest`` (fresh processes: the wall a user waits, Python start-up included; the
  manifest hashes every file);
- resuming a finished 2000-case run (``tgibench evaluate`` again: nothing is re-scored);
- ``tgibench leaderboard`` over 8 runs of 2000 rows each, with its peak memory;
- the layout detection of ``tgibench score`` over 2000 video files (in this process).

Goals: each at most 5 s, the manifest at most 60 s, the leaderboard's peak memory under
1 GB. Making the finished run is not timed (it scores 2000 cases once).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tgibench.data import LENGTHS, load_benchmark
from tgibench.models.video_layout import resolve
from tgibench.rundir import RESULTS_FILE, RUN_FILE

GOALS = {"data manifest": 60.0}
DEFAULT_GOAL = 5.0
LEADERBOARD_MEMORY_GOAL_MB = 1024.0
CHALLENGES = ("dynamic motion", "linear motion", "occlusion", "near-static")


def build_copy(root: Path, folders: int, size: int = 16) -> None:
    """``folders`` folders of 81 frames (size x size JPEG) and the four caption files."""
    rng = np.random.default_rng(0)
    texture = (rng.random((size, size * 4, 3)) * 255).astype(np.uint8)
    encoded = []
    for shift in range(81):  # the same 81 frames in every folder: writing is the cost
        buffer = io.BytesIO()
        crop = texture[:, shift % (size * 3) : shift % (size * 3) + size]
        Image.fromarray(crop).save(buffer, format="JPEG")
        encoded.append(buffer.getvalue())
    records: dict[int, list[dict[str, str]]] = {n: [] for n in LENGTHS}
    for index in range(folders):
        folder = root / "TGI-Dataset" / f"clip{index:04d}"
        folder.mkdir(parents=True)
        for frame, data in enumerate(encoded):
            (folder / f"{frame:05d}.jpg").write_bytes(data)
        for n in LENGTHS:
            records[n].append(
                {
                    "folder": folder.name,
                    "first_image_desc": f"the first frame of clip {index}",
                    "last_image_desc": f"the last frame of clip {index}",
                    "challenge": CHALLENGES[index % 4],
                    "caption": f"The camera pans across clip {index}.",
                }
            )
    for n, entries in records.items():
        (root / f"{n}_dataset_caption.json").write_text(json.dumps(entries))


def _tgibench(*args: str, cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of a ``tgibench`` command in a fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tgibench", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        assert process.stderr is not None
        raise SystemExit(f"tgibench {' '.join(args)} failed: {process.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def clone_runs(run: Path, count: int) -> list[Path]:
    """``count`` copies of a finished run as other models (values shifted per copy)."""
    record = json.loads((run / RUN_FILE).read_text())
    rows = [json.loads(line) for line in (run / RESULTS_FILE).read_text().splitlines()]
    copies = []
    for index in range(count):
        copy = run.parent / f"model{index}"
        copy.mkdir()
        spec = f"hold:seed_note={index}" if index else record["model"]
        (copy / RUN_FILE).write_text(json.dumps({**record, "model": spec}))
        shifted = [{**row, "model": spec, "psnr": row["psnr"] + 0.1 * index} for row in rows]
        (copy / RESULTS_FILE).write_text("".join(json.dumps(r) + "\n" for r in shifted))
        copies.append(copy)
    return copies


def measure(folders: int, work: Path) -> list[dict[str, Any]]:
    root = work / "bench"
    results: list[dict[str, Any]] = []

    def add(name: str, seconds: float, **detail: Any) -> None:
        goal = GOALS.get(name, DEFAULT_GOAL)
        results.append(
            {"name": name, "seconds": round(seconds, 2), "goal": goal, "met": seconds <= goal}
            | detail
        )
        print(f"{name:<22} {seconds:8.2f} s  (goal <= {goal:g} s) {detail or ''}", flush=True)

    start = time.perf_counter()
    build_copy(root, folders)
    print(f"built {folders} folders in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    bench = load_benchmark(root)
    add("load_benchmark", time.perf_counter() - start, cases=len(bench))
    add("data info", _tgibench("data", "info", str(root), cwd=work)[0])
    add("data manifest", _tgibench("data", "manifest", str(root), "--out", "m.json", cwd=work)[0])

    run = work / "runs" / "hold"
    evaluate = ["evaluate", "--model", "hold", "--bench", str(root), "--metrics", "psnr"]
    evaluate += ["--no-videos", "-q", "--out", str(run)]
    start = time.perf_counter()
    _tgibench(*evaluate, cwd=work)
    print(f"scored {len(bench)} cases once in {time.perf_counter() - start:.1f} s", flush=True)
    add("resume finished run", _tgibench(*evaluate, cwd=work)[0])

    runs = clone_runs(run, 8)
    wall, peak = _tgibench("leaderboard", *map(str, runs), cwd=work)
    add("leaderboard 8 runs", wall, peak_memory_mb=round(peak))
    results[-1]["met"] &= peak < LEADERBOARD_MEMORY_GOAL_MB

    videos = work / "videos"
    videos.mkdir()
    for case in bench:
        (videos / f"{case.case_id}.mp4").touch()
    start = time.perf_counter()
    layout = resolve(videos, list(bench))
    add("score layout detection", time.perf_counter() - start, matched=len(layout.matched))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folders", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="tgibench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = measure(args.folders, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        for result in results:
            print(json.dumps(result))


if __name__ == "__main__":
    main()
