"""GPU check: KAB + ReTRo overhead at the paper's real shape, scoring throughput at
81x480x832, seconds per case of the comparison models, and the peak device memory of
each; prints one JSON object.

    python benchmarks/gpu_check.py              # on one CUDA GPU (H100-class: ~15 min)
    python benchmarks/gpu_check.py --tiny       # anywhere, CPU included: tiny shapes, float32

(a) ``kab_retro``: diffusers' ``WanTransformer3DModel`` with the Wan2.1-FLF2V-14B config
    (40 blocks, dim 5120 = 40 heads x 128, ffn 13824, text_dim 4096, image_dim 1280,
    2 x 257 image tokens), random weights built on the device in bfloat16 (the
    ``_keep_in_fp32_modules`` in float32, as ``from_pretrained`` leaves them; nothing is
    downloaded), at the paper's shape: 81 frames at 480x832 = 21 latent frames of 30x52
    patches (32760 video tokens) and 512 text tokens. One forward is timed with the stock
    processors and with KAB + ReTRo + isolation installed (``install_tgi``), KAB both
    active (a step inside its window, conditional branch) and inactive (outside it), the
    three alternating for ``repeats`` rounds after a warm-up. The ratio of a whole sampling
    run follows from the schedule: with 50 steps and CFG, 20 of the 100 forwards have KAB
    active.
(b) ``scoring``: ``tgibench.eval.scoring.score_video`` with every registered metric on an
    81x480x832 video and its ground truth (a real photograph panned, read back from
    lossless mp4 as uint8, as the runner does), ``Backbones(device)``; a backbone whose
    weights are missing is built with random weights at its real size (the cost is the
    same). The optical flow of the motion metrics runs on the CPU (OpenCV).
(c) ``models``: the comparison set (``svd``, ``trf``, ``gi``, ``vibid``, ``ltx``), each
    generating one case at its native size with its default settings (SVD-XT's 576x1024,
    LTX-Video's 480x864; 25 frames, ``--lengths 25,81`` for more): seconds per case and
    peak memory. A model whose weights are in the cache loads them; otherwise its pipeline
    is built with random weights at the real configs (SVD-XT: the diffusers UNet, VAE and
    CLIP ViT-H/14 image encoder; LTX-Video 0.9.5: its transformer and T5-XXL, diffusers'
    default LTX VAE) and ``gi`` runs with ``reverse_weights=off`` (the authors' checkpoint
    is not on the hub; the same computation). A length that does not fit is reported as
    "out of memory".
(d) ``memory``: ``torch.cuda.max_memory_allocated`` of each part and each variant, reset
    in between (on a CPU: the process's peak RSS, cumulative, so not per part).

``--tiny`` runs the same code with tiny shapes (8 blocks of 2 x 16, 7 latent frames of
4x6 patches, a 9x64x96 video, small CLIP and X-CLIP, the models' ``preset=tiny``) in
float32 on the CPU, in under a minute: the test suite runs it, so the script is known to
work before a GPU runs it.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The check downloads nothing: weights already in the caches are used, the rest is random
# (set HF_HUB_OFFLINE=0 to let backbones download theirs).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.scoring import _inputs as scoring_inputs
from benchmarks.scoring import _pan, make_videos
from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.methods import TGIConfig, install_tgi
from tgibench.metrics import select_metrics
from tgibench.models import MODELS, build_model
from tgibench.weights import WeightsUnavailableError

#: diffusers' WanTransformer3DModel config of Wan2.1-FLF2V-14B-720P (diffusers'
#: scripts/convert_wan_to_diffusers.py, "Wan-FLF2V-14B-720P").
WAN_14B_FLF2V: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 40,
    "attention_head_dim": 128,
    "in_channels": 36,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 13824,
    "num_layers": 40,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "image_dim": 1280,
    "added_kv_proj_dim": 5120,
    "rope_max_seq_len": 1024,
    "pos_embed_seq_len": 2 * 257,
}
#: The same architecture, tiny: 8 blocks (KAB's blocks 5-7 inside), 2 heads of 16.
WAN_TINY: dict[str, Any] = {
    **WAN_14B_FLF2V,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "text_dim": 32,
    "freq_dim": 32,
    "ffn_dim": 64,
    "num_layers": 8,
    "image_dim": 16,
    "added_kv_proj_dim": 32,
    "rope_max_seq_len": 64,
    "pos_embed_seq_len": 2 * 17,
}


#: diffusers' UNetSpatioTemporalConditionModel defaults are SVD-XT's UNet; 25 trained frames.
SVD_XT_UNET: dict[str, Any] = {"num_frames": 25}
#: SVD's AutoencoderKLTemporalDecoder (``vae/config.json`` of the checkpoint).
SVD_VAE: dict[str, Any] = {
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "layers_per_block": 2,
    "latent_channels": 4,
    "scaling_factor": 0.18215,
}
#: OpenCLIP ViT-H/14, SVD's image encoder, as transformers' CLIPVisionModelWithProjection.
CLIP_VIT_H: dict[str, Any] = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 16,
    "image_size": 224,
    "patch_size": 14,
    "projection_dim": 1024,
    "hidden_act": "gelu",
}
#: T5 v1.1 XXL encoder, LTX-Video's text encoder.
T5_XXL: dict[str, Any] = {
    "vocab_size": 32128,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "feed_forward_proj": "gated-gelu",
}
#: The comparison set measured by (c): model → its options when its weights are random.
COMPARISON_MODELS: dict[str, dict[str, Any]] = {
    "svd": {},
    "trf": {},
    "gi": {"reverse_weights": False},
    "vibid": {},
    "ltx": {},
}


@dataclass(frozen=True)
class Mode:
    """Shapes and sizes of one run of the check."""

    name: str
    transformer: dict[str, Any]
    latent: tuple[int, int, int]  # latent frames, height, width (before 2x2 patchify)
    video: tuple[int, int, int]  # frames, height, width of the scored video
    dtype: torch.dtype
    repeats: int  # timed rounds of the transformer forwards (after one warm-up round)
    score_repeats: int  # timed scorings (after a first one that fills the caches)
    steps: int = 50  # sampling steps of the run whose ratio is derived (the paper's)
    preset: str = "full"  # of the comparison models in (c)
    clip: dict[str, Any] = field(default_factory=dict)  # load_clip arguments if random
    xclip: dict[str, Any] = field(default_factory=dict)  # XCLIPConfig arguments if random


FULL = Mode(
    "full", WAN_14B_FLF2V, (21, 60, 104), (81, 480, 832), torch.bfloat16, repeats=5, score_repeats=3
)
TINY = Mode(
    "tiny",
    WAN_TINY,
    (7, 8, 12),
    (9, 64, 96),
    torch.float32,
    repeats=2,
    score_repeats=1,
    preset="tiny",
    clip={"model": "ViT-S-32"},
    xclip={
        "text_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2},
        "vision_config": {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "mit_hidden_size": 32,
            "mit_intermediate_size": 64,
        },
        "projection_dim": 32,
        "prompt_layers": 1,
    },
)


class Memory:
    """Peak memory: ``torch.cuda.max_memory_allocated`` since the last :meth:`reset` on CUDA;
    on a CPU the process's peak RSS (``ru_maxrss``), which only grows (not per part)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.device = device
        self.measure = (
            "torch.cuda.max_memory_allocated" if self.cuda else "process peak RSS (cumulative)"
        )

    def reset(self) -> None:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak(self) -> int:
        if self.cuda:
            return int(torch.cuda.max_memory_allocated(self.device))
        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)


