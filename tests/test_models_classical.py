from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import natural_pan

from tgibench.models import build_model


def _shifted_pair() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keyframes and ground truth of a 12-pixel pan over a real photograph, 9 frames."""
    frames = natural_pan(9, 12.0)
    return frames[0], frames[-1], frames


@pytest.mark.parametrize("name", ["hold", "crossfade", "flow"])
def test_contract(name):
    first, last, _ = _shifted_pair()
    video = build_model(name).generate(first, last, "a pan", 9)
    assert video.shape == (9, 3, 96, 128) and video.dtype == torch.float32
    assert float(video.min()) >= 0 and float(video.max()) <= 1
    assert torch.allclose(video[0], first) and torch.allclose(video[-1], last)


def test_hold_switches_at_the_middle():
    first, last = torch.zeros(3, 4, 4), torch.ones(3, 4, 4)
    video = build_model("hold").generate(first, last, "", 5)
    assert [float(f.mean()) for f in video] == [0, 0, 1, 1, 1]


def test_crossfade_is_linear():
    first, last = torch.zeros(3, 4, 4), torch.ones(3, 4, 4)
    video = build_model("crossfade").generate(first, last, "", 5)
    np.testing.assert_allclose([float(f.mean()) for f in video], [0, 0.25, 0.5, 0.75, 1], atol=1e-6)


def test_flow_follows_motion_better_than_crossfade():
    first, last, truth = _shifted_pair()
    errors = {}
    for name in ("crossfade", "flow"):
        video = build_model(name).generate(first, last, "", 9)
        errors[name] = float((video[1:-1] - truth[1:-1]).abs().mean())
    assert errors["flow"] < 0.5 * errors["crossfade"], errors


def test_keyframe_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in size"):
        build_model("flow").generate(torch.rand(3, 8, 8), torch.rand(3, 8, 10), "", 5)
