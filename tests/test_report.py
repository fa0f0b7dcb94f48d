"""Plots and the self-contained HTML report, from real runs; checked in headless Chromium."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import record, write_tgi_layout

from tgibench.eval.config import EvalConfig
from tgibench.eval.runner import evaluate
from tgibench.leaderboard import load_runs
from tgibench.leaderboard.plots import progress_curve, strip_indices
from tgibench.leaderboard.report import default_cases, render_report

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
METRICS = ("psnr", "ssim", "flicker", "pace_stability")


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory):
    """Runs of `hold` and `crossfade` on three cases, two lengths, three pillars of metrics."""
    tmp = tmp_path_factory.mktemp("report")
    root = write_tgi_layout(
        tmp / "bench",
        {"aerobatics": 33, "bmx-trees": 25},
        {
            25: [record("aerobatics"), record("bmx-trees", "linear motion")],
            33: [record("aerobatics", "near static")],
        },
    )
    run_dirs = []
    for model in ("hold", "crossfade"):
        out = tmp / "runs" / model
        config = EvalConfig(model=model, bench=str(root), out=out, metrics=METRICS)
        assert evaluate(config, progress=False).ok
        run_dirs.append(out)
    return load_runs(run_dirs)


def test_progress_curve_and_strip_indices():
    x, y = torch.arange(64.0), torch.arange(32.0)[:, None]
    frames = [
        (0.5 + 0.2 * torch.sin((x + 1.5 * t) / 3) * torch.cos(y / 4)).expand(3, -1, -1)
        for t in range(5)
    ]
    curve = progress_curve(torch.stack(frames))  # constant speed: linear progress
    np.testing.assert_allclose(curve, [0, 0.25, 0.5, 0.75, 1.0], atol=0.01)
    stall = progress_curve(torch.stack([frames[0], frames[0], frames[0], frames[2]]))
    np.testing.assert_allclose(stall, [0, 0, 0, 1], atol=0.07)  # all motion in the last step
    still = progress_curve(torch.stack([frames[0]] * 4))
    np.testing.assert_allclose(still, [0, 1 / 3, 2 / 3, 1])
    assert strip_indices(25) == [0, 6, 12, 18, 24] and strip_indices(3) == [0, 1, 2]


def _images(page: str) -> list[bytes]:
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert all(re.match("data:image/(png|jpeg);base64,", s) for s in sources), "external image"
    return [base64.b64decode(s.split(",", 1)[1]) for s in sources]


@pytest.fixture(scope="module")
def report_files(real_runs, tmp_path_factory):
    """The md and html leaderboard of the real runs, written by one CLI command."""
    from typer.testing import CliRunner

    from tgibench.cli import app

    tmp = tmp_path_factory.mktemp("leaderboard")
    md, page = tmp / "lb.md", tmp / "lb.html"
    args = ["leaderboard", *real_runs.records, "--reported", "-o", str(md), "-o", str(page)]
    result = CliRunner().invoke(app, [*args, "--cases", "aerobatics-33"])
    assert result.exit_code == 0, result.output
    return md, page


def test_cli_writes_md_and_html_in_one_command(report_files):
    md, page = report_files
    text = md.read_text()
    assert "| near-static | crossfade | 1 | 0 |" in text and "| 33 | hold | 1 | 0 |" in text
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_report_is_self_contained_with_plots_strips_and_provenance(real_runs, report_files):
    assert default_cases(real_runs) == ["aerobatics-25", "bmx-trees-25", "aerobatics-33"]
    page = report_files[1].read_text()
    images = _images(page)
    # radar + one bar chart per measured pillar (3) + pace curve and strip of one case
    assert len(images) == 6 and all(i.startswith(b"\x89PNG") for i in images[:-1])
    assert images[-1].startswith(b"\xff\xd8"), "the frame strip is a JPEG"
    assert not re.search(r"(src|href)=\"(?!data:)|@import|url\(", page), "external resource"
    assert "<caption>Per challenge</caption>" in page and '<th scope="row">near-static</th>' in page
    assert "Reported: paper Table 1" in page and "<td>224.36</td>" in page
    assert "<h3>aerobatics-33</h3>" in page
    record = next(iter(real_runs.records.values()))
    assert record["environment"]["packages"]["torch"] in page and "crossfade" in page


def test_report_notes_missing_videos_and_ground_truth(real_runs, tmp_path):
    page = render_report(real_runs, cases=["car-turn-25"], bench=str(tmp_path / "gone"))
    assert "ground truth not shown" in page
    assert "car-turn-25: hold saved no video" in page


def console_messages(html_file: Path, screenshot: Path, profile: Path) -> list[str]:
    """Open ``html_file`` in headless Chromium, save a screenshot, return console lines.

    Chromium logs every console message of the page as a ``CONSOLE`` line on stderr
    (``--enable-logging=stderr``); the report runs no script, so any such line is an error.
    """
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # root in a container
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--window-size=1280,2400",
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={screenshot}",
            html_file.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def _require_chromium() -> None:
    """Install Chromium (`make browser`) when missing; fail clearly if that is impossible."""
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        pytest.skip(f"{CHROMIUM} missing and not root without sudo: run `make browser` as root")
    make = subprocess.run(
        ["make", "-C", str(ARTIFACTS.parent), "browser"],
        capture_output=True,
        text=True,
        check=False,
    )
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing and `make browser` (apt-get install chromium) failed:\n"
            + make.stderr[-1500:]
        )


@pytest.mark.slow
def test_report_renders_in_chromium_without_console_errors(report_files, tmp_path):
    _require_chromium()
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>console.error('boom')</script></body></html>")
    messages = console_messages(broken, tmp_path / "broken.png", tmp_path / "profile")
    assert any("boom" in line for line in messages), "the console check cannot see errors"
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "report.html"
    shutil.copyfile(report_files[1], page)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    assert console_messages(page, screenshot, tmp_path / "profile") == []
    png = screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000, "blank screenshot"


def test_bar_charts_skip_metrics_without_any_value(tmp_path):
    from test_leaderboard import _row, _write_run

    from tgibench.leaderboard.plots import challenge_bars, measured_metrics

    metrics = {
        "psnr": {"pillar": "reconstruction", "higher_is_better": True},
        "ssim": {"pillar": "reconstruction", "higher_is_better": True},
        "flicker": {"pillar": "consistency", "higher_is_better": False},
    }
    rows = [_row("x-25", "occlusion", 25, psnr=20.0), _row("y-25", "near-static", 25, psnr=9.0)]
    runs = load_runs([_write_run(tmp_path / "a", "a", rows, metrics=metrics)])
    assert measured_metrics(runs, "reconstruction") == ["psnr"]
    assert measured_metrics(runs, "consistency") == []
    titles = [ax.get_title() for ax in challenge_bars(runs, "reconstruction").axes]
    assert titles == ["psnr ↑"]