def _bytes(module: torch.nn.Module) -> int:
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def build_transformer(config: dict[str, Any], device: torch.device, dtype: torch.dtype) -> Any:
    """A random-init ``WanTransformer3DModel`` made directly on ``device`` in ``dtype`` (no
    float32 copy of 14B weights), its ``_keep_in_fp32_modules`` in float32."""
    from diffusers import WanTransformer3DModel

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = WanTransformer3DModel(**config)
    finally:
        torch.set_default_dtype(previous)
    keep = model._keep_in_fp32_modules or []
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if any(k in name.split(".") for k in keep):
                tensor.data = tensor.data.float()
    return model.eval().requires_grad_(False)


def _timed(memory: Memory, run: Callable[[], Any]) -> tuple[float, int, Any]:
    """Seconds, peak memory and result of one call (synchronised on CUDA)."""
    memory.sync()
    memory.reset()
    start = time.perf_counter()
    result = run()
    memory.sync()
    return time.perf_counter() - start, memory.peak(), result


def _spread(values: list[float]) -> list[float]:
    return [round(min(values), 4), round(max(values), 4)]


def measure_kab_retro(mode: Mode, device: torch.device, memory: Memory) -> dict[str, Any]:
    """(a) and its memory: one transformer forward, stock vs KAB + ReTRo (module docstring)."""
    config = TGIConfig()
    torch.manual_seed(0)
    memory.reset()
    transformer = build_transformer(mode.transformer, device, mode.dtype)
    cfg = transformer.config
    frames, height, width = mode.latent
    kwargs = {"device": device, "dtype": mode.dtype}
    inputs = {
        "hidden_states": torch.randn(1, cfg.in_channels, frames, height, width, **kwargs),
        "timestep": torch.tensor([500.0], device=device),
        "encoder_hidden_states": torch.randn(1, 512, cfg.text_dim, **kwargs),
        "encoder_hidden_states_image": torch.randn(
            2, cfg.pos_embed_seq_len // 2, cfg.image_dim, **kwargs
        ),
        "return_dict": False,
    }
    kab_processor = f"blocks.{config.kab_first_block}.attn2.processor"
    inactive_step = next(i for i in range(mode.steps) if i / mode.steps > config.kab_step_fraction)
    seconds: dict[str, list[float]] = {"stock": [], "kab_active": [], "kab_inactive": []}
    peaks: dict[str, int] = {}
    kab_checked: dict[str, bool] = {}

    forward = functools.partial(transformer, **inputs)
    with torch.inference_mode():
        for round_ in range(mode.repeats + 1):  # round 0 warms up (allocator, kernels)
            timings = {"stock": _timed(memory, forward)}
            handle = install_tgi(transformer, config)
            for variant, step in (("kab_active", 1), ("kab_inactive", inactive_step)):
                handle.state.reset(mode.steps)
                handle.state.step = step - 1  # the forward's pre-hook advances it: cond branch
                timings[variant] = _timed(memory, forward)
                kab_checked[variant] = transformer.attn_processors[kab_processor].kab_active()
            handle.remove()
            if round_:
                for variant, (secs, peak, _) in timings.items():
                    seconds[variant].append(secs)
                    peaks[variant] = max(peaks.get(variant, 0), peak)
    stock = statistics.median(seconds["stock"])
    ratio = {v: statistics.median(seconds[v]) / stock for v in ("kab_active", "kab_inactive")}
    forwards = 2 * mode.steps  # conditional and unconditional branch per step
    active = sum(1 for i in range(mode.steps) if 0 < i / mode.steps <= config.kab_step_fraction)
    run_ratio = (
        active * ratio["kab_active"] + (forwards - active) * ratio["kab_inactive"]
    ) / forwards
    weights = _bytes(transformer)
    del forward, transformer, inputs
    if memory.cuda:
        torch.cuda.empty_cache()
    return {
        "shape": {
            "latent_frames": frames,
            "patches": [height // 2, width // 2],
            "video_tokens": frames * (height // 2) * (width // 2),
            "text_tokens": 512,
            "image_tokens": cfg.pos_embed_seq_len,
        },
        "transformer": {
            "blocks": cfg.num_layers,
            "dim": cfg.num_attention_heads * cfg.attention_head_dim,
            "heads": cfg.num_attention_heads,
            "ffn_dim": cfg.ffn_dim,
            "dtype": str(mode.dtype).removeprefix("torch."),
            "weights": "random init",
        },
        "repeats": mode.repeats,
        "seconds": {k: [round(s, 4) for s in v] for k, v in seconds.items()},
        "ratio_kab_active": round(ratio["kab_active"], 4),
        "ratio_kab_inactive": round(ratio["kab_inactive"], 4),
        "ratio_spread": {
            v: _spread([t / s for t, s in zip(seconds[v], seconds["stock"], strict=True)])
            for v in ratio
        },
        "sampling_run_ratio": round(run_ratio, 4),
        "sampling_run": {"steps": mode.steps, "forwards": forwards, "kab_active_forwards": active},
        "kab_active_checked": kab_checked,
        "memory": {"weights_bytes": weights, "peak_bytes": peaks},
    }


def _random_backbone(name: str, mode: Mode, folder: Path) -> Any:
    """A backbone with random weights at its real size (mode.clip / mode.xclip shrink CLIP
    and X-CLIP in tiny mode)."""
    if name in ("lpips-alex", "lpips-vgg"):
        import lpips
        from safetensors.torch import save_file

        from tgibench.features.lpips_net import LPIPSNet

        net = name.removeprefix("lpips-")
        module = lpips.LPIPS(net=net, pretrained=False, pnet_rand=True, verbose=False)
        path = folder / f"{name}.safetensors"
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
        return LPIPSNet(net, path)
    if name == "clip":
        from tgibench.features.clip import load_clip

        with warnings.catch_warnings():  # it warns that random weights are for tests
            warnings.simplefilter("ignore")
            return load_clip(mode.clip.get("model"), "random")
    if name == "xclip":
        from transformers import XCLIPConfig, XCLIPModel

        from tgibench.features.clip import FramePreprocess
        from tgibench.features.xclip import XCLIPNet
        from tgibench.models.wan_tiny import char_tokenizer

        tokenizer = char_tokenizer()
        text = {**mode.xclip.get("text_config", {}), "vocab_size": len(tokenizer)}
        config = XCLIPConfig(**{**mode.xclip, "text_config": text})
        side = config.vision_config.image_size
        preprocess = FramePreprocess(
            size=(side, side),
            mean=(0.48145466, 0.4578275, 0.40821073),
            std=(0.26862954, 0.26130258, 0.27577711),
            interpolation="bicubic",
            resize_mode="shortest",
            fit=(side, side),
        )
        return XCLIPNet(XCLIPModel(config), tokenizer, preprocess, "random init")
    if name == "inception":
        from tgibench.features.inception import InceptionFeatures, build_fid_inception

        return InceptionFeatures(build_fid_inception(), "random init")
    if name == "i3d":
        from tgibench.features.i3d import I3DFeatures, InceptionI3d

        return I3DFeatures(InceptionI3d(num_classes=400), "random init")
    raise ValueError(f"no random-init recipe for backbone {name!r}")


def scoring_backbones(
    names: set[str], mode: Mode, device: torch.device, folder: Path
) -> tuple[Backbones, dict[str, str]]:
    """Backbones on ``device``: the real weights where they load, else random-init.
    Returns them and what each one is ("weights" or "random init")."""
    nets = Backbones(str(device))
    kinds = {}
    for name in sorted(names):
        try:
            nets.get(name)
            kinds[name] = "weights"
        except WeightsUnavailableError:
            nets.put(name, _random_backbone(name, mode, folder).to(device))
            kinds[name] = "random init"
    return nets, kinds


def measure_scoring(mode: Mode, device: torch.device, memory: Memory) -> dict[str, Any]:
    """(b) and its memory: every registered metric on one video through ``score_video``."""
    metrics = select_metrics(["all"])
    frames, height, width = mode.video
    previous_cache = os.environ.get("TGIBENCH_CACHE")
    with tempfile.TemporaryDirectory(prefix="tgibench-gpu-check-") as tmp:
        os.environ["TGIBENCH_CACHE"] = str(Path(tmp) / "cache")  # leave the user's alone
        try:
            nets, kinds = scoring_backbones(
                {b for m in metrics for b in m.backbones}, mode, device, Path(tmp)
            )
            # read back as uint8, as the runner holds videos (benchmarks/scoring.py's helper)
            inputs = scoring_inputs(*make_videos(Path(tmp), frames, height, width))
            runs = [
                _timed(memory, lambda: score_video(inputs, metrics, nets))
                for _ in range(mode.score_repeats + 1)
            ]
        finally:
            if previous_cache is None:
                os.environ.pop("TGIBENCH_CACHE", None)
            else:
                os.environ["TGIBENCH_CACHE"] = previous_cache
    steady = [secs for secs, _, _ in runs[1:]]
    median = statistics.median(steady)
    scores = runs[-1][2]
    return {
        "video": [frames, 3, height, width],
        "metrics": [m.name for m in metrics if m.name not in scores.unavailable],
        "unavailable": scores.unavailable,
        "backbones": kinds,
        "seconds_first": round(runs[0][0], 3),  # ground-truth motion computed (first model)
        "seconds": [round(s, 3) for s in steady],
        "seconds_median": round(median, 3),
        "frames_per_second": round(frames / median, 2),
        "memory": {
            "backbones_bytes": sum(_bytes(nets.get(n)) for n in kinds),
            "peak_bytes": max(peak for _, peak, _ in runs),
        },
    }


def _built_on(device: torch.device, dtype: torch.dtype, make: Callable[[], Any]) -> Any:
    """``make()`` with its parameters created directly on ``device`` in ``dtype``."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return make().eval().requires_grad_(False)
    finally:
        torch.set_default_dtype(previous)


def random_pipeline(name: str, device: torch.device, dtype: torch.dtype) -> Any:
    """The pipeline of comparison model ``name`` at its real configs with random weights."""
    from transformers import CLIPImageProcessor

    from tgibench.models.wan_tiny import char_tokenizer

    if name == "ltx":
        from diffusers import (
            AutoencoderKLLTXVideo,
            FlowMatchEulerDiscreteScheduler,
            LTXConditionPipeline,
            LTXVideoTransformer3DModel,
        )
        from transformers import T5Config, T5EncoderModel

        return LTXConditionPipeline(
            scheduler=FlowMatchEulerDiscreteScheduler(),
            vae=_built_on(device, dtype, AutoencoderKLLTXVideo),
            text_encoder=_built_on(device, dtype, lambda: T5EncoderModel(T5Config(**T5_XXL))),
            tokenizer=char_tokenizer(),
            transformer=_built_on(device, dtype, LTXVideoTransformer3DModel),
        )
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from tgibench.models.svd_tiny import svd_scheduler

    fp32 = torch.float32
    return StableVideoDiffusionPipeline(
        vae=_built_on(device, fp32, lambda: AutoencoderKLTemporalDecoder(**SVD_VAE)),
        image_encoder=_built_on(
            device, fp32, lambda: CLIPVisionModelWithProjection(CLIPVisionConfig(**CLIP_VIT_H))
        ),
        unet=_built_on(device, dtype, lambda: UNetSpatioTemporalConditionModel(**SVD_XT_UNET)),
        scheduler=svd_scheduler(),
        feature_extractor=CLIPImageProcessor(
            image_mean=[0.48145466, 0.4578275, 0.40821073],
            image_std=[0.26862954, 0.26130258, 0.27577711],
        ),
    )


def comparison_model(name: str, mode: Mode, device: torch.device) -> tuple[Any, str]:
    """Comparison model ``name`` on ``device`` and what its weights are: the tiny preset, the
    checkpoint from the cache, or random weights at the real configs."""
    if mode.preset == "tiny":
        return build_model(f"{name}:preset=tiny,device={device}"), "random init (tiny preset)"
    try:
        return build_model(f"{name}:device={device}"), "weights"
    except WeightsUnavailableError:
        factory = MODELS.get(name)
        options = factory.options_class(device=str(device), **COMPARISON_MODELS[name])
        model = factory(options, pipe=random_pipeline(name, device, options.torch_dtype(device)))
        extra = ",".join(f"{k}={str(v).lower()}" for k, v in COMPARISON_MODELS[name].items())
        model.spec = f"{name}:{extra}" if extra else name
        return model, "random init (real configs)"


def measure_models(
    mode: Mode, device: torch.device, memory: Memory, names: list[str], lengths: list[int]
) -> dict[str, Any]:
    """(c) and its memory: one case per comparison model and length, timed (module docstring)."""
    report: dict[str, Any] = {}
    for name in names:
        memory.reset()
        model, weights = comparison_model(name, mode, device)
        height, width = model.height, model.width
        first, last = _pan(2, height, width, speed=24.0)
        entry: dict[str, Any] = {
            "spec": model.spec,
            "weights": weights,
            "size": [height, width],
            "steps": model.steps,
            "seconds": {},
            "peak_bytes": {},
        }
        with torch.inference_mode():
            for frames in lengths:
                try:
                    generate = functools.partial(model.generate, first, last, "A glider.", frames)
                    secs, peak, video = _timed(memory, generate)
                except torch.cuda.OutOfMemoryError:
                    entry["seconds"][str(frames)] = "out of memory"
                    continue
                assert video.shape[0] == frames and torch.isfinite(video).all()
                entry["seconds"][str(frames)] = round(secs, 3)
                entry["peak_bytes"][str(frames)] = peak
        report[name] = entry
        del model
        if memory.cuda:
            torch.cuda.empty_cache()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shapes, float32 (any device)")
    parser.add_argument("--device", help="default: cuda if available (full mode needs it)")
    parser.add_argument("--only", choices=("kab_retro", "scoring", "models"), help="run one part")
    parser.add_argument(
        "--models", default=",".join(COMPARISON_MODELS), help="comparison models for (c)"
    )
    parser.add_argument("--lengths", default="25", help="frame counts for (c), e.g. 25,81")
    args = parser.parse_args(argv)
    mode = TINY if args.tiny else FULL
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if mode is FULL and device.type != "cuda":
        parser.error("the full check needs a CUDA device; use --tiny on a CPU")
    memory = Memory(device)
    start = time.perf_counter()
    result: dict[str, Any] = {
        "mode": mode.name,
        "device": torch.cuda.get_device_name(device) if memory.cuda else "cpu",
        "torch": torch.__version__,
        "memory_measure": memory.measure,
    }
    if args.only in (None, "kab_retro"):
        result["kab_retro"] = measure_kab_retro(mode, device, memory)
    if args.only in (None, "scoring"):
        result["scoring"] = measure_scoring(mode, device, memory)
    if args.only in (None, "models"):
        names = [n for n in args.models.split(",") if n]
        unknown = sorted(set(names) - set(COMPARISON_MODELS))
        if unknown:
            parser.error(f"--models: {', '.join(unknown)} not in {', '.join(COMPARISON_MODELS)}")
        lengths = [int(n) for n in args.lengths.split(",") if n]
        result["models"] = measure_models(mode, device, memory, names, lengths)
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
