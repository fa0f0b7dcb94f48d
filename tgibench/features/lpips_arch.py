"""The LPIPS network's architecture in plain ``torch.nn``, without the ``lpips`` package.

Layer for layer and name for name it is ``lpips.LPIPS(net=..., version="0.1")``: the
same scaling constants, the same torchvision AlexNet/VGG16 ``features`` convolutions
split into five slices (keys ``net.slice<k>.<index>.weight``), and the same linear layers
registered under both of lpips' names (``lins.<i>`` and ``lin<i>``, one module). So the
state dicts are interchangeable and the outputs are the same operations on the same
numbers (tests/test_metrics_reconstruction.py compares it with the package, exactly).

Why not import the package: ``import lpips`` imports torchvision and scipy, about 2 s of
every process that scores a video (``tgibench evaluate`` starts one per worker), for an
architecture of a dozen layers. The package stays a dependency: the tests use it as the
reference, and its bundled linear-layer weights are one of the sources of
:mod:`tgibench.features.lpips_net`.
"""

from __future__ import annotations

import torch
from torch import nn

#: A convolution (in channels, out channels, kernel, stride, padding), followed by an
#: in-place ReLU; None is a max pool (kernel 3 for AlexNet, 2 for VGG; stride 2).
_Conv = tuple[int, int, int, int, int] | None
_ALEX: list[_Conv] = [(3, 64, 11, 4, 2), None, (64, 192, 5, 1, 2), None]
_ALEX += [(192, 384, 3, 1, 1), (384, 256, 3, 1, 1), (256, 256, 3, 1, 1)]
_VGG: list[_Conv] = []
for _in, _out, _count in ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3)):
    _VGG += [(_in if i == 0 else _out, _out, 3, 1, 1) for i in range(_count)] + [None]
#: Per net: torchvision's ``features`` layers, its pool kernel, and the index of the last
#: layer of each of the five slices (in ``features``' numbering, a ReLU counting as one).
_LAYOUTS: dict[str, tuple[list[_Conv], int, tuple[int, ...]]] = {
    "alex": (_ALEX, 3, (1, 4, 7, 9, 11)),
    "vgg": (_VGG, 2, (3, 8, 15, 22, 29)),
}
#: lpips' ScalingLayer constants: images in [-1, 1] are shifted and scaled by these.
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


class StridedMaxPool(nn.Module):
    """``nn.MaxPool2d(kernel, stride)`` (no padding, floor mode) computed as the running
    maximum of the kernel's kernel² strided views of the input: the same numbers (a maximum
    is exact; NaN propagates in both), 3-5x faster on a CPU than torch's max-pool of
    (N, C, H, W) maps: AlexNet features of 25 frames at 160x288 take 9-10 % less time
    (docs/performance.md)."""

    def __init__(self, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        height, width = maps.shape[-2:]
        rows = (height - self.kernel) // self.stride + 1
        cols = (width - self.kernel) // self.stride + 1
        if rows < 1 or cols < 1:
            raise RuntimeError(
                f"max pool of {self.kernel}x{self.kernel}: input {height}x{width} is too small"
            )
        row_span, col_span = (rows - 1) * self.stride + 1, (cols - 1) * self.stride + 1
        pooled = maps[..., : row_span : self.stride, : col_span : self.stride].clone()
        for i in range(self.kernel):
            for j in range(self.kernel):
                if i or j:
                    view = maps[..., i : i + row_span : self.stride, j : j + col_span : self.stride]
                    torch.maximum(pooled, view, out=pooled)
        return pooled

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}"


def _feature_layers(net: str) -> list[nn.Module]:
    """torchvision's ``alexnet().features`` / ``vgg16().features`` layers, in order (its
    max pools as :class:`StridedMaxPool`, which has no weights: the state dict is the same)."""
    spec, pool, _ = _LAYOUTS[net]
    layers: list[nn.Module] = []
    for conv in spec:
        if conv is None:
            layers.append(StridedMaxPool(pool, stride=2))
        else:
            layers += [nn.Conv2d(*conv), nn.ReLU(inplace=True)]
    return layers


class ScalingLayer(nn.Module):
    """(x - shift) / scale per channel, x of shape (N, 3, H, W) in [-1, 1]."""

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor(_SHIFT)[None, :, None, None])
        self.register_buffer("scale", torch.tensor(_SCALE)[None, :, None, None])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.shift) / self.scale


class SlicedBackbone(nn.Module):
    """The backbone's five slices; ``forward`` returns each slice's output (ReLU maps)."""

    def __init__(self, net: str) -> None:
        super().__init__()
        layers = _feature_layers(net)
        start = 0
        for k, end in enumerate(_LAYOUTS[net][2], start=1):
            piece = nn.Sequential()
            for index in range(start, end + 1):
                piece.add_module(str(index), layers[index])
            self.add_module(f"slice{k}", piece)
            start = end + 1

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for k in range(1, 6):
            images = getattr(self, f"slice{k}")(images)
            outputs.append(images)
        return outputs


class NetLinLayer(nn.Module):
    """lpips' 1x1 convolution (no bias) weighting one layer's channels, after a dropout
    that evaluation mode turns off."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, 1, bias=False))

    @property
    def conv(self) -> nn.Conv2d:
        """The 1x1 convolution, weight (1, channels, 1, 1)."""
        return self.model[1]  # type: ignore[return-value]

    def forward(self, diff: torch.Tensor) -> torch.Tensor:
        return self.model(diff)


class LPIPSArchitecture(nn.Module):
    """``scaling_layer``, ``net`` (:class:`SlicedBackbone`) and ``lins``, as lpips names
    them; no weights are read (convolutions start from torch's random initialisation)."""

    def __init__(self, net: str) -> None:
        if net not in _LAYOUTS:
            raise ValueError(f"unknown LPIPS net {net!r}; choose from {sorted(_LAYOUTS)}")
        super().__init__()
        self.scaling_layer = ScalingLayer()
        self.net = SlicedBackbone(net)
        channels = [
            piece[-2].out_channels
            for piece in (getattr(self.net, f"slice{k}") for k in range(1, 6))
        ]
        for i, count in enumerate(channels):  # lpips' first name of each linear layer
            self.add_module(f"lin{i}", NetLinLayer(count))
        self.lins = nn.ModuleList(getattr(self, f"lin{i}") for i in range(len(channels)))

    def linear_layers(self) -> list[NetLinLayer]:
        """The linear layers, one per slice (the modules of ``lins``)."""
        return [getattr(self, f"lin{i}") for i in range(len(self.lins))]
