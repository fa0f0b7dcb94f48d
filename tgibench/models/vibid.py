"""ViBiDSampler (Yang et al., "ViBiDSampler: Enhancing Video Interpolation Using
Bidirectional Diffusion Sampler", ICLR 2025) on SVD-XT: the ``vibid`` model.

Each step denoises the latents conditioned on the first keyframe (sigma_i → sigma_{i+1}),
re-noises them back to sigma_i, flips time, denoises them conditioned on the last
keyframe and flips back: the two conditions alternate within the step instead of being
averaged. CFG++ takes the noise direction from the unconditional prediction; DDS puts the
pass's far keyframe into the denoised estimate. Defaults: the official script's (25
steps, guidance 1.0 in both passes, CFG++ and DDS on, 4 frames decoded at a time). The
step is :class:`~tgibench.methods.svd_sampler.VibidStep`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tgibench.methods.svd_sampler import SamplingInputs, SamplingPlan, VibidStep
from tgibench.models.registry import register_model
from tgibench.models.svd import Svd, SvdOptions


@dataclass(frozen=True)
class VibidOptions(SvdOptions):
    """``svd``'s options (guidance 1.0, decoding 4 frames at a time) and ViBiDSampler's.

    Attributes:
        backward: run the re-noised, time-reversed half of each step (off: SVD from the
            first keyframe).
        cfgpp: CFG++ (the unconditional x0 gives the noise direction); off: plain CFG.
        dds: replace the far keyframe's frame of each half's denoised estimate by that
            keyframe's latent (the data-consistency step).
    """

    max_guidance_scale: float = 1.0
    decode_chunk_size: int | None = 4
    backward: bool = True
    cfgpp: bool = True
    dds: bool = True


@register_model("vibid")
class Vibid(Svd):
    """ViBiDSampler on SVD-XT: forward step, re-noise, time-reversed step, with CFG++ and DDS (training-free).

    Options: :class:`VibidOptions`.
    """

    options_class: ClassVar[type] = VibidOptions
    DEFAULT_STEPS: ClassVar[int] = 25
    USES_LAST_KEYFRAME: ClassVar[bool] = True
    options: VibidOptions

    def guided(self) -> bool:
        """CFG++ needs the unconditional branch even at guidance 1."""
        return self.options.cfgpp or super().guided()

    def needs_clean_latents(self) -> bool:
        return self.options.dds

    def plan(self, inputs: SamplingInputs) -> SamplingPlan:
        """ViBiDSampler's step over steps 0 .. S-1 (it re-noises inside the step)."""
        if inputs.last is None:
            raise ValueError("ViBiDSampler needs the last keyframe's condition")
        o = self.options
        guidance = self.frame_guidance(inputs.num_frames, inputs.first.latents.device)
        step = VibidStep(
            inputs.denoiser,
            inputs.first,
            inputs.last,
            guidance,
            inputs.noise,
            o.backward,
            o.cfgpp,
            o.dds,
        )
        return SamplingPlan(step, self.step_order())
