"""The runner's guarantees: per-case errors, resizing, torn rows, locks, provenance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from tgibench.eval.config import EvalConfig
from tgibench.eval.resume import RunError, locked
from tgibench.eval.runner import evaluate
from tgibench.fileio import atomic_path
from tgibench.models import ModelBase, register_model
from tgibench.rundir import RESULTS_FILE, ResultsWriter, read_rows, repair_tail


@register_model("test-bad-output")
class _BadOutput(ModelBase):
    """Returns broken videos depending on the prompt (test only)."""

    def __init__(self, mode: str = "nan") -> None:
        self.mode = mode

    def generate(self, first, last, prompt, num_frames, *, seed=0, context=None):
        video = torch.stack([first] * num_frames)
        if self.mode == "nan":
            video[1, 0, 0, 0] = float("nan")
        elif self.mode == "count":
            video = video[:-1]
        elif self.mode == "size":
            video = torch.nn.functional.interpolate(video, scale_factor=2, mode="nearest")
        elif self.mode == "raise":
            raise RuntimeError("CUDA out of memory (simulated)")
        return video


def _config(root, out, model, **kw):
    return EvalConfig(model=model, bench=str(root), out=out, lengths=(25,), metrics=("psnr",), **kw)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("nan", "model output: NaN or inf values in frame(s) [1]"),
        ("count", "model returned 24 frames, 25 expected"),
        ("raise", "RuntimeError: CUDA out of memory (simulated)"),
    ],
)
def test_bad_model_output_is_a_case_error(tgi_root, tmp_path, mode, message):
    summary = evaluate(
        _config(tgi_root, tmp_path / "run", f"test-bad-output:mode={mode}"), progress=False
    )
    assert summary.scored == 0 and len(summary.failed) == 3
    rows = read_rows(tmp_path / "run" / RESULTS_FILE)
    assert [message in row["error"] for row in rows] == [True] * 3


def test_wrong_resolution_is_resized_and_recorded(tgi_root, tmp_path):
    summary = evaluate(
        _config(tgi_root, tmp_path / "run", "test-bad-output:mode=size"), progress=False
    )
    assert summary.ok
    rows = read_rows(tmp_path / "run" / RESULTS_FILE)
    assert all(row["resized_from"] == [64, 96] for row in rows)
    assert all(row["psnr"] > 10 for row in rows)


def test_fail_fast_stops_at_first_failure(tgi_root, tmp_path):
    summary = evaluate(
        _config(tgi_root, tmp_path / "run", "test-bad-output:mode=raise", fail_fast=True),
        progress=False,
    )
    assert summary.stopped_early and len(read_rows(tmp_path / "run" / RESULTS_FILE)) == 1


def test_config_takes_a_str_out_and_lists(tgi_root, tmp_path):
    out = tmp_path / "run"
    config = EvalConfig(model="crossfade", bench=str(tgi_root), out=str(out), lengths=[25])
    assert config == EvalConfig(model="crossfade", bench=str(tgi_root), out=out, lengths=(25,))
    assert EvalConfig.from_json(config.to_json()) == config
    assert evaluate(replace(config, metrics=["psnr"]), progress=False).scored == 3


def test_torn_last_row_is_dropped_on_resume(tgi_root, tmp_path):
    out = tmp_path / "run"
    evaluate(_config(tgi_root, out, "crossfade"), progress=False)
    path = out / RESULTS_FILE
    complete = path.read_bytes()
    lines = complete.splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]) + lines[2][:17])  # killed in the middle of row 3
    assert len(read_rows(path)) == 2
    summary = evaluate(_config(tgi_root, out, "crossfade"), progress=False)
    assert summary.scored == 1 and summary.skipped == 2
    assert path.read_bytes() == complete  # identical to the uninterrupted run


def test_resume_removes_temporary_files_of_killed_writers_only(tgi_root, tmp_path):
    out = tmp_path / "run"
    evaluate(_config(tgi_root, out, "crossfade"), progress=False)
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead, alive = int(ended.stdout), os.getpid()
    with atomic_path(tmp_path / "x.mp4") as made:  # named as atomic_path names them
        assert Path(made).name.startswith(f".x.mp4.{alive}.") and made.endswith(".tmp")
    stale = [
        out / "videos" / f".a-25.mp4.{dead}.k3j9.tmp",
        out / "features" / f".b.npz.{dead}.q.tmp",
    ]
    kept = [out / "videos" / f".c-25.mp4.{alive}.x1.tmp", out / "videos" / ".d.mp4.k3j9.tmp"]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    evaluate(_config(tgi_root, out, "crossfade"), progress=False)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)  # a live writer's, or not named by us


def test_writer_appends_whole_lines(tmp_path):
    path = tmp_path / RESULTS_FILE
    path.write_bytes(b'{"case_id": "a"}\n{"case_')
    assert repair_tail(path) == len(b'{"case_')
    with ResultsWriter(path) as writer:
        writer.append({"case_id": "b", "psnr": 1.5})
    assert [r["case_id"] for r in read_rows(path)] == ["a", "b"]
    with pytest.raises(ValueError):
        ResultsWriter(path).append({"case_id": "c", "psnr": float("nan")})


def test_a_locked_run_directory_is_refused(tgi_root, tmp_path):
    out = tmp_path / "run"
    with locked(out), pytest.raises(RunError, match="being written by another run"):
        evaluate(_config(tgi_root, out, "crossfade"), progress=False)


def test_same_seed_same_results(tgi_root, tmp_path):
    for name in ("a", "b"):
        evaluate(_config(tgi_root, tmp_path / name, "flow"), progress=False)
    assert (tmp_path / "a" / RESULTS_FILE).read_bytes() == (
        tmp_path / "b" / RESULTS_FILE
    ).read_bytes()
    record = json.loads((tmp_path / "a" / "run.json").read_text())
    assert {"python", "torch_threads", "git_revision", "packages"} <= record["environment"].keys()
    assert record["seed"] == 0 and len(record["benchmark"]["fingerprint"]) == 64


# ------------------------------------------------------------------ worker processes
PLUGIN = '''
import os
import signal
from pathlib import Path

from tgibench.models import register_model
from tgibench.models.classical import Crossfade


@register_model("{name}")
class Troubled(Crossfade):
    """A crossfade that fails, or kills its own process, on one case (test only)."""

    def __init__(self, case: str = "", kill_if: str = "") -> None:
        self.case, self.kill_if = case, kill_if

    def make_frames(self, request):
        if request.context.case_id == self.case:
            if self.kill_if and Path(self.kill_if).exists():
                os.kill(os.getpid(), signal.SIGKILL)  # as the kernel does when memory runs out
            if not self.kill_if:
                raise RuntimeError("simulated failure")
        return super().make_frames(request)
'''


def _plugin_model(tmp_path, name: str) -> str:
    """Write and include a plugin file registering ``name`` (worker processes include it
    again: the model is not known to a fresh process otherwise)."""
    from tgibench.plugins import include

    file = tmp_path / f"{name.replace('-', '_')}.py"
    file.write_text(PLUGIN.format(name=name))
    include([file])
    return name


def _files(run) -> dict[str, bytes]:
    return {
        str(p.relative_to(run)): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file() and p.name not in ("run.json", "timings.jsonl", ".lock")
    }


@pytest.mark.slow
def test_workers_give_the_same_rows_and_videos_as_one_process(tgi_root, tmp_path):
    """Every default metric, 5 cases: videos (byte for byte) and rows (in benchmark order)
    are those of a single process with 2 torch threads, whatever order the workers (1
    thread each) finish in. Values agree to float32 rounding: a reduction's last bits
    depend on the thread count (lpips_frames moved by 7e-8 relative here)."""
    from tgibench.eval.workers import threads_per_worker

    runs = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert threads_per_worker(2) == 1
        for workers in (1, 2):
            out = tmp_path / f"w{workers}"
            config = EvalConfig(model="flow", bench=str(tgi_root), out=out)
            summary = evaluate(config, progress=False, workers=workers)
            assert summary.ok and summary.scored == 5 and summary.workers == workers
            runs[workers] = out
    finally:
        torch.set_num_threads(threads)
    files = {workers: _files(run) for workers, run in runs.items()}
    results = {workers: files[workers].pop(RESULTS_FILE) for workers in runs}
    assert files[2] == files[1] and results[2] != b""
    rows = read_rows(runs[2] / RESULTS_FILE)
    for row, single in zip(rows, read_rows(runs[1] / RESULTS_FILE), strict=True):
        assert row.keys() == single.keys()
        for key, value in row.items():
            if isinstance(value, float):
                assert value == pytest.approx(single[key], rel=1e-6, abs=1e-9), key
            elif key != "curves":
                assert value == single[key], key
    assert rows[0]["lpips"] is not None and rows[0]["pace_stability"] is not None
    order = [json.loads(line)["case_id"] for line in (runs[2] / "timings.jsonl").open()]
    assert order == [row["case_id"] for row in rows]


def test_workers_include_plugins_and_fail_fast_stops_them(tgi_root, tmp_path):
    import multiprocessing

    name = _plugin_model(tmp_path, "test-worker-fails")
    summary = evaluate(
        _config(tgi_root, tmp_path / "run", f"{name}:case=bmx-trees-25", fail_fast=True),
        progress=False,
        workers=2,
    )
    rows = read_rows(tmp_path / "run" / RESULTS_FILE)
    assert summary.stopped_early and [r["case_id"] for r in rows] == [
        "aerobatics-25",
        "bmx-trees-25",
    ]
    assert "simulated failure" in rows[1]["error"] and "error" not in rows[0]
    assert multiprocessing.active_children() == []  # every worker stopped
    assert summary.profile["score"] > 0 and summary.profile["total"] > 0


def test_a_worker_that_dies_stops_the_run_and_a_resume_finishes_it(tgi_root, tmp_path):
    from tgibench.eval.workers import WorkerError

    flag = tmp_path / "kill-now"
    flag.touch()
    name = _plugin_model(tmp_path, "test-worker-dies")
    config = _config(tgi_root, tmp_path / "run", f"{name}:case=car-turn-25,kill_if={flag}")
    with pytest.raises(WorkerError, match="died .* while generating or scoring case car-turn-25"):
        evaluate(config, progress=False, workers=2)
    done = [r["case_id"] for r in read_rows(tmp_path / "run" / RESULTS_FILE)]
    assert "car-turn-25" not in done and done == ["aerobatics-25", "bmx-trees-25"][: len(done)]
    flag.unlink()
    summary = evaluate(config, progress=False, workers=2)
    assert summary.ok and summary.skipped == len(done) and summary.scored == 3 - len(done)
    reference = tmp_path / "reference"
    evaluate(
        _config(tgi_root, reference, f"{name}:case=car-turn-25,kill_if={flag}"), progress=False
    )
    assert _files(tmp_path / "run") == _files(reference)
    assert not list((tmp_path / "run").rglob("*.tmp"))
