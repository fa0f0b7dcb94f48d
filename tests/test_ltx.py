"""``ltx``: LTX-Video's condition pipeline with the keyframes at frames 0 and N-1."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tgibench.models import build_model
from tgibench.models.diffusers_runtime import to_pil
from tgibench.models.ltx import DEFAULT_MODEL_ID, NEGATIVE_PROMPT
from tgibench.models.ltx_tiny import tiny_pipeline
from tgibench.weights import WeightsUnavailableError

PROMPT = "A glider floats over fields."


@pytest.fixture(scope="module")
def keyframes() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 40, 60, generator=g), torch.rand(3, 40, 60, generator=g)


class Recorder:
    """Wraps a pipeline and keeps the keyword arguments of each call."""

    def __init__(self, pipe: Any) -> None:
        self.pipe, self.calls = pipe, []

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.pipe(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)


def test_keyframes_condition_frames_zero_and_last(keyframes):
    model = build_model("ltx:preset=tiny")
    model.pipe = Recorder(model.pipe)
    video = model.generate(*keyframes, PROMPT, 25)
    assert video.shape == (25, 3, 32, 64) and torch.isfinite(video).all()
    call = model.pipe.calls[0]
    first, last = call["conditions"]
    assert (first.frame_index, last.frame_index) == (0, 24) and call["num_frames"] == 25
    assert first.image.tobytes() == to_pil(keyframes[0]).tobytes()
    assert last.image.tobytes() == to_pil(keyframes[1]).tobytes()
    assert call["prompt"] == PROMPT and call["negative_prompt"] == NEGATIVE_PROMPT
    # a count that is not 8k + 1: sampled at the next one, the last keyframe at its end
    assert model.generate(*keyframes, PROMPT, 30).shape[0] == 30
    assert model.pipe.calls[1]["num_frames"] == 33
    assert model.pipe.calls[1]["conditions"][1].frame_index == 32


def test_equals_a_direct_pipeline_call_and_is_seeded(keyframes):
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    video = build_model("ltx:preset=tiny").generate(*keyframes, PROMPT, 17)
    pipe = tiny_pipeline()
    pipe.set_progress_bar_config(disable=True)
    direct = pipe(
        conditions=[
            LTXVideoCondition(image=to_pil(keyframes[0]), frame_index=0),
            LTXVideoCondition(image=to_pil(keyframes[1]), frame_index=16),
        ],
        prompt=PROMPT,
        negative_prompt=NEGATIVE_PROMPT,
        height=32,
        width=64,
        num_frames=17,
        frame_rate=25,
        num_inference_steps=3,
        guidance_scale=3.0,
        image_cond_noise_scale=0.025,
        decode_timestep=0.05,
        decode_noise_scale=0.025,
        max_sequence_length=256,
        generator=torch.Generator("cpu").manual_seed(0),
        output_type="pt",
    ).frames[0]
    assert torch.equal(video, direct)
    other = build_model("ltx:preset=tiny").generate(*keyframes, PROMPT, 17, seed=1)
    assert (other - video).abs().max() > 1e-3


def test_missing_weights_raise_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_home"))
    with pytest.raises(WeightsUnavailableError) as err:
        build_model("ltx:model=nobody/no-such-ltx")
    assert "nobody/no-such-ltx" in str(err.value) and DEFAULT_MODEL_ID in str(err.value)
    with pytest.raises(WeightsUnavailableError, match="no such directory"):
        build_model(f"ltx:model={tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="offload"):
        build_model("ltx:preset=tiny,offload=disk")
