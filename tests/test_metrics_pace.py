"""Pace stability (version 4) on videos whose pacing is known, its parts, and a small study.

The videos are a real photograph panned at constant speed (``natural_pan``) and re-timed
or degraded copies of it, so the right answer is known: even travel scores ~1; stalls,
jumps, stutter, going back, fading and not moving at all score lower.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import natural_pan
from hypothesis import given, settings
from hypothesis import strategies as st
from test_metrics_motion import _store

from tgibench.features.motion import MotionStats, motion_stats
from tgibench.metrics import PaceStability
from tgibench.metrics.functional import motion_reach, pace_parts, pace_stability
from tgibench.metrics.functional.pace import MIN_CHANGE, step_shares
from tgibench.metrics.registry import METRICS
from tgibench.video import VideoError

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))


@pytest.fixture(scope="module")
def source() -> torch.Tensor:
    """A dense 33-frame pan (1.5 px per frame) to re-time; its every other frame is 3 px/frame."""
    return natural_pan(33, 48.0)


@pytest.fixture(scope="module")
def uniform(source) -> torch.Tensor:
    return source[::2]  # 17 frames at constant speed


def _crossfade(video: torch.Tensor) -> torch.Tensor:
    weights = torch.linspace(0, 1, video.shape[0]).view(-1, 1, 1, 1)
    return (1 - weights) * video[0] + weights * video[-1]


def test_constant_speed_is_perfect_pace(uniform):
    assert float(pace_stability(uniform)) > 0.9
    assert float(pace_stability(uniform, uniform)) == 1.0  # identical pace to the target


@pytest.mark.parametrize(
    ("name", "order"),
    [
        ("frozen then jump", [0] * 8 + [16] * 9),  # the hold baseline
        ("stall then jump", [0, 1, 2, 3, 4, 5, 5, 5, 5, 5, 10, 11, 12, 13, 14, 15, 16]),
        ("stutter (duplicated frames)", [2 * (i // 2) for i in range(16)] + [16]),
        ("back and forth", [0, 1, 2, 3, 4, 5, 6, 5, 4, 5, 6, 8, 10, 12, 14, 15, 16]),
        ("shuffled", [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11, 14, 13, 15, 16]),
        ("late start", [0] * 6 + [round(i * 16 / 10) for i in range(1, 11)] + [16]),
    ],
)
def test_retiming_failures_score_below_constant_speed(uniform, name, order):
    video = uniform[torch.tensor(order)]
    assert len(order) == uniform.shape[0]
    good = float(pace_stability(uniform))
    assert float(pace_stability(video)) < good - 0.1, name
    assert float(pace_stability(video, uniform)) < 0.9, name


def test_degenerate_videos_cannot_win(uniform):
    """The failures issue 11 lists: a video that does not move, or moves by fading."""
    good = float(pace_stability(uniform))
    half = uniform.shape[0] // 2
    still = uniform[:1].expand_as(uniform)
    crossfade = _crossfade(uniform)
    freeze_fade = torch.cat([uniform[:1].expand(half, -1, -1, -1), _crossfade(uniform)[half:]])
    noise = torch.rand(uniform.shape, generator=torch.Generator().manual_seed(0))
    noise[0], noise[-1] = uniform[0], uniform[-1]
    for name, video in [
        ("still", still),
        ("crossfade", crossfade),
        ("freeze then fade", freeze_fade),
        ("noise", noise),
    ]:
        assert float(pace_stability(video)) < good - 0.3, name
        assert float(pace_stability(video, uniform)) < 0.5, name
    assert float(pace_stability(still)) == 0.0  # it does not travel at all


def test_parts_name_the_failure(uniform):
    def parts(order: list[int]):
        return pace_parts(motion_stats(uniform[torch.tensor(order)]))

    even = pace_parts(motion_stats(uniform))
    hold = parts([0] * 8 + [16] * 9)
    late = parts([0] * 6 + [round(i * 16 / 10) for i in range(1, 11)] + [16])
    backforth = parts([0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 4, 6, 8, 10, 12, 14, 16])
    fading = pace_parts(motion_stats(_crossfade(uniform)))
    assert max(even.irregularity, even.drift, even.fade, even.backtrack) < 0.05
    assert hold.irregularity > 0.4  # one step carries all the change
    assert late.drift > 0.1 > even.drift
    assert backforth.backtrack > 0.1 > even.backtrack
    assert fading.fade > 0.7 and fading.irregularity < 0.1  # even, but by fading


def test_accelerating_ground_truth_is_not_penalised_with_target(source):
    """A dynamic clip (an eased camera move) reproduced exactly is perfectly paced vs GT."""
    x = np.linspace(0, 1, 17)
    times = x + (1 - np.cos(np.pi * x)) / 2 - x  # sine ease-in-out
    eased = source[torch.from_numpy(np.rint(times * 32)).long()]
    linear = source[::2]
    assert float(pace_stability(eased, eased)) == 1.0
    assert float(pace_stability(eased)) < float(pace_stability(linear))  # uneven vs constant
    # against the eased GT, the constant-speed copy is the badly paced one
    assert float(pace_stability(linear, eased)) < float(pace_stability(eased, eased)) - 0.1


def test_identity_and_length_checks(uniform):
    stats = motion_stats(uniform)
    assert pace_parts(stats, stats).score == 1.0
    with pytest.raises(VideoError, match="differ in length"):
        pace_parts(stats, motion_stats(uniform[:9]))
    with pytest.raises(VideoError, match="differ in shape"):
        pace_stability(uniform, uniform[:9])


def test_approximate_invariances(uniform):
    """Pace does not depend on orientation, on brightness or (much) on resolution."""
    video = uniform[torch.tensor([0, 1, 2, 3, 4, 4, 4, 7, 8, 9, 10, 12, 14, 15, 15, 16, 16])]
    base = float(pace_stability(video))
    assert float(pace_stability(video.flip(-1))) == pytest.approx(base, abs=0.05)
    assert float(pace_stability(video.flip(-2))) == pytest.approx(base, abs=0.05)
    assert float(pace_stability(0.7 * video)) == pytest.approx(base, abs=0.05)
    half = torch.nn.functional.interpolate(uniform, scale_factor=0.5, mode="area")
    assert float(pace_stability(half)) == pytest.approx(float(pace_stability(uniform)), abs=0.03)


def test_step_shares_barely_depend_on_resolution(source):
    """The thumbnail RMS steps that version 3's step sizes average in give the same shares
    at full and half resolution, even with per-frame noise (as JPEG adds) on an uneven pace;
    the step sizes themselves (half of them mean absolute change) move little."""
    eased = source[torch.tensor([0, 1, 2, 4, 7, 11, 16, 21, 25, 28, 30, 31, 32])]
    gen = torch.Generator().manual_seed(0)

    def noisy(video: torch.Tensor) -> torch.Tensor:
        return (video + 0.01 * torch.randn(video.shape, generator=gen)).clamp(0, 1)

    half = torch.nn.functional.interpolate(eased, scale_factor=0.5, mode="area")
    full, halved = motion_stats(noisy(eased)), motion_stats(noisy(half))

    def progress(steps: torch.Tensor) -> torch.Tensor:
        return (steps.double() / steps.double().sum()).cumsum(0)

    assert float((progress(full.step) - progress(halved.step)).abs().max()) < 0.003
    assert float((progress(full.change) - progress(halved.change)).abs().max()) > 0.005
    gap = step_shares(full).cumsum(0) - step_shares(halved).cumsum(0)
    assert float(gap.abs().max()) < 0.006


def test_motion_reach_sees_videos_that_do_not_move(uniform):
    assert float(motion_reach(uniform, uniform)) == pytest.approx(1.0, abs=1e-6)
    assert float(motion_reach(uniform[:1].expand_as(uniform), uniform)) == 0.0
    assert float(motion_reach(_crossfade(uniform), uniform)) < 0.2
    hold = uniform[torch.tensor([0] * 8 + [16] * 9)]
    assert float(motion_reach(hold, uniform)) < 0.5  # the jump is not matched motion


def _random_stats(n: int, gen: torch.Generator) -> MotionStats:
    """MotionStats of n pairs with random, physically possible values."""
    change = torch.rand(n, generator=gen) * torch.randint(0, 2, (n,), generator=gen) * 0.2
    return MotionStats(
        warp_error=torch.rand(n, generator=gen) * 0.1,
        residual=torch.randn(n, 3, generator=gen) * 0.01,
        magnitude=torch.rand(n, generator=gen) * 20,
        occluded=torch.rand(n, generator=gen),
        grid=torch.randn(n, 8, 8, 2, generator=gen) * 3,
        change=change,
        step=change * (0.5 + torch.rand(n, generator=gen)),  # 0 where change is 0
        detail=torch.rand(n + 1, generator=gen) + 0.01,
        appearance=torch.rand(n + 1, 2, generator=gen) * 1.5,
        mixture=torch.rand(n + 1, 2, generator=gen) * 0.5,
        size=torch.tensor([96.0, 128.0]),
    )


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_parts_ranges(n, seed):
    gen = torch.Generator().manual_seed(seed)
    motion, target = _random_stats(n, gen), _random_stats(n, gen)
    for parts in (pace_parts(motion), pace_parts(motion, target)):
        for value in (parts.irregularity, parts.drift, parts.fade, parts.backtrack, parts.score):
            assert 0.0 <= value <= 1.0
    if float(motion.change.double().sum()) >= MIN_CHANGE:
        assert pace_parts(motion, motion).score == pytest.approx(1.0)
    else:  # a video that does not change is still, even against a still target
        assert pace_parts(motion, motion).score == 0.0


def test_per_case_definitions_and_class_equal_functional(uniform):
    videos = [uniform, uniform[torch.tensor([0] * 8 + [16] * 9)]]
    metric, metric_with_target = PaceStability(), PaceStability()
    for video in videos:
        store = _store(video)
        expected = float(pace_stability(video))
        assert METRICS.get("pace_stability").compute(store) == pytest.approx(expected)
        parts = pace_parts(motion_stats(video))
        assert METRICS.get("pace_irregularity").compute(store) == pytest.approx(parts.irregularity)
        target_store = _store(video, target=uniform)
        assert METRICS.get("pace_stability").compute(target_store) == pytest.approx(
            float(pace_stability(video, uniform))
        )
        assert METRICS.get("motion_reach").compute(target_store) == pytest.approx(
            float(motion_reach(video, uniform))
        )
        metric.update(video)
        metric_with_target.update(video[None], uniform[None])
    assert float(metric.compute()) == pytest.approx(
        np.mean([float(pace_stability(v)) for v in videos]), rel=1e-6
    )
    assert float(metric_with_target.compute()) == pytest.approx(
        np.mean([float(pace_stability(v, uniform)) for v in videos]), rel=1e-6
    )
    parts_names = ("irregularity", "drift", "fade", "backtrack")
    assert all(not METRICS.get(f"pace_{p}").default for p in parts_names)
    assert METRICS.get("pace_stability").version == 4
    assert all(METRICS.get(f"pace_{p}").version == 4 for p in parts_names)
    batch = pace_stability(torch.stack(videos), torch.stack([uniform, uniform]))
    assert batch.shape == (2,)


@pytest.mark.slow
def test_small_study_on_a_mini_bench_camera_path():
    """benchmarks/pace_study.py on one clip (the mini-bench's constant pan, 17 frames):
    re-timings ranked in order of severity, and no failure type beats the true video."""
    from pace_clips import load_clip
    from pace_study import score_clip, summarize

    rows = score_clip(load_clip("coffee_pan_right", 17), baselines=False)
    table = summarize(rows, "pace")["overall"]
    assert table["tau"] >= 0.85 and table["tau+target"] >= 0.9
    for failure in ("still", "crossfade", "freeze_fade", "hold", "cut"):
        assert table[failure] == 1.0, failure
    assert table["mild_outranked+target"] == 0.0
