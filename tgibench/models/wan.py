"""Wan2.1-FLF2V through diffusers: ``wan`` (stock) and ``tgi`` (with KAB and ReTRo).

Both wrap diffusers' ``WanImageToVideoPipeline`` called with ``last_image`` (first-last-frame
to video). ``model`` is a hub id or a local directory saved with ``save_pretrained``; the
weights load with ``from_pretrained`` (safetensors), honouring ``HF_HOME``/``HF_HUB_CACHE``
and ``HF_HUB_OFFLINE``. ``preset=tiny`` builds the same pipeline classes from tiny random
configs on the CPU in about a second, for tests and smoke runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from tgibench.methods import TGIConfig, install_tgi
from tgibench.models.base import ModelBase, register_model
from tgibench.video import check_image
from tgibench.weights import WeightsUnavailableError

#: The paper's checkpoint: Wan2.1-FLF2V-14B-720P in diffusers format.
DEFAULT_MODEL_ID = "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers"

#: Sampling defaults per preset: (height, width, steps). The paper samples at 480x864, 50 steps.
PRESET_DEFAULTS: dict[str, tuple[int, int, int]] = {"full": (480, 864, 50), "tiny": (32, 48, 5)}

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def hub_cache_dir() -> str | None:
    """The Hugging Face hub cache named by the environment now: ``HF_HUB_CACHE`` or ``HF_HOME/hub``.

    Read at call time (the hub libraries read it once at import), so a changed ``HF_HOME``
    takes effect; None leaves the libraries' default.
    """
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def _char_tokenizer() -> Any:
    """A character-level fast tokenizer (printable ASCII), built offline for the tiny preset."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<unk>": 1, "</s>": 2}
    vocab.update({chr(c): 3 + i for i, c in enumerate(range(32, 127))})
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", eos_token="</s>"
    )


def _frozen(module: Any) -> Any:
    """``module`` in inference mode with gradients off (the pipeline only samples)."""
    return module.eval().requires_grad_(False)


def tiny_pipeline(num_layers: int = 14, seed: int = 0) -> Any:
    """A ``WanImageToVideoPipeline`` (FLF2V layout) with tiny random weights, built offline.

    UMT5 text encoder (d_model 32, 2 layers) with a character tokenizer, CLIP vision encoder
    (32x32 input, 8x8 patches: 17 tokens per keyframe), ``AutoencoderKLWan`` (z_dim 16, 4x
    temporal and 8x spatial compression) and ``WanTransformer3DModel`` (``num_layers`` blocks,
    2 heads of dim 16, image position embedding for two keyframes). 14 blocks keep the
    paper's KAB blocks 5-12 inside the model. Weights are a function of ``seed`` only.
    """
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModel,
        UMT5Config,
        UMT5EncoderModel,
    )

    clip_tokens = (32 // 8) ** 2 + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        text_encoder = UMT5EncoderModel(
            UMT5Config(
                vocab_size=128,
                d_model=32,
                d_kv=8,
                d_ff=64,
                num_layers=2,
                num_heads=4,
                relative_attention_num_buckets=8,
            )
        )
        image_encoder = CLIPVisionModel(
            CLIPVisionConfig(
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=32,
                patch_size=8,
                projection_dim=16,
            )
        )
        vae = AutoencoderKLWan(
            base_dim=3,
            z_dim=16,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            temperal_downsample=[False, True, True],
        )
        transformer = WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=16,
            in_channels=36,
            out_channels=16,
            text_dim=32,
            freq_dim=32,
            ffn_dim=64,
            num_layers=num_layers,
            image_dim=16,
            added_kv_proj_dim=32,
            rope_max_seq_len=64,
            pos_embed_seq_len=2 * clip_tokens,
        )
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    return WanImageToVideoPipeline(
        tokenizer=_char_tokenizer(),
        text_encoder=_frozen(text_encoder),
        vae=_frozen(vae),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=16.0),
        image_processor=image_processor,
        image_encoder=_frozen(image_encoder),
        transformer=_frozen(transformer),
    )


