"""The runner's guarantees: per-case errors, resizing, torn rows, locks, provenance."""

from __future__ import annotations

import json

import pytest
import torch

from tgibench.eval.config import EvalConfig
from tgibench.eval.resume import RunError, locked
from tgibench.eval.runner import evaluate
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
