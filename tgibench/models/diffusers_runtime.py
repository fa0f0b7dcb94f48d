"""What the diffusers-based models share: device and precision, where weights come from,
placement on the device, and the keyframes as the pipelines take them.

``wan``/``tgi`` (Wan2.1-FLF2V), the Stable Video Diffusion family (``svd``, ``trf``, ``gi``,
``vibid``) and ``ltx`` load their weights from a hub id or a local ``save_pretrained``
directory, honouring ``HF_HOME``/``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``; absent weights
raise one :class:`~tgibench.weights.WeightsUnavailableError` that says how to get them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from tgibench.weights import WeightsUnavailableError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
OFFLOADS = ("none", "model", "sequential")


class DeviceOptions:
    """The ``device``, ``dtype`` and ``offload`` options of a model's options dataclass,
    checked and resolved.

    A mixin (no fields): the dataclass declares ``device: str`` ("auto", "cpu", "cuda",
    "cuda:1", ...), ``dtype: str`` ("auto" or a key of :data:`DTYPES`) and ``offload: str``
    (one of :data:`OFFLOADS`).
    """

    device: str
    dtype: str
    offload: str
    #: The precision "auto" picks on CUDA (float32 elsewhere).
    AUTO_CUDA_DTYPE: ClassVar[torch.dtype] = torch.bfloat16

    def check_device_options(self) -> None:
        """Raise ValueError for an unknown ``offload`` or ``dtype`` (call in __post_init__)."""
        check_choice("offload", self.offload, OFFLOADS)
        check_choice("dtype", self.dtype, ("auto", *DTYPES))

    def torch_device(self) -> torch.device:
        """The device named by ``device`` ("auto": cuda if available, else cpu)."""
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def torch_dtype(self, device: torch.device) -> torch.dtype:
        """The denoiser's dtype on ``device`` ("auto": AUTO_CUDA_DTYPE on cuda, else float32)."""
        if self.dtype == "auto":
            return self.AUTO_CUDA_DTYPE if device.type == "cuda" else torch.float32
        return DTYPES[self.dtype]


#: Per preset name: the default (height, width, steps) of a model's sampling.
Presets = dict[str, tuple[int, int, int]]


def preset_size(
    presets: Presets, preset: str, height: int | None, width: int | None, steps: int | None
) -> tuple[int, int, int]:
    """(height, width, steps): the values given, the preset's where None."""
    default_h, default_w, default_steps = presets[preset]
    return height or default_h, width or default_w, steps or default_steps


def with_preset_size(presets: Presets, options: dict[str, Any]) -> dict[str, Any]:
    """Options by name with ``height``, ``width`` and ``steps`` settled by the preset (what a
    model's ``resolved_settings`` returns, so run.json records the size it ran at)."""
    height, width, steps = preset_size(
        presets, options["preset"], options["height"], options["width"], options["steps"]
    )
    return {**options, "height": height, "width": width, "steps": steps}


def frozen(module: Any) -> Any:
    """``module`` in inference mode with gradients off (the pipelines only sample)."""
    return module.eval().requires_grad_(False)


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise ValueError unless option ``name``'s ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


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


def hub_kwargs(revision: str | None) -> dict[str, Any]:
    """``from_pretrained`` keywords: the cache named by the environment and the revision."""
    return {"cache_dir": hub_cache_dir(), "revision": revision}


def pretrained_source(model: str, what: str, how: str) -> str:
    """What ``from_pretrained`` should load: a local directory (a path that exists or starts
    with ``.``, ``/`` or ``~``) or else the hub id as given.

    Raises :class:`WeightsUnavailableError` naming ``what`` and ``how`` for a local path
    that is not a directory.
    """
    path = Path(model).expanduser()
    if model.startswith((".", "/", "~")) or path.exists():
        if not path.is_dir():
            raise WeightsUnavailableError(f"{what} at {path} (no such directory)", how)
        return str(path)
    return model


@contextmanager
def weights_or_explain(what: str, model: str, how: str) -> Iterator[None]:
    """Turn the OSError that ``from_pretrained`` raises for absent weights (offline, not in
    the cache, no such repository) into one :class:`WeightsUnavailableError`."""
    try:
        yield
    except OSError as exc:
        raise WeightsUnavailableError(f"{what} {model!r} ({exc.__class__.__name__})", how) from exc


def place_pipeline(pipe: Any, options: Any, device: torch.device) -> None:
    """Apply the memory options and put the pipeline on ``device``, whole or with diffusers'
    CPU offload.

    ``options`` has ``offload`` (one of :data:`OFFLOADS`) and may have ``vae_tiling`` and
    ``vae_slicing`` (models whose VAE can tile or slice); a VAE without the method asked
    for raises ValueError.
    """
    for wanted, method in (
        (getattr(options, "vae_tiling", False), "enable_tiling"),
        (getattr(options, "vae_slicing", False), "enable_slicing"),
    ):
        if wanted:
            if not hasattr(pipe.vae, method):
                raise ValueError(f"the pipeline's VAE ({type(pipe.vae).__name__}) has no {method}")
            getattr(pipe.vae, method)()
    if options.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif options.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)


def to_pil(image: torch.Tensor) -> Image.Image:
    """(3, H, W) float in [0, 1] → 8-bit RGB PIL image (the pipelines' image input)."""
    array = (image.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(array)


def nearest_frames(video: torch.Tensor, num_frames: int) -> torch.Tensor:
    """The ``num_frames`` frames of ``video`` (T, ...) nearest in normalised time to
    ``k / (num_frames - 1)``; frames 0 and T - 1 are kept as the ends. Used when a model
    samples another frame count than the one asked for."""
    if video.shape[0] == num_frames:
        return video
    keep = torch.linspace(0, video.shape[0] - 1, num_frames).round().long()
    return video[keep]