def load_pipeline(model: str, dtype: torch.dtype, revision: str | None = None) -> Any:
    """Load a Wan FLF2V pipeline from a hub id or a local ``save_pretrained`` directory.

    The VAE and the CLIP image encoder load in float32 (as diffusers recommends for Wan),
    the transformer and text encoder in ``dtype``. Raises :class:`WeightsUnavailableError`
    when the weights are neither on disk nor downloadable.
    """
    from diffusers import AutoencoderKLWan, WanImageToVideoPipeline
    from transformers import CLIPVisionModel

    path = Path(model).expanduser()
    looks_local = model.startswith((".", "/", "~")) or path.exists()
    source = str(path) if looks_local else model
    how = (
        f"Download it once with `huggingface-cli download {DEFAULT_MODEL_ID}` (or the id you "
        "passed) into the Hugging Face cache (HF_HOME), or pass a local directory saved with "
        "save_pretrained: --model 'wan:model=/path/to/Wan2.1-FLF2V-14B-720P-diffusers'."
    )
    if looks_local and not path.is_dir():
        raise WeightsUnavailableError(f"Wan pipeline at {path} (no such directory)", how)
    cache: dict[str, Any] = {"cache_dir": hub_cache_dir(), "revision": revision}
    try:
        image_encoder = CLIPVisionModel.from_pretrained(
            source, subfolder="image_encoder", dtype=torch.float32, **cache
        )
        vae = AutoencoderKLWan.from_pretrained(
            source, subfolder="vae", dtype=torch.float32, **cache
        )
        return WanImageToVideoPipeline.from_pretrained(
            source, vae=vae, image_encoder=image_encoder, dtype=dtype, **cache
        )
    except OSError as exc:
        raise WeightsUnavailableError(
            f"Wan pipeline {model!r} ({exc.__class__.__name__})", how
        ) from exc


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
        raise ValueError(f"sampler must be 'euler' or 'unipc', got {sampler!r}")


