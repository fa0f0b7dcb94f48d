"""Scoring a video held as uint8 gives exactly the numbers of the same video as float."""

from __future__ import annotations

import pytest
from conftest import natural_pan

from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.features.store import ScoringInputs
from tgibench.metrics.registry import select_metrics
from tgibench.video import quantize, to_uint8


def test_uint8_and_float_inputs_score_the_same() -> None:
    truth = quantize(natural_pan(9))
    video = quantize(truth.flip(0) * 0.9 + 0.05)  # something to score that is not the truth

    def scores(as_bytes: bool) -> dict[str, float | None]:
        convert = to_uint8 if as_bytes else (lambda x: x)
        inputs = ScoringInputs(
            video=convert(video),
            target=convert(truth),
            first=truth[0],
            last=truth[-1],
            caption="a pan",
            first_desc="start",
            last_desc="end",
        )
        return score_video(inputs, select_metrics(), Backbones("cpu", {})).values

    as_float, as_bytes = scores(False), scores(True)
    measured = {k: v for k, v in as_float.items() if v is not None}
    assert {"psnr", "ssim", "lpips", "warping_error", "pace_stability"} <= measured.keys()
    assert as_bytes == pytest.approx(as_float, abs=1e-5)
