"""The bundled mini-bench: reproducible, complete, and its ground truth moves as described."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from tgibench.data import CHALLENGES, load_benchmark
from tgibench.data.manifest import MANIFEST_DIR, load_manifest, verify_root
from tgibench.data.mini import (
    FOLDERS,
    MINI_SIZE,
    FootageScene,
    build_mini,
    find_footage_dir,
    render_folder,
    render_frames,
)
from tgibench.metrics.functional import psnr
from tgibench.models import build_model
from tgibench.video.flow import dense_flow, to_gray_uint8


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mini") / "mini_bench"
    build_mini(out)
    return out


def test_rebuild_matches_the_committed_manifest(rebuilt: Path) -> None:
    assert verify_root(rebuilt, load_manifest(MANIFEST_DIR / "mini.json")) == []


def test_bundled_copy_matches_its_manifest() -> None:
    bench = load_benchmark("mini")
    assert verify_root(bench.root, load_manifest(MANIFEST_DIR / "mini.json")) == []


def test_covers_every_challenge_at_short_lengths_and_has_real_footage() -> None:
    bench = load_benchmark("mini")
    assert not bench.defects and not bench.unknown_challenges
    short = bench.filter(lengths=[25, 33])
    assert len(short) >= 16
    for length in (25, 33):
        assert {c.challenge for c in bench.filter(lengths=[length])} == set(CHALLENGES)
    assert {c.num_frames for c in bench} == {25, 33, 65, 81}
    real = {c.folder for c in bench if c.folder.startswith(("bikes", "bigbuckbunny", "carphone"))}
    assert len(real) == 4
    case = bench.get("bikes_pedestrian-33")
    assert case.frames is not None and case.frames.shape == (33, 3, *MINI_SIZE)
    texts = [(c.caption, c.first_desc, c.last_desc) for c in bench.filter(lengths=[33])]
    assert len({t for text in texts for t in text}) == 3 * len(texts)  # every text is its own


def _mean_flow_x(frames: np.ndarray) -> np.ndarray:
    """Median horizontal flow (pixels) of each adjacent pair of (T, H, W, 3) uint8 frames."""
    gray = [to_gray_uint8(torch.from_numpy(f).permute(2, 0, 1).float() / 255) for f in frames]
    return np.array([np.median(dense_flow(a, b)[..., 0]) for a, b in itertools.pairwise(gray)])


def _folder(name: str):
    return next(item for item in FOLDERS if item.folder == name)


def test_linear_pan_moves_at_the_constant_speed_it_was_built_with() -> None:
    # coffee_pan_right: the camera centre moves 200 source px over 32 steps at zoom 1.2,
    # so the scene moves left by 200 / 32 / 1.2 = 5.21 output px per frame.
    steps = _mean_flow_x(render_folder(_folder("coffee_pan_right")))
    assert steps == pytest.approx(np.full(32, -200 / 32 / 1.2), abs=0.25)


def test_accelerating_pan_speeds_up() -> None:
    steps = -_mean_flow_x(render_folder(_folder("astronaut_accelerating_pan")))
    assert steps[-4:].mean() > 3 * steps[:4].mean()
    assert (np.diff(steps) > -0.3).all()


def test_flow_beats_crossfade_beats_hold_on_linear_motion() -> None:
    bench = load_benchmark("mini", lengths=[25], challenges=["linear motion"])
    scores: dict[str, list[float]] = {"hold": [], "crossfade": [], "flow": []}
    for case in bench:
        assert case.frames is not None
        for name, values in scores.items():
            video = build_model(name).generate(case.first, case.last, case.caption, 25)
            values.append(float(psnr(video, case.frames)))
    means = {name: np.mean(values) for name, values in scores.items()}
    assert means["flow"] > means["crossfade"] > means["hold"], means


def test_missing_footage_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TGIBENCH_FOOTAGE_DIR", str(tmp_path))
    assert find_footage_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="TGIBENCH_FOOTAGE_DIR"):
        build_mini(tmp_path / "out")


def test_interrupted_build_keeps_the_previous_copy(
    rebuilt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    target = tmp_path / "mini_bench"
    shutil.copytree(rebuilt, target)
    monkeypatch.setenv("TGIBENCH_FOOTAGE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError):
        build_mini(target)
    assert verify_root(target, load_manifest(MANIFEST_DIR / "mini.json")) == []


def test_render_frames_samples_the_same_camera_path_at_any_density() -> None:
    own = render_folder(_folder("rocket_zoom_in"))  # 33 frames, zoom monotone
    denser = render_frames("rocket_zoom_in", 2 * 33 - 1)  # u = i / 64: every other one is own
    assert denser.shape == (65, *MINI_SIZE, 3)
    np.testing.assert_array_equal(denser[::2], own)
    coarse = render_frames("rocket_zoom_in", 3)
    np.testing.assert_array_equal(coarse, own[[0, 16, 32]])
    with pytest.raises(KeyError, match="coffee_pan_right"):
        render_frames("no_such_folder", 9)
    with pytest.raises(ValueError, match="num_frames >= 2"):
        render_frames("rocket_zoom_in", 1)


def test_render_frames_of_footage_are_consecutive_clip_frames() -> None:
    item = _folder("bikes_street_traffic")
    assert isinstance(item.render, FootageScene)
    np.testing.assert_array_equal(render_frames(item.folder, 5), render_folder(item)[:5])


def test_docstring_examples_run() -> None:
    import doctest

    import tgibench.data.mini

    assert doctest.testmod(tgibench.data.mini).failed == 0
