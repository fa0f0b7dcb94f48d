"""Stable Video Diffusion through diffusers' components: ``svd``, the base of TRF, GI and
ViBiDSampler.

The model holds diffusers' ``StableVideoDiffusionPipeline`` (``UNetSpatioTemporalConditionModel``,
``AutoencoderKLTemporalDecoder``, ``CLIPVisionModelWithProjection``, SVD-XT's Euler
scheduler) and uses its own encoders and decoder; sampling runs through the one loop of
:mod:`tgibench.methods.svd_sampler`, into which each method plugs its step
(:meth:`Svd.plan`). ``svd`` itself is SVD-XT image-to-video from the first keyframe (the
last keyframe unused): with the same seed it equals diffusers' pipeline bit for bit.

Weights: ``model`` is a hub id (``stabilityai/stable-video-diffusion-img2vid-xt``, from the
Hugging Face cache offline) or a local ``save_pretrained`` directory; ``preset=tiny``
builds the same classes with tiny random weights (:mod:`tgibench.models.svd_tiny`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from tgibench.methods.bidirectional import frame_guidance
from tgibench.methods.svd_sampler import (
    FusedStep,
    KeyframeCondition,
    NoiseSource,
    SamplingInputs,
    SamplingPlan,
    SvdDenoiser,
    sample,
)
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

#: SVD-XT, the image-to-video model TRF, GI and ViBiDSampler build on.
DEFAULT_MODEL_ID = "stabilityai/stable-video-diffusion-img2vid-xt"
#: The presets: "full" loads the weights, "tiny" builds random ones (Svd.presets: sizes).
PRESETS = ("full", "tiny")
#: Denoising steps of the tiny preset (every model).
TINY_STEPS = 3
#: How a clip of N frames is made: sampled at N frames, or at the UNet's trained length and
#: then the frames nearest in time kept.
LENGTHS = ("direct", "native")


@dataclass(frozen=True)
class SvdOptions(DeviceOptions):
    """Options of ``svd`` (and of ``trf``, ``gi``, ``vibid``, which add their method's).

    Attributes:
        model: hub id or local directory of a diffusers SVD image-to-video pipeline.
        preset: "full" loads ``model``; "tiny" builds a tiny random pipeline (no weights).
        variant: weights variant to load, e.g. "fp16" (the checkpoint's half-size files);
            None loads the full-precision files.
        height: output height in pixels (multiple of 8); None = preset default (576 | 32).
        width: output width in pixels (multiple of 8); None = preset default (1024 | 48).
        steps: denoising steps; None = the method's default (svd 25, trf 50, gi 50,
            vibid 25; tiny preset 3).
        length: "direct" samples the N frames asked for in one window; "native" samples
            the UNet's trained length (25 for SVD-XT) and keeps the frames nearest in time
            (repeating frames when N > 25).
        fps: frame rate the UNet is conditioned on (SVD takes fps - 1).
        motion_bucket_id: SVD's motion conditioning (higher: more motion).
        noise_aug_strength: noise added to the keyframes before VAE encoding.
        min_guidance_scale: guidance at the conditioning keyframe's end of a pass.
        max_guidance_scale: guidance at the other end (a linear ramp over the frames);
            with both <= 1 there is no unconditional branch.
        decode_chunk_size: frames the VAE decodes at a time (None: all at once); smaller
            uses less memory and changes the output slightly (temporal decoder).
        seed: fixed sampling seed; None uses the runner's seed (0 by default).
        device: "auto" (cuda if available), "cpu", "cuda", "cuda:1", ...
        dtype: precision of the UNet: "auto" (float16 on cuda as SVD's released variant,
            float32 on cpu), "bfloat16", "float16" or "float32". The VAE and the CLIP
            image encoder stay float32; latents are kept in float32.
        offload: "none", "model" (``enable_model_cpu_offload``) or "sequential"
            (``enable_sequential_cpu_offload``). SVD's VAE cannot tile; lower
            ``decode_chunk_size`` instead.
        revision: hub revision (branch, tag or commit) of ``model``.
    """

    model: str = DEFAULT_MODEL_ID
    preset: str = "full"
    variant: str | None = None
    height: int | None = None
    width: int | None = None
    steps: int | None = None
    length: str = "direct"
    fps: int = 7
    motion_bucket_id: int = 127
    noise_aug_strength: float = 0.02
    min_guidance_scale: float = 1.0
    max_guidance_scale: float = 3.0
    decode_chunk_size: int | None = None
    seed: int | None = None
    device: str = "auto"
    dtype: str = "auto"
    offload: str = "none"
    revision: str | None = None

    AUTO_CUDA_DTYPE: ClassVar[torch.dtype] = torch.float16

    def __post_init__(self) -> None:
        check_choice("preset", self.preset, PRESETS)
        check_choice("length", self.length, LENGTHS)
        self.check_device_options()


def load_svd_pipeline(
    model: str, dtype: torch.dtype, variant: str | None = None, revision: str | None = None
) -> Any:
    """Load an SVD image-to-video pipeline from a hub id or a local ``save_pretrained``
    directory: the UNet in ``dtype``, the VAE and CLIP image encoder in float32.

    Raises :class:`~tgibench.weights.WeightsUnavailableError` when the weights are neither
    on disk nor downloadable.
    """
    from diffusers import StableVideoDiffusionPipeline, UNetSpatioTemporalConditionModel

    how = (
        f"Accept the model's licence on huggingface.co/{DEFAULT_MODEL_ID}, then download it "
        f"once with `huggingface-cli download {DEFAULT_MODEL_ID}` (or the id you passed) into "
        "the Hugging Face cache (HF_HOME); with `--include '*.fp16.safetensors' '*.json'` "
        "for the half-size files, used with variant=fp16. Or pass a local directory saved "
        "with save_pretrained: --model 'svd:model=/path/to/stable-video-diffusion-img2vid-xt' "
        "(the same option for trf, gi and vibid)."
    )
    source = pretrained_source(model, "SVD pipeline", how)
    cache = {**hub_kwargs(revision), "variant": variant}
    with weights_or_explain("SVD pipeline", model, how):
        unet = UNetSpatioTemporalConditionModel.from_pretrained(
            source, subfolder="unet", dtype=dtype, **cache
        )
        return StableVideoDiffusionPipeline.from_pretrained(
            source, unet=unet, dtype=torch.float32, **cache
        )


@register_model("svd")
class Svd(ModelBase):
    """Stable Video Diffusion (SVD-XT, diffusers) from the first keyframe: TRF's, GI's and ViBiDSampler's base.

    Options: :class:`SvdOptions`. Attributes after construction: ``pipe`` (the diffusers
    pipeline), ``height``, ``width``, ``steps`` (defaults resolved), ``device``, ``dtype``.
    Subclasses are the methods: they condition on the last keyframe too and give
    :meth:`plan` their step.
    """

    options_class: ClassVar[type] = SvdOptions
    #: Denoising steps of the full preset when ``steps`` is not given.
    DEFAULT_STEPS: ClassVar[int] = 25
    #: Whether the method conditions a pass on the last keyframe.
    USES_LAST_KEYFRAME: ClassVar[bool] = False

    def __init__(self, options: SvdOptions | None = None, pipe: Any = None) -> None:
        self.options = options = options or self.options_class()
        self.height, self.width, self.steps = preset_size(
            self.presets(), options.preset, options.height, options.width, options.steps
        )
        self.device = options.torch_device()
        self.dtype = options.torch_dtype(self.device)
        if pipe is None and options.preset == "tiny":
            from tgibench.models.svd_tiny import tiny_pipeline

            pipe = tiny_pipeline()
        elif pipe is None:
            pipe = load_svd_pipeline(options.model, self.dtype, options.variant, options.revision)
        if pipe.unet.dtype != self.dtype:  # a given or tiny pipeline: as load_svd_pipeline's
            pipe.unet.to(self.dtype)
        self.pipe = pipe
        self.prepare_unet(pipe.unet)
        place_pipeline(pipe, options, self.device)
        pipe.set_progress_bar_config(disable=True)

    @classmethod
    def presets(cls) -> Presets:
        """(height, width, steps) per preset: SVD-XT's size with the method's steps, or tiny."""
        return {"full": (576, 1024, cls.DEFAULT_STEPS), "tiny": (32, 48, TINY_STEPS)}

    @classmethod
    def resolved_settings(cls, options: dict[str, Any]) -> dict[str, Any]:
        """The options with the preset's size and the method's steps filled in."""
        return with_preset_size(cls.presets(), options)

    def prepare_unet(self, unet: Any) -> None:
        """Change the UNet before it is placed on the device (GI installs its attention)."""

    def guided(self) -> bool:
        """Whether the UNet runs the unconditional branch too (guidance above 1)."""
        return self.options.max_guidance_scale > 1

    def plan(self, inputs: SamplingInputs) -> SamplingPlan:
        """The method's sampling. SVD: its Euler step conditioned on the first keyframe,
        steps 0 .. S-1 in order."""
        guidance = self.frame_guidance(inputs.num_frames, inputs.first.latents.device)
        return SamplingPlan(FusedStep(inputs.denoiser, inputs.first, guidance), self.step_order())

    def step_order(self) -> list[int]:
        """The steps in order, 0 .. S-1, each once."""
        return list(range(self.steps))

    def frame_guidance(self, num_frames: int, device: torch.device) -> torch.Tensor:
        """SVD's per-frame guidance ramp (1, F, 1, 1, 1) from the guidance options."""
        o = self.options
        return frame_guidance(o.min_guidance_scale, o.max_guidance_scale, num_frames).to(device)

    def needs_clean_latents(self) -> bool:
        """Whether the method needs the keyframes' clean latents (ViBiDSampler's DDS)."""
        return False

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        """Sample the clip at ``height`` x ``width`` and return (num_frames, 3, H, W) float32
        in [0, 1] on the CPU (``length`` says how the frame count is reached)."""
        o = self.options
        sampled = request.num_frames if o.length == "direct" else self.pipe.unet.config.num_frames
        seed = o.seed if o.seed is not None else request.seed
        noise = NoiseSource(torch.Generator("cpu").manual_seed(seed))
        with torch.no_grad():
            latents = self.sample_latents(request, sampled, noise)
            frames = self.pipe.decode_latents(
                latents.to(self.pipe.vae.dtype), sampled, o.decode_chunk_size or sampled
            )
            video = self.pipe.video_processor.postprocess_video(video=frames, output_type="pt")
        self.pipe.maybe_free_model_hooks()
        video = video[0].float().cpu().clamp(0, 1)
        return nearest_frames(video, request.num_frames).contiguous()

    def sample_latents(
        self, request: GenerationRequest, num_frames: int, noise: NoiseSource
    ) -> torch.Tensor:
        """Encode the keyframes, then denoise (1, F, C, h, w) latents with the method's plan.

        The random draws come in the order of diffusers' pipeline: the keyframe noise
        augmentation (one draw, shared by both keyframes), the initial latents, then what
        the method re-noises with.
        """
        pipe, o, guided = self.pipe, self.options, self.guided()
        device = pipe._execution_device
        first_image = to_pil(request.first)
        first_embedding = pipe._encode_image(first_image, device, 1, guided)
        first_pixels = self._pixels(first_image, device)
        augmentation = noise(first_pixels)
        first = self.keyframe_condition(
            first_embedding, first_pixels, augmentation, num_frames, guided
        )
        last = None
        if self.USES_LAST_KEYFRAME:
            last_image = to_pil(request.last)
            last = self.keyframe_condition(
                pipe._encode_image(last_image, device, 1, guided),
                self._pixels(last_image, device),
                augmentation,
                num_frames,
                guided,
            )
        added_time_ids = pipe._get_add_time_ids(
            o.fps - 1,
            o.motion_bucket_id,
            o.noise_aug_strength,
            first.embeddings.dtype,
            1,
            1,
            guided,
        ).to(device)
        pipe.scheduler.set_timesteps(self.steps, device=device)
        latents = pipe.prepare_latents(
            1,
            num_frames,
            pipe.unet.config.in_channels,
            self.height,
            self.width,
            first.embeddings.dtype,
            device,
            noise.generator,
            None,
        )
        denoiser = SvdDenoiser(
            pipe.unet, pipe.scheduler.sigmas, pipe.scheduler.timesteps, added_time_ids, guided
        )
        plan = self.plan(SamplingInputs(denoiser, first, last, num_frames, noise))
        return sample(plan, latents, denoiser.sigmas, noise)

    def _pixels(self, image: Any, device: torch.device) -> torch.Tensor:
        """A keyframe resized to the output size, (1, 3, H, W) in [-1, 1]."""
        return self.pipe.video_processor.preprocess(image, height=self.height, width=self.width).to(
            device
        )

    def keyframe_condition(
        self,
        embedding: torch.Tensor,
        pixels: torch.Tensor,
        augmentation: torch.Tensor,
        num_frames: int,
        guided: bool,
    ) -> KeyframeCondition:
        """A keyframe's :class:`KeyframeCondition`: its CLIP ``embedding`` and the VAE latent
        of ``pixels + noise_aug_strength·augmentation``, repeated over the frames."""
        pipe = self.pipe
        augmented = pixels + self.options.noise_aug_strength * augmentation
        latent = pipe._encode_vae_image(augmented, pixels.device, 1, guided).to(embedding.dtype)
        clean = None
        if self.needs_clean_latents():
            posterior = pipe.vae.encode(pixels.to(pipe.vae.dtype)).latent_dist
            clean = posterior.mode() * pipe.vae.config.scaling_factor
        return KeyframeCondition(
            embedding, latent.unsqueeze(1).repeat(1, num_frames, 1, 1, 1), clean
        )
