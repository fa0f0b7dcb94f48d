"""Crash safety, multi-process runs and bad input (issue: trustworthy runs at scale)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import record, write_tgi_layout
from PIL import Image

from tgibench.eval.config import EvalConfig
from tgibench.eval.runner import evaluate
from tgibench.rundir import RESULTS_FILE, read_rows

# torchrun gives each rank one thread; single-process comparisons use the same, because a
# float reduction's order (and so its last bits) depends on the number of threads.
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


@pytest.fixture
def bench9(tmp_path) -> Path:
    folders = {f"clip{i}": 33 for i in range(6)}
    records = {
        25: [record(f"clip{i}", ("linear motion", "occlusion")[i % 2]) for i in range(6)],
        33: [record(f"clip{i}") for i in range(3)],
    }
    return write_tgi_layout(tmp_path / "bench", folders, records, size=(64, 96))


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tgibench", "evaluate", "--quiet", *args]


def _reference(bench: Path, out: Path, model: str = "flow") -> bytes:
    """results.jsonl of an uninterrupted run in one process."""
    subprocess.run(
        _cli("--model", model, "--bench", str(bench), "--out", str(out), "--workers", "1"),
        env=ONE_THREAD,
        check=True,
    )
    return (out / RESULTS_FILE).read_bytes()


def _kill_after_new_rows(command: list[str], results: Path, extra_delay: float) -> list[int]:
    """Start a run, wait until it has written a new row, then SIGKILL it ``extra_delay``
    later; return the ids of the processes it had started (its workers and the server
    they are forked from, with their own children), if any."""
    start_rows = len(read_rows(results))
    proc = subprocess.Popen(
        command, env=ONE_THREAD, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while (
        len(read_rows(results)) == start_rows
        and proc.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    time.sleep(extra_delay)
    children = _descendants(proc.pid) if Path("/proc/self/stat").is_file() else []
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return children


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_gives_identical_results(bench9, tmp_path):
    expected = _reference(bench9, tmp_path / "reference")
    out = tmp_path / "killed"
    command = _cli("--model", "flow", "--bench", str(bench9), "--out", str(out), "--workers", "1")
    for extra_delay in (0.0, 0.13, 0.31):  # just after a row, mid-case, later in a case
        _kill_after_new_rows(command, out / RESULTS_FILE, extra_delay)
        rows = read_rows(out / RESULTS_FILE)
        assert len({r["case_id"] for r in rows}) == len(rows)  # never a duplicated row
    assert 0 < len(read_rows(out / RESULTS_FILE)) < 9
    done = subprocess.run(command, env=ONE_THREAD, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / RESULTS_FILE).read_bytes() == expected
    assert not list(out.rglob("*.tmp"))  # no half-written file left behind


def _descendants(pid: int) -> list[int]:
    """Process ids of ``pid``'s children, their children and so on (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # gone meanwhile
            continue
    found = [child for child, parent in parents.items() if parent == pid]
    for child in found:  # grows while it is read: breadth first
        found += [grandchild for grandchild, parent in parents.items() if parent == child]
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads Linux's /proc")
def test_sigkill_with_workers_then_resume_gives_identical_results(bench9, tmp_path):
    """The parent of two workers killed at any moment: no torn or duplicated row, the
    workers leave by themselves, and a resume (with or without workers) finishes the run
    with the rows of an uninterrupted single-process run."""
    expected = _reference(bench9, tmp_path / "reference")
    out = tmp_path / "killed"
    command = _cli("--model", "flow", "--bench", str(bench9), "--out", str(out), "--workers", "2")
    orphans: list[int] = []
    for extra_delay in (0.0, 0.21):
        orphans += _kill_after_new_rows(command, out / RESULTS_FILE, extra_delay)
        rows = read_rows(out / RESULTS_FILE)
        assert len({r["case_id"] for r in rows}) == len(rows)
    assert 0 < len(read_rows(out / RESULTS_FILE)) < 9 and len(orphans) >= 2
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in orphans) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in orphans if Path(f"/proc/{pid}").exists()]
    done = subprocess.run(command, env=ONE_THREAD, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / RESULTS_FILE).read_bytes() == expected
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_torchrun_two_processes_equal_single_process(bench9, tmp_path):
    expected = _reference(bench9, tmp_path / "single")
    out = tmp_path / "sharded"
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-port",
        str(29500 + os.getpid() % 1000),
    ]
    command = [
        *torchrun,
        *("-m", "tgibench", "evaluate", "--quiet", "--model", "flow"),
        *("--bench", str(bench9), "--out", str(out)),
    ]
    done = subprocess.run(command, env=ONE_THREAD, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "9 scored, 0 failed, 0 already done (of 9)" in done.stdout
    assert (out / RESULTS_FILE).read_bytes() == expected
    assert not list(out.glob("results.rank*.jsonl"))
    again = subprocess.run(command, env=ONE_THREAD, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 scored, 0 failed, 9 already done (of 9)" in again.stdout  # every rank's cases
    assert (out / RESULTS_FILE).read_bytes() == expected


def test_interrupted_sharded_run_resumes_single_process(bench9, tmp_path):
    """Part files of a killed sharded run count as done and are merged in order."""
    from tgibench.eval.distributed import Shard

    out = tmp_path / "run"
    config = EvalConfig(model="crossfade", bench=str(bench9), out=out, metrics=("psnr",))
    reference = EvalConfig(
        model="crossfade", bench=str(bench9), out=tmp_path / "ref", metrics=("psnr",)
    )
    evaluate(reference, progress=False)
    # rank 1 of 2 ran alone and died before the merge: only its part file exists
    shard = Shard(rank=1, world_size=2)
    from tgibench.eval import runner

    bench_cases = runner.load_benchmark(str(bench9))
    mine = [c for i, c in enumerate(bench_cases) if shard.owns(i)]
    summary = runner.RunSummary(run_dir=out, total=len(mine))
    (out).mkdir()
    runner.start_or_resume(
        out,
        config,
        {
            "created": "t",
            "config": config.to_json(),
            "benchmark": {"fingerprint": runner.benchmark_fingerprint(bench_cases)},
        },
    )
    runner._run_cases(
        mine,
        runner.build_model("crossfade"),
        runner.select_metrics(["psnr"]),
        config,
        shard.results_path(out),
        summary,
        False,
        "rank1",
    )
    assert (out / "results.rank1.jsonl").is_file()
    resumed = evaluate(config, progress=False)
    assert resumed.skipped == len(mine) and resumed.scored == 9 - len(mine)
    assert (out / RESULTS_FILE).read_bytes() == (tmp_path / "ref" / RESULTS_FILE).read_bytes()


def test_bad_frames_in_the_benchmark(tmp_path):
    root = write_tgi_layout(
        tmp_path,
        {"gray": 25, "rgba": 25, "sizes": 25, "ok": 25, "empty": 0},
        {25: [record(n) for n in ("gray", "rgba", "sizes", "ok", "empty")]},
    )
    frames = root / "TGI-Dataset"
    for i in range(25):
        Image.open(frames / "gray" / f"{i:05d}.jpg").convert("L").save(
            frames / "gray" / f"{i:05d}.jpg"
        )
        rgba = Image.open(frames / "rgba" / f"{i:05d}.jpg").convert("RGBA")
        (frames / "rgba" / f"{i:05d}.jpg").unlink()
        rgba.save(frames / "rgba" / f"{i:05d}.png")
    Image.fromarray(np.zeros((40, 96, 3), np.uint8)).save(frames / "sizes" / "00004.jpg")
    summary = evaluate(
        EvalConfig(model="crossfade", bench=str(root), out=tmp_path / "run", metrics=("psnr",)),
        progress=False,
    )
    errors = dict(summary.failed)
    assert set(errors) == {"sizes-25", "empty-25"}
    assert (
        "00004.jpg: frame size (40, 96) differs from the first frame's (32, 48)"
        in errors["sizes-25"]
    )
    assert "has 0 frames" in errors["empty-25"]
    assert summary.scored == 3  # grayscale and RGBA frames are read as RGB


def test_missing_weights_make_a_metric_unavailable_not_a_number(tgi_root, tmp_path, monkeypatch):
    from tgibench.metrics.functional.reconstruction import default_lpips_net

    default_lpips_net.cache_clear()
    monkeypatch.setenv("TGIBENCH_LPIPS_WEIGHTS", str(tmp_path / "absent.safetensors"))
    summary = evaluate(
        EvalConfig(
            model="crossfade",
            bench=str(tgi_root),
            out=tmp_path / "run",
            lengths=(25,),
            metrics=("psnr", "lpips"),
        ),
        progress=False,
    )
    assert summary.ok and "absent.safetensors" in summary.unavailable["lpips"]
    rows = read_rows(tmp_path / "run" / RESULTS_FILE)
    assert all(r["lpips"] is None and r["psnr"] > 0 for r in rows)
    assert "weights unavailable" in rows[0]["unavailable"]["lpips"]


def test_corrupt_and_truncated_videos_when_scoring(tgi_root, tmp_path):
    made = tmp_path / "made"
    evaluate(
        EvalConfig(
            model="crossfade", bench=str(tgi_root), out=made, lengths=(25,), metrics=("psnr",)
        ),
        progress=False,
    )
    videos = made / "videos"
    (videos / "aerobatics-25.mp4").write_bytes(b"garbage")
    data = (videos / "bmx-trees-25.mp4").read_bytes()
    (videos / "bmx-trees-25.mp4").write_bytes(data[: len(data) // 2])
    summary = evaluate(
        EvalConfig(
            model=f"folder:path={videos}",
            bench=str(tgi_root),
            out=tmp_path / "scored",
            lengths=(25,),
            metrics=("psnr",),
            save_videos=False,
        ),
        progress=False,
    )
    errors = dict(summary.failed)
    assert "aerobatics-25.mp4: not a readable video" in errors["aerobatics-25"]
    assert "bmx-trees-25" in errors  # truncated: unreadable or too few frames
    assert summary.scored == 1
