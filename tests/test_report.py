"""Plots and the self-contained HTML report, from real runs; checked in headless Chromium."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import record, write_tgi_layout
from PIL import Image

from tgibench.data import load_benchmark
from tgibench.eval.config import EvalConfig
from tgibench.eval.runner import evaluate
from tgibench.leaderboard import load_runs
from tgibench.leaderboard.browser import browser_cases
from tgibench.leaderboard.plots import (
    FRAME_MS,
    LAST_FRAME_MS,
    animation_indices,
)
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


def test_pace_curves_come_from_the_rows_and_animation_indices(real_runs):
    """The report draws the curves the runner stored (no flow is computed again)."""
    stored = {key: c for key, c in real_runs.curves.items() if "progress" in c}
    assert stored, "the runs' rows carry pace curves"
    for curve in stored.values():
        progress = np.asarray(curve["progress"])
        assert (
            progress[0] == 0 and progress[-1] == pytest.approx(1) and (np.diff(progress) >= 0).all()
        )
    assert animation_indices(25) == list(range(25)) and animation_indices(41) == list(range(41))
    assert animation_indices(81) == list(range(0, 81, 2))  # 41 frames
    assert animation_indices(65, limit=15) == [*range(0, 65, 5), 64]  # the last frame kept


def _images(page: str) -> list[bytes]:
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert all(re.match("data:image/(png|webp);base64,", s) for s in sources), "external image"
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
    assert re.search(r"wrote \S+lb\.html \(\d+\.\d (kB|MB)\)", result.output), result.output
    return md, page


def test_cli_writes_md_and_html_in_one_command(report_files):
    md, page = report_files
    text = md.read_text()
    assert "| near-static | crossfade | 1 | 0 |" in text and "| 33 | hold | 1 | 0 |" in text
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_report_is_self_contained_with_plots_cases_and_provenance(real_runs, report_files):
    assert default_cases(real_runs) == ["aerobatics-25", "bmx-trees-25", "aerobatics-33"]
    page = report_files[1].read_text()
    images = _images(page)
    # radar + one bar chart per measured pillar (3) + the pace curve of the chosen case
    pngs = [i for i in images if i.startswith(b"\x89PNG")]
    assert len(pngs) == 5
    # the case browser: first keyframe, ground truth, hold, crossfade, last keyframe
    webps = [Image.open(io.BytesIO(i)) for i in images if i[8:12] == b"WEBP"]
    assert len(webps) == 5 and len(images) == 10
    assert [getattr(w, "n_frames", 1) for w in webps][:2] == [1, 33]  # a keyframe, the truth
    # every animation lasts as long: libwebp merges repeated frames (hold) into longer ones
    assert [_duration(w) for w in webps[1:4]] == [32 * FRAME_MS + LAST_FRAME_MS] * 3
    assert not re.search(r"(src|href)=\"(?!data:|#)|@import|url\(|<script", page), "external"
    assert "<caption>Per challenge</caption>" in page
    assert '<th scope="row"><a href="#cases-near-static">near-static</a></th>' in page
    assert '<section id="cases-near-static">' in page and 'id="case-aerobatics-33"' in page
    assert "<caption>Rank per pillar, per challenge</caption>" in page
    assert "A camera pans over aerobatics." in page  # the case's caption
    assert "Reported: paper Table 1" in page and "<td>224.36</td>" in page
    record = next(iter(real_runs.records.values()))
    assert record["environment"]["packages"]["torch"] in page and "crossfade" in page


def _duration(image: Image.Image) -> int:
    """Milliseconds of one loop of an animated image."""
    total = 0
    for index in range(image.n_frames):
        image.seek(index)
        image.load()  # Pillow reads a WebP frame's duration when it decodes the frame
        total += image.info["duration"]
    return total


def test_case_animations_show_the_videos_frames(real_runs):
    page = render_report(real_runs, cases=["bmx-trees-25"])
    article = page[page.index('id="case-bmx-trees-25"') :]
    sources = re.findall(r'<img class="anim" src="data:image/webp;base64,([^"]+)"', article)
    truth = Image.open(io.BytesIO(base64.b64decode(sources[0])))  # ground truth, 25 frames
    assert truth.n_frames == 25 and truth.size == (48, 32)  # 32x48 frames are not enlarged
    case = load_benchmark(real_runs.records[next(iter(real_runs.records))]["benchmark"]["source"])
    frames = case.get("bmx-trees-25").load_frames(torch.uint8).permute(0, 2, 3, 1).double()
    for index in (0, 12, 24):  # each animation frame is the video's frame (lossy WebP)
        truth.seek(index)
        shown = torch.from_numpy(np.asarray(truth.convert("RGB"), dtype=float))
        error = (shown - frames[index]).abs().mean()
        other = (shown - frames[(index + 12) % 25]).abs().mean()
        assert error < 20 and error < other / 2, (index, error, other)


def test_case_browser_keeps_its_size_budget(real_runs):
    order = browser_cases(real_runs)  # one per folder first, shortest first
    assert order == ["aerobatics-25", "bmx-trees-25", "aerobatics-33"]
    full = render_report(real_runs)
    assert all(f'id="case-{c}"' in full for c in order)
    one_case = len(
        re.search(r'<article class="case" id="case-aerobatics-25">.*?</article>', full)[0]
    )
    small = render_report(real_runs, budget=one_case + 100)
    assert 'id="case-aerobatics-25"' in small and 'id="case-bmx-trees-25"' not in small
    assert "2 cases left out to keep the size budget" in small
    assert f"1 of 3 cases, {one_case / 1e6:.2f} MB of the" in html.unescape(small)


def test_report_notes_missing_videos_and_ground_truth(real_runs, tmp_path):
    page = render_report(real_runs, cases=["car-turn-25"], bench=str(tmp_path / "gone"))
    assert "ground truth not shown" in page
    assert "no pace curves stored for car-turn-25" in page  # the runs did not score it
    assert 'id="case-car-turn-25"' not in page  # nothing to show, and no error


def test_case_browser_shows_runs_without_videos_as_such(real_runs, tmp_path):
    hold, crossfade = real_runs.records
    shutil.copytree(crossfade, tmp_path / "crossfade", ignore=shutil.ignore_patterns("videos"))
    runs = load_runs([hold, tmp_path / "crossfade"])
    page = render_report(runs, cases=["aerobatics-25", "not-run-25"])
    assert 'id="case-aerobatics-25"' in page and 'id="case-not-run-25"' not in page
    assert "<div>no video</div><figcaption>crossfade</figcaption>" in page
    assert "crossfade: no saved video for 1 of the cases shown" in page
    assert page.count('<img class="anim"') == 2  # ground truth and hold


def console_messages(html_file: Path, screenshot: Path, profile: Path) -> list[str]:
    """Open ``html_file`` in headless Chromium, save a screenshot, return console lines.

    Chromium logs every console message of the page as a ``CONSOLE`` line on stderr
    (``--enable-logging=stderr``); the report runs no script, so any such line is an error.
    """
    result = chromium(
        "--window-size=1280,2400",
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={screenshot}",
        html_file.resolve().as_uri(),
        profile=profile,
    )
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


#: Appended to a copy of the report in the browser test (the report itself runs no script):
#: whether the case browser is laid out, how many animations decoded, and how Chromium's
#: own decoder (WebCodecs ImageDecoder) sees the first one.
CHECK_SCRIPT = """<script>
window.addEventListener("load", () => {
  const anims = [...document.querySelectorAll("#cases ~ section img.anim")];
  const out = {
    height: document.getElementById("cases-near-static").getBoundingClientRect().height,
    total: anims.length,
    decoded: anims.filter((img) => img.complete && img.naturalWidth > 0).length,
  };
  const bytes = Uint8Array.from(atob(anims[0].src.split(",")[1]), (c) => c.charCodeAt(0));
  const decoder = new ImageDecoder({data: bytes, type: "image/webp"});
  decoder.tracks.ready
    .then(() => {
      out.frames = decoder.tracks.selectedTrack.frameCount;
      out.animated = decoder.tracks.selectedTrack.animated;
    })
    .catch((error) => { out.error = String(error); })
    .finally(() => document.body.setAttribute("data-check", JSON.stringify(out)));
});
</script>"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    """Run headless Chromium on a page; stdout and stderr captured."""
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # root in a container
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


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
    # the case browser renders and its animations are animated, as Chromium decodes them
    check = tmp_path / "check.html"
    check.write_text(page.read_text().replace("</body>", CHECK_SCRIPT + "</body>"))
    dom = chromium("--dump-dom", check.resolve().as_uri(), profile=tmp_path / "profile").stdout
    found = re.search(r'<body data-check="([^"]*)"', dom)
    assert found, "the check script did not run"
    result = json.loads(html.unescape(found[1]))
    assert result["height"] > 100, result  # the near-static section is laid out
    assert result["total"] == result["decoded"] == 3, result  # ground truth, hold, crossfade
    assert result["frames"] == 33 and result["animated"] is True, result


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