def _to_pil(image: torch.Tensor) -> Image.Image:
    """(3, H, W) float in [0, 1] → 8-bit RGB PIL image (the pipeline's image input)."""
    array = (image.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(array)


@register_model("wan")
class Wan(ModelBase):
    """Wan2.1-FLF2V first-last-frame to video (diffusers), the paper's base model and baseline.

    Args:
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
        dtype: "auto" (bfloat16 on cuda, float32 on cpu), "bfloat16", "float16", "float32".
        offload: "none", "model" (enable_model_cpu_offload) or "sequential" (lowest memory).
        revision: hub revision (branch, tag or commit) of ``model``.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL_ID,
        preset: str = "full",
        height: int | None = None,
        width: int | None = None,
        steps: int | None = None,
        flow_shift: float = 16.0,
        guidance_scale: float = 5.0,
        negative_prompt: str = "",
        seed: int | None = None,
        sampler: str = "euler",
        device: str = "auto",
        dtype: str = "auto",
        offload: str = "none",
        revision: str | None = None,
    ) -> None:
        if preset not in PRESET_DEFAULTS:
            raise ValueError(f"preset must be one of {sorted(PRESET_DEFAULTS)}, got {preset!r}")
        if offload not in ("none", "model", "sequential"):
            raise ValueError(f"offload must be none, model or sequential, got {offload!r}")
        default_h, default_w, default_steps = PRESET_DEFAULTS[preset]
        self.height = height or default_h
        self.width = width or default_w
        self.steps = steps or default_steps
        self.guidance_scale = guidance_scale
        self.negative_prompt = negative_prompt
        self.seed = seed
        self.device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        )
        if dtype == "auto":
            self.dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        elif dtype in _DTYPES:
            self.dtype = _DTYPES[dtype]
        else:
            raise ValueError(f"dtype must be auto or one of {sorted(_DTYPES)}, got {dtype!r}")
        if preset == "tiny":
            self.pipe = tiny_pipeline()
            if self.dtype != torch.float32:  # as load_pipeline: VAE and image encoder stay fp32
                self.pipe.transformer.to(self.dtype)
                self.pipe.text_encoder.to(self.dtype)
        else:
            self.pipe = load_pipeline(model, self.dtype, revision)
        set_sampler(self.pipe, sampler, flow_shift)
        if offload == "model":
            self.pipe.enable_model_cpu_offload(device=self.device)
        elif offload == "sequential":
            self.pipe.enable_sequential_cpu_offload(device=self.device)
        else:
            self.pipe.to(self.device)
        self.pipe.set_progress_bar_config(disable=True)

    def before_sampling(self) -> None:
        """Called right before each pipeline run (the ``tgi`` model resets its step tracker)."""

    def generate(
        self,
        first: torch.Tensor,
        last: torch.Tensor,
        prompt: str,
        num_frames: int,
        *,
        seed: int = 0,
    ) -> torch.Tensor:
        """Sample the video between ``first`` and ``last`` (each (3, H, W) float in [0, 1]).

        The keyframes are resized to ``height`` x ``width``. Wan needs N = 4k + 1 frames: other
        counts are sampled at the next such N and the frames nearest in time are kept.
        Returns (num_frames, 3, height, width) float32 in [0, 1] on the CPU.
        """
        check_image(first, name="first keyframe")
        check_image(last, name="last keyframe")
        if num_frames < 2:
            raise ValueError(f"num_frames must be at least 2, got {num_frames}")
        sampled = -(-(num_frames - 1) // 4) * 4 + 1
        generator = torch.Generator("cpu").manual_seed(self.seed if self.seed is not None else seed)
        self.before_sampling()
        output = self.pipe(
            image=_to_pil(first),
            last_image=_to_pil(last),
            prompt=prompt,
            negative_prompt=self.negative_prompt,
            height=self.height,
            width=self.width,
            num_frames=sampled,
            num_inference_steps=self.steps,
            guidance_scale=self.guidance_scale,
            generator=generator,
            output_type="pt",
        )
        video = output.frames[0].float().cpu().clamp(0, 1)
        if sampled != num_frames:
            keep = torch.linspace(0, sampled - 1, num_frames).round().long()
            video = video[keep]
        return video.contiguous()


def parse_edge_widths(text: str) -> dict[int, int]:
    """Parse ``"25:2,33:3"`` (clip length: ReTRo edge width in pixel frames) into a dict."""
    widths = {}
    for item in text.replace(";", ",").split(","):
        if item.strip():
            length, _, width = item.partition(":")
            widths[int(length)] = int(width)
    return widths


@register_model("tgi")
class Tgi(Wan):
    """Wan2.1-FLF2V with the paper's KAB and ReTRo (training-free attention changes).

    Takes every ``wan`` option, plus (defaults from the official code):

    Args:
        kab: keyframe-anchored attention bias in cross-attention.
        retro: rescaled temporal RoPE in self-attention.
        isolate: separate softmaxes for text, first and last keyframe tokens.
        beta_end: KAB strength next to the keyframes (0.7).
        beta_mid: KAB strength at the middle frame (0.3).
        eps: floor of attention before the log in KAB (5e-4).
        kab_first_block: first block with KAB, 0-indexed (5).
        kab_last_block: last block with KAB, inclusive (12).
        kab_step_fraction: KAB at steps i with 0 < i/steps <= this (0.4).
        kab_cond_only: KAB only in the conditional CFG branch (on).
        s_edge: ReTRo scale at the clip ends (1.06).
        s_mid: ReTRo scale in the middle (0.94).
        edge_widths: ReTRo edge width per length, "N:w,..." in pixel frames; other lengths N // 10.
        smooth: ReTRo box-filter width, odd (5).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL_ID,
        preset: str = "full",
        height: int | None = None,
        width: int | None = None,
        steps: int | None = None,
        flow_shift: float = 16.0,
        guidance_scale: float = 5.0,
        negative_prompt: str = "",
        seed: int | None = None,
        sampler: str = "euler",
        device: str = "auto",
        dtype: str = "auto",
        offload: str = "none",
        revision: str | None = None,
        kab: bool = True,
        retro: bool = True,
        isolate: bool = True,
        beta_end: float = 0.7,
        beta_mid: float = 0.3,
        eps: float = 5e-4,
        kab_first_block: int = 5,
        kab_last_block: int = 12,
        kab_step_fraction: float = 0.4,
        kab_cond_only: bool = True,
        s_edge: float = 1.06,
        s_mid: float = 0.94,
        edge_widths: str = "25:2,33:3,65:6,81:8",
        smooth: int = 5,
    ) -> None:
        super().__init__(
            model=model,
            preset=preset,
            height=height,
            width=width,
            steps=steps,
            flow_shift=flow_shift,
            guidance_scale=guidance_scale,
            negative_prompt=negative_prompt,
            seed=seed,
            sampler=sampler,
            device=device,
            dtype=dtype,
            offload=offload,
            revision=revision,
        )
        self.config = TGIConfig(
            kab=kab,
            retro=retro,
            isolate=isolate,
            beta_end=beta_end,
            beta_mid=beta_mid,
            eps=eps,
            kab_first_block=kab_first_block,
            kab_last_block=kab_last_block,
            kab_step_fraction=kab_step_fraction,
            kab_cond_only=kab_cond_only,
            s_edge=s_edge,
            s_mid=s_mid,
            edge_widths=parse_edge_widths(edge_widths),
            smooth=smooth,
            temporal_compression=self.pipe.vae_scale_factor_temporal,
        )
        self.handle = install_tgi(self.pipe.transformer, self.config)

    def before_sampling(self) -> None:
        self.handle.state.reset(self.steps)
