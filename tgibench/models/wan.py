"""Wan2.1-FLF2V through diffusers: the ``wan`` model and its options.

``wan`` wraps diffusers' ``WanImageToVideoPipeline`` called with ``last_image``
(first-last-frame to video); ``tgi`` (:mod:`tgibench.models.tgi`) is the same with the
paper's method. ``model`` is a hub id or a local directory saved with ``save_pretrained``;
the weights load with ``from_pretrained`` (safetensors), honouring
``HF_HOME``/``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``. ``preset=tiny`` builds the same
pipeline classes from tiny random configs (:mod:`tgibench.models.wan_tiny`).

On a GPU the transformer and text encoder run in bfloat16 by default; ``offload``,
``vae_tiling`` and ``vae_slicing`` trade speed for memory (:class:`WanOptions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

#: The paper's checkpoint: Wan2.1-FLF2V-14B-720P in diffusers format.
DEFAULT_MODEL_ID = "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers"

#: Sampling defaults per preset: (height, width, steps). The paper samples at 480x864, 50 steps.
PRESET_DEFAULTS: Presets = {"full": (480, 864, 50), "tiny": (32, 48, 5)}

SAMPLERS = ("euler", "unipc")


@dataclass(frozen=True)
class WanOptions(DeviceOptions):
    """Options of ``wan`` (and of ``tgi``, which adds the method's), e.g. ``wan:steps=30``.

    Attributes:
        model: hub id or local directory of a diffusers Wan FLF2V pipeline.
        preset: "full" loads ``model``; "tiny" builds a tiny random pipeline (no weights).
        height: output height in pixels (multiple of 16); None = preset default (480 | 32).
        width: output width in pixels (multiple of 16); None = preset default (864 | 48).
        steps: denoising steps; None = preset default (50 | 5).
        flow_shift: flow-matching timestep shift (16 in the paper).
        guidance_scale: classifier-free guidance scale (5.0); <= 1 disables the uncond branch.
        negative_prompt: prompt of the unconditional branch (empty in the paper).
        seed: fixed sampling seed; None uses the runner's seed (0 by default, as the paper).
        sampler: "euler" (FlowMatchEulerDiscreteScheduler) or "unipc" (UniPC, flow sigmas).
        device: "auto" (cuda if available), "cpu", "cuda", "cuda:1", ...
        dtype: precision of the transformer and text encoder: "auto" (bfloat16 on cuda,
            float32 on cpu), "bfloat16", "float16" or "float32". The VAE and the CLIP image
            encoder stay float32, as diffusers recommends for Wan.
        offload: "none" (everything on ``device``), "model" (diffusers'
            ``enable_model_cpu_offload``: one component on the GPU at a time) or
            "sequential" (``enable_sequential_cpu_offload``: layer by layer; least memory,
            slowest).
        vae_tiling: encode and decode in overlapping spatial tiles (``AutoencoderKLWan.
            enable_tiling``; tiles of 256 px, so 480p and up): less VAE memory, results
            differ slightly at the tile seams.
        vae_slicing: decode a batch one video at a time (``enable_slicing``).
        revision: hub revision (branch, tag or commit) of ``model``.
    """

    model: str = DEFAULT_MODEL_ID
    preset: str = "full"
    height: int | None = None
    width: int | None = None
    steps: int | None = None
    flow_shift: float = 16.0
    guidance_scale: float = 5.0
    negative_prompt: str = ""
    seed: int | None = None
    sampler: str = "euler"
    device: str = "auto"
    dtype: str = "auto"
    offload: str = "none"
    vae_tiling: bool = False
    vae_slicing: bool = False
    revision: str | None = None

    def __post_init__(self) -> None:
        check_choice("preset", self.preset, tuple(PRESET_DEFAULTS))
        check_choice("sampler", self.sampler, SAMPLERS)
        self.check_device_options()


def load_pipeline(model: str, dtype: torch.dtype, revision: str | None = None) -> Any:
    """Load a Wan FLF2V pipeline from a hub id or a local ``save_pretrained`` directory.

    The VAE and the CLIP image encoder load in float32 (as diffusers recommends for Wan),
    the transformer and text encoder in ``dtype``. Raises :class:`WeightsUnavailableError`
    when the weights are neither on disk nor downloadable.
    """
    from diffusers import AutoencoderKLWan, WanImageToVideoPipeline
    from transformers import CLIPVisionModel

    how = (
        f"Download it once with `huggingface-cli download {DEFAULT_MODEL_ID}` (or the id you "
        "passed) into the Hugging Face cache (HF_HOME), or pass a local directory saved with "
        "save_pretrained: --model 'wan:model=/path/to/Wan2.1-FLF2V-14B-720P-diffusers'."
    )
    source = pretrained_source(model, "Wan pipeline", how)
    cache = hub_kwargs(revision)
    with weights_or_explain("Wan pipeline", model, how):
        image_encoder = CLIPVisionModel.from_pretrained(
            source, subfolder="image_encoder", dtype=torch.float32, **cache
        )
        vae = AutoencoderKLWan.from_pretrained(
            source, subfolder="vae", dtype=torch.float32, **cache
        )
        return WanImageToVideoPipeline.from_pretrained(
            source, vae=vae, image_encoder=image_encoder, dtype=dtype, **cache
        )


def set_sampler(pipe: Any, sampler: str, flow_shift: float) -> None:
    """Install the flow-matching sampler: ``euler`` (as the official DiffSynth-based code) or ``unipc``."""
    from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler

    if sampler == "euler":
        pipe.scheduler = FlowMatchEulerDiscreteScheduler(shift=flow_shift)
    elif sampler == "unipc":
        pipe.scheduler = UniPCMultistepScheduler(
            prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=flow_shift
        )
    else:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}; got {sampler!r}")


@register_model("wan")
class Wan(ModelBase):
    """Wan2.1-FLF2V first-last-frame to video (diffusers), the paper's base model and baseline.

    Options: :class:`WanOptions`. Attributes after construction: ``pipe`` (the diffusers
    pipeline), ``height``, ``width``, ``steps`` (preset defaults resolved), ``device``,
    ``dtype``.
    """

    options_class = WanOptions

    def __init__(self, options: WanOptions | None = None) -> None:
        self.options = options = options or WanOptions()
        self.height, self.width, self.steps = preset_size(
            PRESET_DEFAULTS, options.preset, options.height, options.width, options.steps
        )
        self.device = options.torch_device()
        self.dtype = options.torch_dtype(self.device)
        if options.preset == "tiny":
            from tgibench.models.wan_tiny import tiny_pipeline

            self.pipe = tiny_pipeline()
            if self.dtype != torch.float32:  # as load_pipeline: VAE and image encoder stay fp32
                self.pipe.transformer.to(self.dtype)
                self.pipe.text_encoder.to(self.dtype)
        else:
            self.pipe = load_pipeline(options.model, self.dtype, options.revision)
        set_sampler(self.pipe, options.sampler, options.flow_shift)
        place_pipeline(self.pipe, options, self.device)
        self.pipe.set_progress_bar_config(disable=True)

    @classmethod
    def resolved_settings(cls, options: dict[str, Any]) -> dict[str, Any]:
        """The options with the preset's size and steps filled in."""
        return with_preset_size(PRESET_DEFAULTS, options)

    def before_sampling(self) -> None:
        """Called right before each pipeline run (the ``tgi`` model resets its step tracker)."""

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        """Sample the video between the keyframes, resized to ``height`` x ``width``.

        Wan needs N = 4k + 1 frames: other counts are sampled at the next such N and the
        frames nearest in time are kept. Returns (num_frames, 3, height, width) float32 in
        [0, 1] on the CPU.
        """
        num_frames = request.num_frames
        sampled = -(-(num_frames - 1) // 4) * 4 + 1
        seed = self.options.seed if self.options.seed is not None else request.seed
        generator = torch.Generator("cpu").manual_seed(seed)
        self.before_sampling()
        output = self.pipe(
            image=to_pil(request.first),
            last_image=to_pil(request.last),
            prompt=request.prompt,
            negative_prompt=self.options.negative_prompt,
            height=self.height,
            width=self.width,
            num_frames=sampled,
            num_inference_steps=self.steps,
            guidance_scale=self.options.guidance_scale,
            generator=generator,
            output_type="pt",
        )
        video = output.frames[0].float().cpu().clamp(0, 1)
        return nearest_frames(video, num_frames).contiguous()
