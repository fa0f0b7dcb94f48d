"""Frame preprocessing of image-text backbones on tensors, equal to their reference
pipelines on PIL images (CLIP: open_clip's evaluation transform; X-CLIP: transformers'
video processor): an 8-bit antialiased resize, a centre crop with each reference's
rounding, normalisation."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from tgibench.video import to_uint8


@dataclass(frozen=True)
class FramePreprocess:
    """Resize, centre-crop and normalise (N, 3, H, W) frames, as the weights' own pipeline.

    ``resize_mode`` "shortest" scales the image so that it covers ``fit`` (then crops),
    "longest" so that it fits inside ``fit`` (then pads with ``fill``, in [0, 1]),
    "squash" resizes to ``fit`` ignoring the aspect ratio; the result is centre-cropped
    or padded to ``size``. ``crop`` is how the crop's offset is rounded: "round" as
    torchvision's CenterCrop (open_clip's transform), "floor" as transformers' image
    processors (X-CLIP); the two differ by a pixel whenever the margin is odd.

    Frames (uint8, or float in [0, 1], which is rounded to uint8 first) are resized as
    8-bit images with antialiasing, as PIL (open_clip) and transformers' torchvision
    backend do (:func:`_resize_8bit`); PyTorch's uint8 kernel follows PIL's to within one
    level on some pixels. Returns float32 (N, 3, *size), normalised.
    """

    size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"
    fit: tuple[int, int] | None = None
    fill: float = 0.0
    crop: str = "round"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = to_uint8(images)
        h, w = images.shape[-2:]
        fit_h, fit_w = self.fit or self.size
        if self.resize_mode == "squash":
            new = (fit_h, fit_w)
        elif self.resize_mode == "shortest" and fit_h == fit_w:  # torchvision's Resize(int)
            long = int(fit_h * max(h, w) / min(h, w))
            new = (fit_h, long) if h <= w else (long, fit_h)
        elif self.resize_mode in ("shortest", "longest"):  # open_clip's ResizeKeepRatio
            pick = min if self.resize_mode == "shortest" else max
            ratio = pick(h / fit_h, w / fit_w)
            new = (round(h / ratio), round(w / ratio))
        else:
            raise ValueError(f"unknown resize mode {self.resize_mode!r}")
        if new != (h, w):
            images = _resize_8bit(images, new, self.interpolation)
        images = _center_crop_or_pad(images, self.size, round(self.fill * 255), self.crop)
        mean = torch.tensor(self.mean, device=images.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=images.device).view(1, -1, 1, 1)
        return (images.float() / 255 - mean) / std


def _native_uint8_bilinear() -> bool:
    """Whether torchvision resizes uint8 images bilinearly with PyTorch's uint8 kernel on
    this CPU (AVX2, AVX-512 or ARM) rather than in float32, rounded (its rule, mirrored)."""
    capability = torch.backends.cpu.get_cpu_capability()
    return capability in ("AVX2", "AVX512") or platform.machine() in ("aarch64", "arm64")


def _resize_8bit(images: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) images to ``size`` as 8-bit images (antialiased if smooth).

    On the CPU as torchvision does for transformers' image processors: PyTorch's uint8
    kernels (PIL's maths), except bilinear on a CPU without AVX2, which torchvision (and so
    the reference pipeline itself) resizes in float32 and rounds: up to 4 levels apart on
    some pixels. On a GPU in float32, rounded, as torchvision does there.
    """
    smooth = mode in ("bilinear", "bicubic")
    options: dict[str, Any] = {"antialias": True, "align_corners": False} if smooth else {}
    on_cpu = images.device.type == "cpu"
    if not smooth or (on_cpu and (mode != "bilinear" or _native_uint8_bilinear())):
        return F.interpolate(images, size=size, mode=mode, **options)
    resized = F.interpolate(images.float(), size=size, mode=mode, **options)
    return resized.clamp_(0, 255).round_().to(torch.uint8)  # as torchvision does


def _center_crop_or_pad(
    images: torch.Tensor, size: tuple[int, int], fill: int, crop: str
) -> torch.Tensor:
    """Centre crop to ``size``, padding with ``fill`` where smaller (torchvision's padding).

    The offset is ``round(margin / 2)`` (torchvision, Python's rounding) for ``crop="round"``
    and ``int(margin / 2)`` (transformers) for ``crop="floor"``.
    """
    if crop not in ("round", "floor"):
        raise ValueError(f"crop must be 'round' or 'floor', got {crop!r}")
    h, w = images.shape[-2:]
    pad_h, pad_w = max(size[0] - h, 0), max(size[1] - w, 0)
    if pad_h or pad_w:
        images = F.pad(
            images, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), value=fill
        )
        h, w = images.shape[-2:]
    offset = round if crop == "round" else int
    top, left = offset((h - size[0]) / 2), offset((w - size[1]) / 2)
    return images[..., top : top + size[0], left : left + size[1]]
