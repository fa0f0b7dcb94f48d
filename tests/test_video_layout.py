"""Finding generated videos in any folder layout (`tgibench score --videos DIR --pattern`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from tgibench.cli import app
from tgibench.data import load_benchmark
from tgibench.models import CaseContext, build_model
from tgibench.models.video_layout import (
    LayoutMismatchError,
    check_pattern,
    resolve,
)
from tgibench.video import VideoError, write_video

#: Four cases of the mini-bench: the 25-frame linear-motion ones.
SELECTION = ["--bench", "mini", "--lengths", "25", "--challenges", "linear motion"]


@dataclass(frozen=True)
class Key:
    case_id: str
    num_frames: int


def _keys(*ids: str) -> list[Key]:
    return [Key(i, int(i.rsplit("-", 1)[1])) for i in ids]


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


@pytest.fixture(scope="module")
def truth() -> dict[str, tuple[str, torch.Tensor]]:
    """case id → (folder, ground truth uint8) of the selected mini-bench cases."""
    bench = load_benchmark("mini", lengths=[25], challenges=["linear motion"])
    return {c.case_id: (c.folder, c.load_frames(torch.uint8)) for c in bench}


def _write(root: Path, truth, name: str, skip: int = 0) -> list[str]:
    """Write each case's ground truth at ``name.format(folder=, n=)`` (minus ``skip``)."""
    written = []
    for case_id, (folder, frames) in list(truth.items())[skip:]:
        path = root / name.format(folder=folder, n=frames.shape[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        write_video(path, frames)
        written.append(case_id)
    return written


def _score(videos: Path, out: Path, *extra: str):
    args = ["score", "--videos", str(videos), "--out", str(out), *SELECTION, "-m", "psnr", "-q"]
    return CliRunner().invoke(app, [*args, *extra])


def _psnr_by_case(run: Path) -> dict[str, float]:
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    return {row["case_id"]: row.get("psnr", row.get("error")) for row in rows}


@pytest.mark.parametrize(
    ("name", "layout"),
    [("{n}/{folder}.mp4", "{num_frames}/{folder}"), ("{folder}_{n}.mp4", "{folder}_{num_frames}")],
)
def test_common_layouts_are_detected_and_each_case_reads_its_own_video(
    tmp_path, truth, name, layout
):
    videos = tmp_path / "videos"
    _write(videos, truth, name)
    result = _score(videos, tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert f"layout {layout!r} (detected" in result.output
    assert "matched: 4 of 4 cases" in result.output and "missing" not in result.output
    # each case scored its own ground truth: identical frames give PSNR's cap, 100 dB
    assert _psnr_by_case(tmp_path / "run") == dict.fromkeys(truth, 100.0)
    spec = json.loads((tmp_path / "run" / "run.json").read_text())["model"]
    assert f"pattern={layout}" in spec


def test_missing_and_extra_files_are_listed_and_strict_stops(tmp_path, truth):
    videos = tmp_path / "videos"
    written = _write(videos, truth, "{folder}-{n}.mp4", skip=1)
    missing = next(c for c in truth if c not in written)
    _touch(videos, "notes.mp4", "other_scene-25.mp4", "coffee_pan_right-33.mp4")
    result = _score(videos, tmp_path / "strict", "--strict")
    assert result.exit_code == 1, result.output
    assert "layout '{case_id}' (detected" in result.output
    assert "matched: 3 of 4 cases" in result.output
    assert f"missing: 1 case: {missing}" in result.output
    assert "no case for 2 files: notes.mp4, other_scene-25.mp4" in result.output
    assert "ignored: 1 file of cases not selected" in result.output  # coffee_pan_right-33
    assert "--strict" in result.output and not (tmp_path / "strict").exists()
    result = _score(videos, tmp_path / "lenient")
    assert result.exit_code == 1  # scored, and the missing case failed with a clear error
    scores = _psnr_by_case(tmp_path / "lenient")
    assert [scores[c] for c in written] == [100.0] * 3
    assert f"case {missing}: no video {missing}{{.mp4," in scores[missing]


def test_model_prefix_and_frame_folders(tmp_path):
    root = tmp_path / "v"
    cases = _keys("pan-25", "coffee_pan-25", "zoom-33")
    # a model prefix; "coffee_pan" ends with "pan": the prefix must stay "mymodel_"
    _touch(root, "mymodel_pan_25.mp4", "mymodel_coffee_pan_25.mp4", "mymodel_zoom_33.mp4")
    found = resolve(root, cases)
    assert found.pattern == "mymodel_{folder}_{num_frames}" and found.complete
    assert found.matched["pan-25"] == root / "mymodel_pan_25.mp4"
    # without a model prefix, a folder name ending another one's is no prefix
    _touch(tmp_path / "plain", "coffee_pan-25.mp4")
    found = resolve(tmp_path / "plain", cases)
    assert found.pattern == "{case_id}" and found.missing == ["pan-25", "zoom-33"]
    # frame folders <folder>/<N>/00000.png, with an explicit pattern
    frames = tmp_path / "f"
    _touch(frames, "pan/25/00000.png", "pan/25/00001.png", "coffee_pan/25/00000.png")
    found = resolve(frames, cases, pattern="{folder}/{num_frames}")
    assert found.matched == {
        "pan-25": frames / "pan/25",
        "coffee_pan-25": frames / "coffee_pan/25",
    }
    assert found.missing == ["zoom-33"] and not found.complete
    assert resolve(frames, cases).pattern == "{folder}/{num_frames}"  # detected too


def test_ambiguous_layouts_and_no_match_are_errors(tmp_path):
    cases = _keys("a-25", "b-25")
    _touch(tmp_path / "tie", "a-25.mp4", "b_25.mp4")  # one file per layout: a tie
    with pytest.raises(LayoutMismatchError, match=r"several layouts equally.*--pattern"):
        resolve(tmp_path / "tie", cases)
    assert resolve(tmp_path / "tie", cases, pattern="{case_id}.mp4").missing == ["b-25"]
    _touch(tmp_path / "none", "x.mp4")
    with pytest.raises(LayoutMismatchError, match=r"no video .* fits a case: found x\.mp4"):
        resolve(tmp_path / "none", cases)
    _touch(tmp_path / "both", "a-25.mp4", "a-25/00000.png", "b-25.mp4")
    found = resolve(tmp_path / "both", cases)
    assert found.ambiguous == {"a-25": ["a-25.mp4", "a-25"]}
    assert "several videos for 1 case: a-25 (a-25.mp4, a-25)" in found.summary()


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{model}_{folder}.mp4", "unknown field"),
        ("{num_frames}.mp4", "no {case_id} or {folder}"),
        ("../{case_id}.mp4", "relative"),
        ("/abs/{case_id}.mp4", "relative"),
        ("{case_id", "video pattern"),
    ],
)
def test_bad_patterns_say_what_is_wrong(pattern, message):
    with pytest.raises(LayoutMismatchError, match=message):
        check_pattern(pattern)


def test_pattern_giving_one_file_to_two_cases_is_refused(tmp_path):
    _touch(tmp_path, "a.mp4")
    with pytest.raises(LayoutMismatchError, match="same file to several cases"):
        resolve(tmp_path, _keys("a-25", "a-33"), pattern="{folder}.mp4")
    assert resolve(tmp_path, _keys("a-25"), pattern="{folder}.mp4").complete


def test_folder_model_reads_by_pattern_and_names_the_missing_file(tmp_path):
    video = torch.rand(5, 3, 16, 24)
    write_video(tmp_path / "5" / "scene.mp4", video)
    model = build_model(f"folder:path={tmp_path},pattern={{num_frames}}/{{folder}}.mp4")
    frames = model.generate(video[0], video[-1], "", 5, context=CaseContext(case_id="scene-5"))
    assert frames.shape == (5, 3, 16, 24) and frames.dtype == torch.uint8
    with pytest.raises(VideoError, match=r"case other-5: no video 5/other\.mp4 in"):
        model.generate(video[0], video[-1], "", 5, context=CaseContext(case_id="other-5"))
