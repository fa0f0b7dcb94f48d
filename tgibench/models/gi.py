"""Generative Inbetweening (Wang et al., "Generative Inbetweening: Adapting Image-to-Video
Models for Keyframe Interpolation", ICLR 2025) on SVD-XT: the ``gi`` model.

At every step GI predicts the noise forward in time conditioned on the first keyframe and
on the time-reversed latents conditioned on the last, with a UNet whose temporal
self-attention layers reuse the forward pass's attention maps rotated by 180 degrees and
whose value and output projections were fine-tuned for reverse motion
(:mod:`tgibench.methods.gi_attention`); it averages the two predictions (guidance
symmetrised over time) and, in the first half of the steps, re-noises and repeats each
step (noise injection).

The fine-tuned weights: the authors host their checkpoint outside the Hugging Face hub
(a Google Drive folder with a ``unet/`` subfolder, fine-tuned from
``stabilityai/stable-video-diffusion-img2vid``). As in their code, the reverse projections
are SVD-XT's plus the fine-tune's change: ``xt + (finetuned - img2vid)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

from tgibench.methods.bidirectional import (
    injection_schedule,
    linear_fusion_weights,
    per_frame,
    symmetric_guidance,
)
from tgibench.methods.gi_attention import (
    REVERSE_PROJECTIONS,
    GiAttentionHandle,
    install_gi_attention,
    temporal_attention_layers,
)
from tgibench.methods.svd_sampler import FusedStep, SamplingInputs, SamplingPlan
from tgibench.models.diffusers_runtime import hub_kwargs, pretrained_source, weights_or_explain
from tgibench.models.registry import register_model
from tgibench.models.svd import Svd, SvdOptions
from tgibench.weights import WeightsUnavailableError

#: The model the authors fine-tuned (the base of the weight change they released).
REVERSE_BASE_ID = "stabilityai/stable-video-diffusion-img2vid"
#: How to get the authors' checkpoint (their README).
REVERSE_UNET_HOW = (
    "Download the authors' fine-tuned checkpoint (github.com/jeanne-wang/"
    "svd_keyframe_interpolation, 'Download checkpoint': `gdown 1H7vgiNVbxSeeleyJOqhoyRbJ97kGWGOK "
    "--folder`) and pass its folder, the one holding unet/: "
    "--model 'gi:reverse_unet=/path/to/checkpoints/svd_reverse_motion_with_attnflip'"
)


@dataclass(frozen=True)
class GiOptions(SvdOptions):
    """``svd``'s options and GI's.

    Attributes:
        reverse_unet: local folder of the fine-tuned reverse-motion checkpoint (holding
            ``unet/``, or the UNet folder itself); required by the full preset (the tiny
            preset uses a random change).
        reverse_base: hub id or folder of the model the checkpoint was fine-tuned from.
        backward: run the time-reversed pass and fuse (off: SVD from the first keyframe,
            with GI's noise injection).
        rotate: the backward pass's temporal self-attention uses the forward maps rotated
            by 180 degrees (off: its own maps).
        reverse_weights: the backward pass uses the fine-tuned value and output
            projections (off: SVD-XT's own).
        weighted_average: fuse with TRF's linear weights and each pass's own guidance ramp
            (off, the official default: weight 0.5 and the ramp symmetrised over time).
        noise_injection_steps: repeats of each injected step (0: no injection).
        noise_injection_ratio: the fraction of the steps, from the first, that are repeated.
    """

    reverse_unet: str = ""
    reverse_base: str = REVERSE_BASE_ID
    backward: bool = True
    rotate: bool = True
    reverse_weights: bool = True
    weighted_average: bool = False
    noise_injection_steps: int = 5
    noise_injection_ratio: float = 0.5


def _unet_folder(source: str) -> dict[str, Any]:
    """``from_pretrained`` location keywords: a checkpoint with ``unet/`` or a UNet folder."""
    path = Path(source)
    if path.is_dir() and not (path / "unet" / "config.json").is_file():
        return {"pretrained_model_name_or_path": source}
    return {"pretrained_model_name_or_path": source, "subfolder": "unet"}


def unet_tensors(model: str, names: list[str], what: str, how: str) -> dict[str, torch.Tensor]:
    """The named parameters (float32) of the UNet of a checkpoint: a hub id or a folder
    (holding ``unet/`` or being the UNet folder), loaded by diffusers (safetensors, or
    ``.bin`` with ``weights_only``). Raises WeightsUnavailableError when absent."""
    from diffusers import UNetSpatioTemporalConditionModel

    source = pretrained_source(model, what, how)
    with weights_or_explain(what, model, how):
        unet = UNetSpatioTemporalConditionModel.from_pretrained(
            **_unet_folder(source), dtype=torch.float32, **hub_kwargs(None)
        )
    state = unet.state_dict()
    missing = [name for name in names if name not in state]
    if missing:
        raise WeightsUnavailableError(
            f"{what} {model!r}: it lacks {missing[0]} (and {len(missing) - 1} more)", how
        )
    return {name: state[name].float() for name in names}


@register_model("gi")
class Gi(Svd):
    """Generative Inbetweening on SVD-XT: fused forward and reverse-motion passes, rotated temporal attention.

    Options: :class:`GiOptions`. ``attention`` is the installed
    :class:`~tgibench.methods.gi_attention.GiAttentionHandle` (None when the backward
    pass is off or uses SVD-XT's own attention).
    """

    options_class: ClassVar[type] = GiOptions
    DEFAULT_STEPS: ClassVar[int] = 50
    USES_LAST_KEYFRAME: ClassVar[bool] = True
    options: GiOptions

    def prepare_unet(self, unet: Any) -> None:
        """Install the rotated temporal attention and the reverse-motion projections."""
        o = self.options
        self.attention: GiAttentionHandle | None = None
        if o.backward and (o.rotate or o.reverse_weights):
            reverse = self.reverse_projections(unet) if o.reverse_weights else None
            self.attention = install_gi_attention(unet, o.rotate, reverse)

    def reverse_projections(self, unet: Any) -> dict[str, dict[str, torch.Tensor]]:
        """Each temporal self-attention layer's reverse-motion projections: the UNet's own
        plus the fine-tune's change, ``finetuned - base`` (the tiny preset: a seeded random
        change)."""
        o = self.options
        layers = temporal_attention_layers(list(unet.attn_processors))
        names = [f"{layer}.{key}" for layer in layers for key in REVERSE_PROJECTIONS]
        own = {name: tensor.detach().float() for name, tensor in unet.named_parameters()}
        if o.reverse_unet:
            finetuned = unet_tensors(
                o.reverse_unet, names, "GI reverse-motion UNet", REVERSE_UNET_HOW
            )
            base = unet_tensors(
                o.reverse_base,
                names,
                "GI's base UNet",
                f"Download it once with `huggingface-cli download {REVERSE_BASE_ID}` into the "
                "Hugging Face cache (HF_HOME), or pass its folder: gi:reverse_base=/path",
            )
            change = {name: finetuned[name] - base[name] for name in names}
        elif o.preset == "tiny":
            generator = torch.Generator().manual_seed(1)
            change = {
                name: 0.1 * torch.randn(own[name].shape, generator=generator) for name in names
            }
        else:
            raise WeightsUnavailableError("GI reverse-motion UNet (reverse_unet)", REVERSE_UNET_HOW)
        return {
            layer: {
                key: (own[f"{layer}.{key}"] + change[f"{layer}.{key}"]).to(unet.dtype)
                for key in REVERSE_PROJECTIONS
            }
            for layer in layers
        }

    def _on_pass(self, direction: str) -> None:
        if self.attention is not None:
            self.attention.state.mode = direction

    def plan(self, inputs: SamplingInputs) -> SamplingPlan:
        """The fused step (weight 0.5 and symmetrised guidance, or TRF's weights with
        ``weighted_average``) with GI's attention switched per pass, and the injection
        schedule."""
        o = self.options
        device = inputs.first.latents.device
        ramp = self.frame_guidance(inputs.num_frames, device)
        weights: torch.Tensor | float
        if o.weighted_average or not o.backward:  # the symmetrised ramp is the fusion's
            guidance = ramp
            weights = per_frame(linear_fusion_weights(inputs.num_frames)).to(device)
        else:
            guidance, weights = symmetric_guidance(ramp), 0.5
        step = FusedStep(
            inputs.denoiser,
            inputs.first,
            guidance,
            inputs.last if o.backward else None,
            guidance,
            weights,
            self._on_pass,
        )
        order = injection_schedule(self.steps, o.noise_injection_steps, o.noise_injection_ratio)
        return SamplingPlan(step, order)
