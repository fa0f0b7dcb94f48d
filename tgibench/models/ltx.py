"""LTX-Video keyframe interpolation through diffusers' ``LTXConditionPipeline``: the ``ltx`` model.

LTX-Video 0.9.5 (2B parameters, a current open model that fits consumer GPUs) is
conditioned on two images: the first keyframe at frame 0 (its latent replaces the first
latent frame) and the last keyframe at frame N - 1 (extra conditioning tokens placed at
that frame's time). The prompt is the case's caption. The VAE compresses time 8x, so N
must be 8k + 1 (25, 33, 65 and 81 are); other counts are sampled at the next such N and
the frames nearest in time are kept, the last keyframe then at the sampled clip's end.

Weights: ``model`` is a hub id (``Lightricks/LTX-Video-0.9.5``, from the Hugging Face cache
offline) or a local ``save_pretrained`` directory; ``preset=tiny`` builds the same classes
with tiny random weights (:mod:`tgibench.models.ltx_tiny`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from tgibench.models.base import GenerationRequest, ModelBase
from tgibench.models.diffusers_runtime import (
    DeviceOptions,
    Presets,
    check_choice,
    hub_kwargs,
    nearest_frames,
    place_pipeline,
    preset_size,
    pretrained_source,
    to_pil,
    weights_or_explain,
    with_preset_size,
)
from tgibench.models.registry import register_model

#: LTX-Video 0.9.5, the first release with multi-keyframe conditioning in diffusers.
DEFAULT_MODEL_ID = "Lightricks/LTX-Video-0.9.5"
#: Sampling defaults per preset: (height, width, steps); 480x864 is the paper's aspect.
PRESET_DEFAULTS: Presets = {"full": (480, 864, 40), "tiny": (32, 64, 3)}
#: diffusers' recommended negative prompt for LTX-Video.
NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


@dataclass(frozen=True)
class LtxOptions(DeviceOptions):
    """Options of ``ltx``, e.g. ``ltx:steps=30,guidance_scale=5``.

    Attributes:
        model: hub id or local directory of a diffusers LTX-Video condition pipeline.
        preset: "full" loads ``model``; "tiny" builds a tiny random pipeline (no weights).
        height: output height in pixels (multiple of 32); None = preset default (480 | 32).
        width: output width in pixels (multiple of 32); None = preset default (864 | 64).
        steps: denoising steps; None = preset default (40 | 3).
        guidance_scale: classifier-free guidance scale (3.0, the pipeline's); <= 1 disables it.
        guidance_rescale: rescale of the guided prediction (0: off).
        negative_prompt: prompt of the unconditional branch.
        frame_rate: frame rate of the positional time coordinates (LTX trains at 24-25).
        condition_strength: how strongly each keyframe condition holds (1: fully).
        image_cond_noise_scale: noise added to the conditioning latents per step (0.025,
            diffusers' recommendation for 0.9.1 and later).
        decode_timestep: timestep of the timestep-aware VAE decoder (0.05, likewise).
        decode_noise_scale: noise mixed into the latents before decoding (0.025, likewise).
        max_sequence_length: prompt tokens given to the T5 encoder.
        seed: fixed sampling seed; None uses the runner's seed (0 by default).
        device: "auto" (cuda if available), "cpu", "cuda", "cuda:1", ...
        dtype: precision of every component: "auto" (bfloat16 on cuda, as LTX-Video
            recommends; float32 on cpu), "bfloat16", "float16" or "float32".
        offload: "none", "model" (``enable_model_cpu_offload``) or "sequential".
        vae_tiling: decode in overlapping spatial tiles (less memory).
        vae_slicing: decode a batch one video at a time.
        revision: hub revision (branch, tag or commit) of ``model``.
    """

    model: str = DEFAULT_MODEL_ID
    preset: str = "full"
    height: int | None = None
    width: int | None = None
    steps: int | None = None
    guidance_scale: float = 3.0
    guidance_rescale: float = 0.0
    negative_prompt: str = NEGATIVE_PROMPT
    frame_rate: int = 25
    condition_strength: float = 1.0
    image_cond_noise_scale: float = 0.025
    decode_timestep: float = 0.05
    decode_noise_scale: float = 0.025
    max_sequence_length: int = 256
    seed: int | None = None
    device: str = "auto"
    dtype: str = "auto"
    offload: str = "none"
    vae_tiling: bool = False
    vae_slicing: bool = False
    revision: str | None = None

    def __post_init__(self) -> None:
        check_choice("preset", self.preset, tuple(PRESET_DEFAULTS))
        self.check_device_options()


def load_ltx_pipeline(model: str, dtype: torch.dtype, revision: str | None = None) -> Any:
    """Load an LTX-Video condition pipeline (every component in ``dtype``) from a hub id or
    a local ``save_pretrained`` directory; WeightsUnavailableError when absent."""
    from diffusers import LTXConditionPipeline

    how = (
        f"Download it once with `huggingface-cli download {DEFAULT_MODEL_ID}` (or the id you "
        "passed) into the Hugging Face cache (HF_HOME), or pass a local directory saved with "
        "save_pretrained: --model 'ltx:model=/path/to/LTX-Video-0.9.5'."
    )
    source = pretrained_source(model, "LTX-Video pipeline", how)
    with weights_or_explain("LTX-Video pipeline", model, how):
        return LTXConditionPipeline.from_pretrained(source, dtype=dtype, **hub_kwargs(revision))


@register_model("ltx")
class Ltx(ModelBase):
    """LTX-Video 0.9.5 (diffusers) conditioned on both keyframes, at frames 0 and N-1, and the caption.

    Options: :class:`LtxOptions`. Attributes after construction: ``pipe``, ``height``,
    ``width``, ``steps`` (preset defaults resolved), ``device``, ``dtype``.
    """

    options_class: ClassVar[type] = LtxOptions

    def __init__(self, options: LtxOptions | None = None, pipe: Any = None) -> None:
        self.options = options = options or LtxOptions()
        self.height, self.width, self.steps = preset_size(
            PRESET_DEFAULTS, options.preset, options.height, options.width, options.steps
        )
        self.device = options.torch_device()
        self.dtype = options.torch_dtype(self.device)
        if pipe is None and options.preset == "tiny":
            from tgibench.models.ltx_tiny import tiny_pipeline

            pipe = tiny_pipeline()
        elif pipe is None:
            pipe = load_ltx_pipeline(options.model, self.dtype, options.revision)
        if pipe.transformer.dtype != self.dtype:  # a given or tiny pipeline
            pipe.to(dtype=self.dtype)
        self.pipe = pipe
        place_pipeline(pipe, options, self.device)
        pipe.set_progress_bar_config(disable=True)

    @classmethod
    def resolved_settings(cls, options: dict[str, Any]) -> dict[str, Any]:
        """The options with the preset's size and steps filled in."""
        return with_preset_size(PRESET_DEFAULTS, options)

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        """Sample the clip between the keyframes at ``height`` x ``width``; returns
        (num_frames, 3, H, W) float32 in [0, 1] on the CPU."""
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        o = self.options
        step = self.pipe.vae_temporal_compression_ratio
        sampled = -(-(request.num_frames - 1) // step) * step + 1
        seed = o.seed if o.seed is not None else request.seed
        conditions = [
            LTXVideoCondition(
                image=to_pil(request.first), frame_index=0, strength=o.condition_strength
            ),
            LTXVideoCondition(
                image=to_pil(request.last), frame_index=sampled - 1, strength=o.condition_strength
            ),
        ]
        output = self.pipe(
            conditions=conditions,
            prompt=request.prompt,
            negative_prompt=o.negative_prompt,
            height=self.height,
            width=self.width,
            num_frames=sampled,
            frame_rate=o.frame_rate,
            num_inference_steps=self.steps,
            guidance_scale=o.guidance_scale,
            guidance_rescale=o.guidance_rescale,
            image_cond_noise_scale=o.image_cond_noise_scale,
            decode_timestep=o.decode_timestep,
            decode_noise_scale=o.decode_noise_scale,
            max_sequence_length=o.max_sequence_length,
            generator=torch.Generator("cpu").manual_seed(seed),
            output_type="pt",
        )
        video = output.frames[0].float().cpu().clamp(0, 1)
        return nearest_frames(video, request.num_frames).contiguous()
