"""End to end through the command line: evaluate → resume → leaderboard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tgibench.cli import app
from tgibench.rundir import RESULTS_FILE, read_rows

runner = CliRunner()


def _evaluate(bench: Path, out: Path, model: str, *extra: str) -> object:
    return runner.invoke(
        app,
        ["evaluate", "--model", model, "--bench", str(bench), "--out", str(out), "--quiet", *extra],
    )


def test_evaluate_resume_leaderboard(tgi_root, tmp_path):
    out = tmp_path / "run-flow"
    first = _evaluate(tgi_root, out, "flow", "--lengths", "25")
    assert first.exit_code == 0, first.output
    rows = read_rows(out / RESULTS_FILE)
    assert [r["case_id"] for r in rows] == ["aerobatics-25", "bmx-trees-25", "car-turn-25"]
    assert all({"psnr", "ssim", "lpips", "lpips_frames"} <= row.keys() for row in rows)
    assert all((out / "videos" / f"{r['case_id']}.mp4").is_file() for r in rows)
    record = json.loads((out / "run.json").read_text())
    assert record["model"] == "flow" and record["benchmark"]["num_cases"] == 3
    assert record["environment"]["packages"]["torch"]
    assert record["metrics"]["psnr"]["higher_is_better"] is True

    # the same command again resumes: nothing re-run, no row written twice
    before = (out / RESULTS_FILE).read_bytes()
    again = _evaluate(tgi_root, out, "flow", "--lengths", "25")
    assert again.exit_code == 0 and "0 scored" in again.output and "3 already done" in again.output
    assert (out / RESULTS_FILE).read_bytes() == before

    # a different config is refused, naming what differs
    other = _evaluate(tgi_root, out, "crossfade", "--lengths", "25")
    assert other.exit_code == 2 and "model: 'flow' in the run, 'crossfade' now" in other.output

    base = tmp_path / "run-hold"
    assert _evaluate(tgi_root, base, "hold", "--lengths", "25", "--no-videos").exit_code == 0
    table = runner.invoke(app, ["leaderboard", str(out), str(base), "--full"])
    assert table.exit_code == 0, table.output
    assert "psnr ↑" in table.output and "lpips ↓" in table.output
    assert "| flow |" in table.output and "| hold |" in table.output
    assert "### Per challenge" in table.output and "| dynamic motion | flow |" in table.output
    csv = runner.invoke(
        app,
        ["leaderboard", str(out), str(base), "--format", "csv", "--out", str(tmp_path / "t.csv")],
    )
    assert csv.exit_code == 0 and (tmp_path / "t.csv").read_text().startswith(
        "origin,source,grouping,group,model,metric"
    )


def test_failed_cases_are_recorded_and_the_run_goes_on(tgi_root, tmp_path):
    (tgi_root / "TGI-Dataset" / "bmx-trees" / "00003.jpg").write_bytes(b"garbage")
    out = tmp_path / "run"
    result = _evaluate(tgi_root, out, "crossfade", "--lengths", "25")
    assert result.exit_code == 1
    rows = {r["case_id"]: r for r in read_rows(out / RESULTS_FILE)}
    assert (
        "bmx-trees-25" in rows["bmx-trees-25"]["error"]
        and "00003.jpg" in rows["bmx-trees-25"]["error"]
    )
    assert "error" not in rows["aerobatics-25"] and "psnr" in rows["car-turn-25"]
    assert "failed bmx-trees-25" in result.output


def test_score_videos_made_elsewhere(tgi_root, tmp_path):
    made = tmp_path / "made"
    assert _evaluate(tgi_root, made, "crossfade", "--lengths", "25").exit_code == 0
    scored = tmp_path / "scored"
    result = runner.invoke(
        app,
        [
            "score",
            "--videos",
            str(made / "videos"),
            "--bench",
            str(tgi_root),
            "--out",
            str(scored),
            "--lengths",
            "25",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    original = {r["case_id"]: r for r in read_rows(made / RESULTS_FILE)}
    rescored = {r["case_id"]: r for r in read_rows(scored / RESULTS_FILE)}
    for case_id, row in original.items():  # lossless videos: identical numbers
        assert (
            rescored[case_id]["psnr"] == row["psnr"] and rescored[case_id]["lpips"] == row["lpips"]
        )


def test_models_and_metrics_listings():
    models = runner.invoke(app, ["models"])
    assert models.exit_code == 0 and "flow" in models.output and "levels=5" in models.output
    metrics = runner.invoke(app, ["metrics"])
    assert metrics.exit_code == 0 and "lpips_frames" in metrics.output and "↓" in metrics.output


@pytest.mark.parametrize("argv", [["--help"], ["evaluate", "--help"]])
def test_module_entry_point(argv):
    done = subprocess.run([sys.executable, "-m", "tgibench", *argv], capture_output=True, text=True)
    assert done.returncode == 0 and "Usage" in done.stdout
