"""Time Reversal Fusion (Feng et al., "Explorative Inbetweening of Time and Space", ECCV
2024) on SVD-XT: the ``trf`` model.

At every step TRF denoises the latents forward in time conditioned on the first keyframe
and the time-reversed latents conditioned on the last, and fuses the two with linear
per-frame weights (the forward pass weighs 1 at frame 0 and 0 at the last frame). In the
first steps it re-noises and denoises a stretch of steps again (RePaint-style jumps) so
the two passes agree. Defaults: the official code's settings for video frames. The steps
are :class:`~tgibench.methods.svd_sampler.FusedStep` and
:func:`~tgibench.methods.bidirectional.jump_schedule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tgibench.methods.bidirectional import jump_schedule, linear_fusion_weights, per_frame
from tgibench.methods.svd_sampler import FusedStep, SamplingInputs, SamplingPlan
from tgibench.models.registry import register_model
from tgibench.models.svd import Svd, SvdOptions


@dataclass(frozen=True)
class TrfOptions(SvdOptions):
    """``svd``'s options (decoding 8 frames at a time, as the official code) and TRF's.

    Attributes:
        backward: run the time-reversed pass and fuse (off: SVD from the first keyframe,
            with TRF's re-noising schedule).
        jump_length: steps the latents go back up at a jump.
        jump_n_sample: how many times a jumped stretch runs (1: no re-noising).
        repeat_step_ratio: jumps follow the steps before the first (1 - ratio) of the
            schedule (0.8: step 9 of 50).
        noise_scale_ratio: multiplies the noise a jump adds (0.95 for video frames in the
            official code; 1.0 restores the level exactly).
    """

    decode_chunk_size: int | None = 8
    backward: bool = True
    jump_length: int = 5
    jump_n_sample: int = 2
    repeat_step_ratio: float = 0.8
    noise_scale_ratio: float = 0.95


@register_model("trf")
class Trf(Svd):
    """Time Reversal Fusion on SVD-XT: forward and time-reversed passes fused per step (training-free).

    Options: :class:`TrfOptions`.
    """

    options_class: ClassVar[type] = TrfOptions
    DEFAULT_STEPS: ClassVar[int] = 50
    USES_LAST_KEYFRAME: ClassVar[bool] = True
    options: TrfOptions

    def plan(self, inputs: SamplingInputs) -> SamplingPlan:
        """The fused step (each pass guided by SVD's ramp in its own time, linear fusion
        weights) and TRF's jump schedule."""
        o = self.options
        device = inputs.first.latents.device
        guidance = self.frame_guidance(inputs.num_frames, device)
        step = FusedStep(
            inputs.denoiser,
            inputs.first,
            guidance,
            inputs.last if o.backward else None,
            guidance,
            per_frame(linear_fusion_weights(inputs.num_frames)).to(device),
        )
        order = jump_schedule(self.steps, o.jump_length, o.jump_n_sample, o.repeat_step_ratio)
        return SamplingPlan(step, order, o.noise_scale_ratio)
