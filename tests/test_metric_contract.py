"""The scoring contract, checked on every registered per-case metric at once.

A metric receives :class:`ScoringInputs` (uint8 video and target, float keyframes, texts)
through a FeatureStore. For every registered metric: a uint8 video and the same video as
float in [0, 1] give the same value; the value lies in the declared range; a still video
and a moving one both score (no error, a finite number). Metrics whose weights cannot be
had here (X-CLIP, a VQA model) are unavailable with a reason, never a number or an error.
A metric that raises costs that metric only, and the row names it.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from conftest import natural_pan

from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.features.store import FeatureStore, ScoringInputs
from tgibench.metrics.registry import METRICS, register_metric, select_metrics
from tgibench.video import VideoError


@pytest.fixture(scope="module")
def backbones() -> Backbones:
    """Real LPIPS; a random-init CLIP (no CLIP weights offline)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = Backbones(options={"clip": {"model": "ViT-S-32", "pretrained": "random"}})
        built.get("clip")
    return built


def _inputs(video: torch.Tensor, truth: torch.Tensor) -> ScoringInputs:
    return ScoringInputs(
        video=video,
        target=truth,
        first=truth[0].float() / 255,
        last=truth[-1].float() / 255,
        caption="A camera pans across an astronaut.",
        first_desc="An astronaut at the left.",
        last_desc="An astronaut at the right.",
    )


def test_every_metric_keeps_the_contract(backbones):
    truth = (natural_pan(9, 16.0) * 255).round().byte()
    still = truth[:1].expand_as(truth).clone()
    metrics = [m for m in select_metrics(["all"]) if not m.run_level]
    assert {"psnr", "lpips_frames", "pace_stability", "clip_score"} <= {m.name for m in metrics}
    for video in (truth, still):
        as_uint8 = score_video(_inputs(video, truth), metrics, backbones)
        as_float = score_video(_inputs(video.float() / 255, truth), metrics, backbones)
        assert not as_uint8.errors, as_uint8.errors
        for metric in metrics:
            value = as_uint8.values[metric.name]
            if value is None:  # only for want of weights or of an input, with the reason
                assert metric.name in as_uint8.unavailable, metric.name
                continue
            low, high = metric.value_range
            assert math.isfinite(value) and low <= value <= high, (metric.name, value)
            assert as_float.values[metric.name] == pytest.approx(value, abs=1e-6), metric.name


def test_scoring_inputs_check_what_they_hold():
    video = torch.rand(5, 3, 16, 16)
    inputs = ScoringInputs(video=video)
    assert inputs.video.dtype == torch.uint8  # quantised once, for every metric alike
    with pytest.raises(VideoError, match="differ in shape"):
        ScoringInputs(video=video, target=torch.rand(4, 3, 16, 16))
    with pytest.raises(VideoError):
        ScoringInputs(video=torch.rand(5, 16, 16))


def test_a_failing_metric_costs_that_metric_only(backbones):
    @register_metric(
        "contract_broken",
        pillar="consistency",
        higher_is_better=True,
        value_range=(0.0, 1.0),
        default=False,
    )
    def _broken(store: FeatureStore) -> float:
        """Fails on every video (a bug in a user's metric)."""
        raise RuntimeError("mean(): could not infer output dtype")

    try:
        truth = (natural_pan(5, 8.0) * 255).round().byte()
        chosen = select_metrics(["psnr", "contract_broken", "pace_stability"])
        scores = score_video(_inputs(truth, truth), chosen, backbones)
        assert scores.values["contract_broken"] is None
        assert scores.errors == {
            "contract_broken": "RuntimeError: mean(): could not infer output dtype"
        }
        assert scores.values["psnr"] == 100.0 and scores.values["pace_stability"] is not None
    finally:
        METRICS._entries.pop("contract_broken")
        METRICS._sources.pop("contract_broken")
