"""The motion feature and the flow-based consistency metrics on videos whose answer is known.

Warping error and flicker against a real-photograph pan (``natural_pan``), with and
without synthetic defects; keyframe adherence against the lpips package's distance; the
per-case definitions (shared features) against the functional forms and the classes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import natural_pan
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics import MetricCollection

from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.features.lpips_net import LPIPSNet
from tgibench.features.motion import motion_stats
from tgibench.features.store import FeatureStore, ScoringInputs
from tgibench.metrics import Flicker, KeyframeAdherence, WarpingError
from tgibench.metrics.functional import flicker, keyframe_adherence, pace_stability, warping_error
from tgibench.metrics.registry import METRICS, select_metrics
from tgibench.video import VideoError
from tgibench.video.flow import (
    backward_warp,
    flow_magnitude,
    round_trip_consistent,
    sampling_grid,
)

SHIFT_PER_FRAME = 2.0


@pytest.fixture(scope="module")
def pan() -> torch.Tensor:
    """9 frames of a photograph panned by 2 px per frame (96x128)."""
    return natural_pan(9, 8 * SHIFT_PER_FRAME)


@pytest.mark.parametrize("step", [8, 35])
def test_large_steps_do_not_saturate_the_flow(step):
    """Issue 11: Farneback read a 35 px step as 7.7 px. DIS reads it, and a step too large
    to match (64 px in a 256 px-wide frame) is flagged as unmatched, not read as small."""
    from skimage import data

    photo = data.astronaut()

    def pan_by(px: int) -> torch.Tensor:  # three 144x256 crops, each px further right
        crops = [photo[100:244, 40 + px * i : 296 + px * i] for i in range(3)]
        return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()

    stats = motion_stats(pan_by(step))
    assert torch.allclose(stats.magnitude, torch.full((2,), float(step)), atol=0.1)
    assert float(stats.occluded.max()) < 0.2
    assert float(motion_stats(pan_by(64)).occluded.min()) > 0.9


def test_flow_helpers_equal_their_plain_numpy_definitions():
    """The motion statistics' values must not move (MOTION_VERSION): the shortcuts give
    the plain definitions' bits."""
    rng = np.random.default_rng(3)
    forward, backward = (rng.normal(0, 4, (40, 56, 2)).astype(np.float32) for _ in range(2))
    image = rng.random((40, 56, 3), dtype=np.float32)
    grid = sampling_grid(forward)
    assert np.array_equal(flow_magnitude(forward), np.linalg.norm(forward, axis=-1))
    assert np.array_equal(backward_warp(image, forward, grid), backward_warp(image, forward))
    round_trip = forward + backward_warp(backward, forward)
    plain = np.linalg.norm(round_trip, axis=-1) <= 1.5
    assert 0 < plain.mean() < 1
    assert np.array_equal(round_trip_consistent(forward, backward, 1.5, grid), plain)
    visible = plain.copy()
    visible[::3] = False
    error = image[::-1].copy() - image
    assert np.array_equal(
        np.compress(visible.ravel(), error.reshape(-1, 3), axis=0), error[visible]
    )


def test_motion_of_a_pan_is_its_velocity(pan):
    stats = motion_stats(pan)
    assert stats.magnitude.shape == (8,) and stats.grid.shape == (8, 8, 8, 2)
    # Farneback underestimates on this photograph's flat regions by up to ~11%
    np.testing.assert_allclose(stats.magnitude, SHIFT_PER_FRAME, rtol=0.15)
    np.testing.assert_allclose(stats.mean_flow[:, 0], -SHIFT_PER_FRAME, rtol=0.15)  # moves left
    np.testing.assert_allclose(stats.mean_flow[:, 1], 0.0, atol=0.1)
    # the 2 px strip entering at the border has no match in the next frame: ≥ 2/128 occluded
    assert bool((stats.occluded > 2 / 128).all()) and bool((stats.occluded < 0.1).all())


def test_motion_is_reported_in_video_pixels_after_downscaling(pan):
    full = motion_stats(pan)
    half = motion_stats(pan, max_side=64)  # flow on 48x64 frames, reported ×2
    np.testing.assert_allclose(half.magnitude, full.magnitude, rtol=0.15)


def test_warping_error_ignores_motion_but_not_broken_frames(pan):
    clean = float(warping_error(pan))
    assert clean < 0.005  # motion alone is explained by the flow
    shuffled = pan[torch.tensor([0, 5, 2, 7, 1, 8, 3, 6, 4])]
    noisy = (pan + 0.1 * torch.randn(pan.shape, generator=torch.Generator().manual_seed(0))).clamp(
        0, 1
    )
    # DIS follows the shuffled frames' jumps (up to 14 px): a shuffled rigid pan is jerky
    # motion, not broken content, so the warping error stays low and pace catches it
    assert float(warping_error(shuffled)) < 0.005
    assert float(pace_stability(shuffled)) < 0.5 * float(pace_stability(pan))
    assert float(warping_error(noisy)) > 0.05  # fresh noise per frame cannot be warped
    still = pan[:1].expand(6, -1, -1, -1)
    assert float(warping_error(still)) < 1e-3
    assert warping_error(pan, reduction="none").shape == (8,)


def test_flicker_catches_brightness_flicker_not_motion_or_fades(pan):
    amplitude = 0.04  # frames alternately 0.04 brighter and darker: 0.08 from their neighbours
    sign = torch.tensor([(-1) ** t for t in range(pan.shape[0])]).view(-1, 1, 1, 1)
    flickering = (0.9 * pan + 0.05 + amplitude * sign).clamp(0, 1)
    fading = (0.9 * pan + 0.01 * torch.arange(pan.shape[0]).view(-1, 1, 1, 1)).clamp(0, 1)
    assert float(flicker(flickering)) == pytest.approx(2 * amplitude, rel=0.1)
    assert float(flicker(pan)) < 0.003
    assert float(flicker(fading)) < 0.003  # a steady fade is not flicker ...
    assert float(warping_error(fading)) > 2 * float(warping_error(pan))  # ... though it changes
    # VBench-style adjacent difference is fooled by motion: the clean pan looks flickery
    assert float((pan[1:] - pan[:-1]).abs().mean()) > 5 * float(flicker(pan))
    with pytest.raises(VideoError, match="at least 3"):
        flicker(pan[:2])


