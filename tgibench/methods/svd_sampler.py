"""One sampler loop for Stable Video Diffusion, and the method steps that plug into it.

:func:`sample` walks an order of step indices (0, 1, ..., S-1 for plain sampling; with
repeats for TRF's and GI's re-noising, :mod:`~tgibench.methods.bidirectional`) and calls
a step object per index. The step objects are the methods:

- :class:`FusedStep`: SVD's own Euler step conditioned on the first keyframe; given the
  last keyframe too, TRF's and GI's fused step (forward and time-reversed predictions
  mixed per frame, one Euler step).
- :class:`VibidStep`: ViBiDSampler's step (forward step, re-noise, time-reversed step),
  with its CFG++ and DDS options.

:class:`SvdDenoiser` is the one place that calls the UNet, exactly as diffusers'
``StableVideoDiffusionPipeline`` does. Latents are (B, F, C, h, w), float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from tgibench.methods.bidirectional import dds_projection, fuse_bidirectional, time_flip
from tgibench.methods.edm import (
    decoupled_euler_step,
    euler_step,
    guided,
    renoise,
    scale_input,
    x0_from_v,
)


@dataclass(frozen=True)
class KeyframeCondition:
    """One keyframe, encoded as SVD is conditioned on it.

    Attributes:
        embeddings: (B', 1, D) CLIP image embedding; with guidance B' = 2: [zeros, embedding].
        latents: (B', F, C, h, w) VAE latent (the posterior's mode) of the noise-augmented
            keyframe, repeated over the F frames (zeros in the unconditional half).
        clean_latent: (1, C, h, w) VAE latent of the clean keyframe times the VAE's scaling
            factor, the keyframe in the space the sampler denoises (ViBiDSampler's DDS);
            None when no method needs it.
    """

    embeddings: torch.Tensor
    latents: torch.Tensor
    clean_latent: torch.Tensor | None = None


class NoiseSource:
    """Standard normal noise from one seeded CPU generator, in draw order (as diffusers'
    ``randn_tensor`` draws it), on the device and dtype of the tensor it is shaped like."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def __call__(self, like: torch.Tensor) -> torch.Tensor:
        noise = torch.randn(like.shape, generator=self.generator, dtype=like.dtype)
        return noise.to(like.device)


@dataclass
class SvdDenoiser:
    """The SVD UNet at the sampler's noise levels.

    Attributes:
        unet: diffusers' ``UNetSpatioTemporalConditionModel``.
        sigmas: (S + 1,) noise levels of the schedule, the last 0.
        timesteps: (S,) the UNet's time input per step (0.25·log sigma for SVD).
        added_time_ids: (B', 3) fps - 1, motion bucket id and noise augmentation strength.
        guided: run the unconditional branch too (classifier-free guidance, CFG++).
    """

    unet: Any
    sigmas: torch.Tensor
    timesteps: torch.Tensor
    added_time_ids: torch.Tensor
    guided: bool

    def __call__(
        self, x: torch.Tensor, step: int, condition: KeyframeCondition
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(unconditional, conditional) v-predictions for latents ``x`` (1, F, C, h, w) at
        ``step``, in the latents' dtype; the first is None without guidance."""
        model_input = torch.cat([x] * 2) if self.guided else x
        model_input = scale_input(model_input, self.sigmas[step])
        model_input = torch.cat([model_input, condition.latents], dim=2)
        dtype = self.unet.dtype
        v = self.unet(
            model_input.to(dtype),
            self.timesteps[step],
            encoder_hidden_states=condition.embeddings.to(dtype),
            added_time_ids=self.added_time_ids.to(dtype),
            return_dict=False,
        )[0].to(x.dtype)
        if self.guided:
            uncond, cond = v.chunk(2)
            return uncond, cond
        return None, v

    def prediction(
        self, x: torch.Tensor, step: int, condition: KeyframeCondition, scale: torch.Tensor
    ) -> torch.Tensor:
        """The guided v-prediction (per-frame ``scale``, (1, F, 1, 1, 1)); the conditional
        one without guidance."""
        uncond, cond = self(x, step, condition)
        return cond if uncond is None else guided(uncond, cond, scale)


class SamplerStep(Protocol):
    """One denoising step: latents at step ``step``'s level → latents at the next level."""

    def __call__(self, x: torch.Tensor, step: int) -> torch.Tensor: ...


def _no_pass_hook(direction: str) -> None:
    """The default of :attr:`FusedStep.on_pass`: nothing to switch."""


@dataclass
class FusedStep:
    """SVD's Euler step, or TRF's and GI's fused bidirectional one.

    Without ``last`` it is SVD sampling conditioned on ``first`` (bit for bit diffusers').
    With ``last``: v_f from the latents conditioned on the first keyframe, v_b from the
    time-reversed latents conditioned on the last keyframe, fused per frame as
    ``w·v_f + (1 - w)·flip(v_b)`` (:func:`fuse_bidirectional`), then one Euler step.

    Attributes:
        denoiser: the UNet at the schedule's levels.
        first: the first keyframe's condition.
        forward_guidance: (1, F, 1, 1, 1) guidance scale per frame of the forward pass.
        last: the last keyframe's condition, or None for the forward pass alone.
        backward_guidance: guidance per frame of the backward pass, in its own time.
        weights: the forward pass's fusion weight per frame (1, F, 1, 1, 1) or one number.
        on_pass: called with "forward" or "backward" before each UNet call (GI switches its
            attention processors there).
    """

    denoiser: SvdDenoiser
    first: KeyframeCondition
    forward_guidance: torch.Tensor
    last: KeyframeCondition | None = None
    backward_guidance: torch.Tensor | None = None
    weights: torch.Tensor | float = 0.5
    on_pass: Callable[[str], None] = field(default=_no_pass_hook)

    def __call__(self, x: torch.Tensor, step: int) -> torch.Tensor:
        self.on_pass("forward")
        v = self.denoiser.prediction(x, step, self.first, self.forward_guidance)
        if self.last is not None:
            if self.backward_guidance is None:
                raise ValueError("a fused step needs the backward pass's guidance")
            self.on_pass("backward")
            back = self.denoiser.prediction(time_flip(x), step, self.last, self.backward_guidance)
            v = fuse_bidirectional(v, back, self.weights)
        sigma, sigma_next = self.denoiser.sigmas[step], self.denoiser.sigmas[step + 1]
        return euler_step(x, x0_from_v(v, x, sigma), sigma, sigma_next)


@dataclass
class VibidStep:
    """ViBiDSampler's step: denoise conditioned on the first keyframe, re-noise to the
    step's level, flip time, denoise conditioned on the last keyframe, flip back.

    Each half is an Euler step from sigma_i to sigma_{i+1} on the guided x0; with ``cfgpp``
    its noise direction is the unconditional x0 (CFG++), with ``dds`` its clean estimate
    has the pass's far keyframe put in place (:func:`dds_projection`). With every option
    off and no backward pass it is SVD's own step.

    Attributes:
        denoiser: the UNet at the schedule's levels (guided when ``cfgpp``).
        first: the first keyframe's condition (``clean_latent`` set when ``dds``).
        last: the last keyframe's condition (likewise).
        guidance: (1, F, 1, 1, 1) guidance scale per frame, the same in both passes' own time.
        noise: the noise of the re-noising.
        backward: run the time-reversed half.
        cfgpp: CFG++ (manifold-constrained guidance) instead of plain CFG.
        dds: project the clean estimate onto the far keyframe.
    """

    denoiser: SvdDenoiser
    first: KeyframeCondition
    last: KeyframeCondition
    guidance: torch.Tensor
    noise: NoiseSource
    backward: bool = True
    cfgpp: bool = True
    dds: bool = True

    def __post_init__(self) -> None:
        if self.cfgpp and not self.denoiser.guided:
            raise ValueError("CFG++ needs the unconditional branch: a guided denoiser")
        if self.dds and (self.first.clean_latent is None or self.last.clean_latent is None):
            raise ValueError("DDS needs both keyframes' clean latents")

    def __call__(self, x: torch.Tensor, step: int) -> torch.Tensor:
        x = self._half(x, step, self.first, self.last.clean_latent)
        if not self.backward:
            return x
        sigma, sigma_next = self.denoiser.sigmas[step], self.denoiser.sigmas[step + 1]
        x = renoise(x, sigma_next, sigma, self.noise(x))
        return time_flip(self._half(time_flip(x), step, self.last, self.first.clean_latent))

    def _half(
        self,
        x: torch.Tensor,
        step: int,
        condition: KeyframeCondition,
        far_keyframe: torch.Tensor | None,
    ) -> torch.Tensor:
        uncond, cond = self.denoiser(x, step, condition)
        sigma, sigma_next = self.denoiser.sigmas[step], self.denoiser.sigmas[step + 1]
        v = cond if uncond is None else guided(uncond, cond, self.guidance)
        x0 = x0_from_v(v, x, sigma)
        if not (self.cfgpp or self.dds):
            return euler_step(x, x0, sigma, sigma_next)
        target = dds_projection(x0, far_keyframe) if far_keyframe is not None and self.dds else x0
        direction = x0_from_v(uncond, x, sigma) if uncond is not None and self.cfgpp else x0
        return decoupled_euler_step(x, target, direction, sigma, sigma_next)


@dataclass(frozen=True)
class SamplingInputs:
    """What a method plans its sampling from.

    Attributes:
        denoiser: the UNet at the schedule's noise levels.
        first: the first keyframe's condition.
        last: the last keyframe's condition (None when the method does not use it).
        num_frames: F, the frames sampled.
        noise: the noise source of the run (after the initial latents were drawn).
    """

    denoiser: SvdDenoiser
    first: KeyframeCondition
    last: KeyframeCondition | None
    num_frames: int
    noise: NoiseSource


@dataclass(frozen=True)
class SamplingPlan:
    """A method's sampling: its step, the order of step indices, the re-noising ratio."""

    step: SamplerStep
    order: list[int]
    noise_ratio: float = 1.0


def sample(
    plan: SamplingPlan, latents: torch.Tensor, sigmas: torch.Tensor, noise: NoiseSource
) -> torch.Tensor:
    """Run the plan's step over the step indices of its order.

    Latents enter step k at level sigmas[k] and leave at sigmas[k + 1]. When the next index
    is not above the last one run (a jump back, TRF; a repeat, GI), the latents are first
    re-noised from their level up to that step's (:func:`~tgibench.methods.edm.renoise`,
    ``noise_ratio`` times the needed noise).

    Returns:
        the latents after the last step of the order.
    """
    level = 0
    for k in plan.order:
        if k < level:
            latents = renoise(latents, sigmas[level], sigmas[k], noise(latents), plan.noise_ratio)
        latents = plan.step(latents, k)
        level = k + 1
    return latents
