"""The comparison set's tiny presets on the mini-bench: generated and scored by the runner,
resumed, recorded with every option in run.json, and labelled smoke tests."""

from __future__ import annotations

import json

import pytest

from tgibench.eval.config import EvalConfig
from tgibench.eval.resume import RunError
from tgibench.eval.runner import evaluate
from tgibench.leaderboard import leaderboard_markdown, load_runs
from tgibench.models import describe_models
from tgibench.rundir import RESULTS_FILE, RUN_FILE, read_rows

#: One 25-frame and one 81-frame case (mini-bench, linear motion): both ends of the lengths.
CASES = {"lengths": (25, 81), "challenges": ("linear motion",)}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["svd", "trf", "gi", "vibid", "ltx"])
def test_tiny_preset_runs_resumes_and_is_a_smoke_test(name, tmp_path):
    config = EvalConfig(
        model=f"{name}:preset=tiny", bench="mini", out=tmp_path / name, metrics=("psnr",), **CASES
    )
    summary = evaluate(config, progress=False)
    rows = read_rows(config.out / RESULTS_FILE)
    assert summary.ok and len(rows) == summary.total == 5
    assert {r["num_frames"] for r in rows} == {25, 81}
    assert all("error" not in r and r["psnr"] > 0 for r in rows)
    assert all((config.out / "videos" / f"{r['case_id']}.mp4").is_file() for r in rows)

    record = json.loads((config.out / RUN_FILE).read_text())
    assert record["model"] == f"{name}:preset=tiny"
    options = record["model_options"]
    assert options["preset"] == "tiny" and options["steps"] == 3  # settled, not None
    assert options["height"] == 32 and options["width"] in (48, 64)
    if name != "ltx":  # the frame-count rule of the SVD family is recorded
        assert options["length"] == "direct"

    before = (config.out / RESULTS_FILE).read_bytes()
    again = evaluate(config, progress=False)
    assert again.skipped == 5 and (config.out / RESULTS_FILE).read_bytes() == before

    board = leaderboard_markdown(load_runs([config.out]))
    assert f"{name}:preset=tiny (smoke test: random weights)" in board


def test_models_lists_the_comparison_set_with_its_options():
    listed = {name: options for name, _, options in describe_models()}
    assert {"svd", "trf", "gi", "vibid", "ltx"} <= set(listed)
    assert "length='direct'" in listed["svd"] and "jump_length=5" in listed["trf"]
    assert "reverse_unet=''" in listed["gi"] and "rotate=True" in listed["gi"]
    assert "cfgpp=True" in listed["vibid"] and "dds=True" in listed["vibid"]
    assert "model='Lightricks/LTX-Video-0.9.5'" in listed["ltx"]


def test_a_changed_default_stops_a_resume(tmp_path):
    """run.json keeps every option's value; a default that changed since refuses to resume."""
    config = EvalConfig(
        model="flow", bench="mini", out=tmp_path / "run", metrics=("psnr",), **CASES
    )
    evaluate(config, progress=False)
    run_json = config.out / RUN_FILE
    record = json.loads(run_json.read_text())
    assert record["model_options"] == {
        "levels": 5,
        "winsize": 21,
        "iterations": 5,
        "occlusion_px": 1.5,
    }
    record["model_options"]["winsize"] = 15  # as if flow's default had been 15 then
    run_json.write_text(json.dumps(record))
    with pytest.raises(RunError, match="model option winsize: 15 in the run, 21 now"):
        evaluate(config, progress=False)