@pytest.fixture(scope="module")
def net() -> LPIPSNet:
    return LPIPSNet("alex")


def test_keyframe_adherence(pan, net):
    keyframes = pan[[0, -1]]
    assert float(keyframe_adherence(pan, keyframes, net=net)) == pytest.approx(0.0, abs=1e-6)
    wrong_last = torch.stack([pan[0], pan[-1].flip(-1)])
    per_end = keyframe_adherence(pan, wrong_last, reduction="none", net=net)
    assert per_end.shape == (2,) and float(per_end[0]) == pytest.approx(0.0, abs=1e-6)
    torch.testing.assert_close(per_end[1], net(pan[-1:], pan[-1:].flip(-1))[0])
    assert float(per_end[1]) > 0.1
    shifted = torch.stack([pan[2], pan[-1]])  # a slightly wrong first keyframe: small but > 0
    assert 0 < float(keyframe_adherence(pan, shifted, net=net)) < float(per_end.mean())
    with pytest.raises(VideoError, match="keyframes must be"):
        keyframe_adherence(pan, pan[:3], net=net)


def _store(video, target=None, keyframes=None) -> FeatureStore:
    first, last = (keyframes[0], keyframes[1]) if keyframes is not None else (None, None)
    return FeatureStore(
        ScoringInputs(video=video, target=target, first=first, last=last), Backbones()
    )


def test_per_case_definitions_equal_functional(pan, net):
    broken = pan.clone()
    broken[4] = (broken[4] * 0.8 * 255).round() / 255  # a darker frame, still 8-bit
    keyframes = torch.stack([pan[1], pan[-1]])
    store = _store(broken, keyframes=keyframes)
    assert METRICS.get("warping_error").compute(store) == pytest.approx(
        float(warping_error(broken))
    )
    assert METRICS.get("flicker").compute(store) == pytest.approx(float(flicker(broken)))
    assert METRICS.get("keyframe_adherence").compute(store) == pytest.approx(
        float(keyframe_adherence(broken, keyframes, net=net)), rel=1e-5
    )


def test_one_flow_pass_per_video_shared_by_every_metric(pan, monkeypatch, tmp_path):
    import tgibench.features.motion as motion

    monkeypatch.setenv("TGIBENCH_CACHE", str(tmp_path))  # an empty ground-truth cache

    calls = []
    original = motion.motion_stats
    monkeypatch.setattr(motion, "motion_stats", lambda video: calls.append(1) or original(video))
    flow_metrics = [m for m in select_metrics(["all"]) if "motion" in m.features]
    assert {"warping_error", "flicker", "pace_stability", "pace_irregularity", "motion_reach"} <= {
        m.name for m in flow_metrics
    }
    scores = score_video(ScoringInputs(video=pan), flow_metrics, Backbones())
    assert len(calls) == 1  # no target: the ground-truth pass is skipped
    assert scores.values.pop("motion_reach") is None  # it needs the ground truth
    assert all(v is not None for v in scores.values.values())
    calls.clear()
    score_video(ScoringInputs(video=pan, target=pan.flip(0)), flow_metrics, Backbones())
    assert len(calls) == 2  # generated video and ground truth, once each


def test_metric_classes_accumulate_like_functional(pan, net):
    videos = [pan[:5], pan[:5].flip(0), pan[torch.tensor([0, 2, 1, 4, 3])]]
    collection = MetricCollection({"warp": WarpingError(), "flicker": Flicker()})
    adherence = KeyframeAdherence(net=net)
    for video in videos:
        collection.update(video[None])
        adherence.update(video, pan[[0, -1]])
    result = collection.compute()
    assert float(result["warp"]) == pytest.approx(
        np.mean([float(warping_error(v)) for v in videos])
    )
    assert float(result["flicker"]) == pytest.approx(np.mean([float(flicker(v)) for v in videos]))
    expected = np.mean([float(keyframe_adherence(v, pan[[0, -1]], net=net)) for v in videos])
    assert float(adherence.compute()) == pytest.approx(expected, rel=1e-5)
    assert not WarpingError.higher_is_better and not Flicker.higher_is_better
    with pytest.raises(ValueError, match="needs the given keyframes"):
        KeyframeAdherence(net=net).update(pan)
    batch = warping_error(torch.stack(videos))
    torch.testing.assert_close(batch, torch.stack([warping_error(v) for v in videos]))


@settings(max_examples=15, deadline=None)
@given(
    frames=st.integers(3, 6),
    size=st.sampled_from([(12, 16), (20, 14)]),
    seed=st.integers(0, 2**16),
    smooth=st.booleans(),
)
def test_ranges(frames, size, seed, smooth):
    gen = torch.Generator().manual_seed(seed)
    video = torch.rand(frames, 3, *size, generator=gen)
    if smooth:
        video = torch.nn.functional.avg_pool2d(video, 3, stride=1, padding=1)
    stats = motion_stats(video)
    for values in (stats.warp_error, stats.occluded, warping_error(video, reduction="none")):
        assert bool(((values >= 0) & (values <= 1)).all())
    assert bool((stats.magnitude >= 0).all()) and bool((stats.residual.abs() <= 1).all())
    assert 0.0 <= float(flicker(video)) <= 1.0
