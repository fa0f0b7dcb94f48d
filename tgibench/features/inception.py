"""The FID feature network: Inception-v3 "pool3" features (2048-d) of frames.

FID (Heusel et al., 2017) uses the TensorFlow Inception-v3 graph of 2015-12-05, whose
blocks differ slightly from torchvision's Inception-v3: the pooling branches of the
Mixed_5*, Mixed_6* and Mixed_7b blocks average without counting the zero padding, and
Mixed_7c max-pools; the classifier has 1008 classes. :func:`build_fid_inception` builds
that network from torchvision's blocks with those changes, so the PyTorch port of the
TensorFlow weights published by pytorch-fid (``pt_inception-2015-12-05-6726825d.pth``, a
state dict) loads into it unchanged, and features match pytorch-fid's.

Frames (N, 3, H, W) in [0, 1] are resized to 299x299 (bilinear, no antialiasing, as
pytorch-fid does), scaled to [-1, 1], and pooled after Mixed_7c: (N, 2048) features.

The backbone ``inception`` takes the option ``weights``: a local file, ``hf-hub:org/name/
file`` or a URL (see :mod:`tgibench.features.checkpoint`); default
``$TGIBENCH_INCEPTION_WEIGHTS`` or pytorch-fid's release URL (downloaded once into
torch's hub cache). Any other network that maps frames to features can replace it
(``Backbones.put("inception", net)`` or the ``FID(extractor=...)`` argument).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

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
from tgibench.video import frames_per_chunk, to_float
from tgibench.weights import WeightsLocation

if TYPE_CHECKING:
    from torchvision.models.inception import Inception3

#: pytorch-fid's PyTorch port of the TensorFlow FID Inception weights (a state dict).
FID_INCEPTION_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    "pt_inception-2015-12-05-6726825d.pth"
)
ENV_VAR = "TGIBENCH_INCEPTION_WEIGHTS"
WEIGHTS = "FID Inception-v3"
INPUT_SIZE = 299
NUM_FEATURES = 2048


def _avg_pool_valid(x: torch.Tensor) -> torch.Tensor:
    """3x3 average over the pixels inside the image (TensorFlow's padding="SAME" average)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


def build_fid_inception() -> Inception3:
    """The FID Inception-v3 architecture (1008 classes, TF pooling), randomly initialised."""
    from torchvision.models import inception as tv_inception  # 1 s: imported when built

    class _FIDPoolBranch:
        """Mixin for torchvision's Inception blocks: recompute the pooling branch the TF way.

        torchvision's ``_forward`` returns the branch outputs with the pooling branch last;
        it is replaced by ``branch_pool(pool(x))`` with the pooling of the FID graph.
        """

        pool = staticmethod(_avg_pool_valid)
        branch_pool: torch.nn.Module

        def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            outputs: list[torch.Tensor] = super()._forward(x)  # type: ignore[misc]
            outputs[-1] = self.branch_pool(type(self).pool(x))
            return outputs

    class _FIDInceptionA(_FIDPoolBranch, tv_inception.InceptionA):
        pass

    class _FIDInceptionC(_FIDPoolBranch, tv_inception.InceptionC):
        pass

    class _FIDInceptionE(_FIDPoolBranch, tv_inception.InceptionE):
        pass

    class _FIDInceptionEMax(_FIDPoolBranch, tv_inception.InceptionE):
        pool = staticmethod(_max_pool)

    net = tv_inception.Inception3(
        num_classes=1008,
        aux_logits=False,
        transform_input=False,
        init_weights=False,
        inception_blocks=[
            tv_inception.BasicConv2d,
            _FIDInceptionA,
            tv_inception.InceptionB,
            _FIDInceptionC,
            tv_inception.InceptionD,
            _FIDInceptionE,
            tv_inception.InceptionAux,
        ],
    )
    net.Mixed_7c = _FIDInceptionEMax(2048)
    return net


class InceptionFeatures(FrozenNetwork):
    """Frozen FID Inception-v3: (N, 3, H, W) frames in [0, 1] → (N, 2048) pool3 features.

    Args:
        net: a :func:`build_fid_inception` network with its weights.
        weights: what the weights are (file, hub id or URL).
    """

    num_features = NUM_FEATURES

    def __init__(self, net: Inception3, weights: str) -> None:
        super().__init__()
        self.net = net
        self.weights = weights
        self.stem = torch.nn.Sequential(
            net.Conv2d_1a_3x3,
            net.Conv2d_2a_3x3,
            net.Conv2d_2b_3x3,
            net.maxpool1,
            net.Conv2d_3b_1x1,
            net.Conv2d_4a_3x3,
            net.maxpool2,
            net.Mixed_5b,
            net.Mixed_5c,
            net.Mixed_5d,
            net.Mixed_6a,
            net.Mixed_6b,
            net.Mixed_6c,
            net.Mixed_6d,
            net.Mixed_6e,
            net.Mixed_7a,
            net.Mixed_7b,
            net.Mixed_7c,
            net.avgpool,
        )
        self.freeze()

    @torch.no_grad()
    def forward(self, images: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """Pool3 features (N, 2048), float32 on the CPU, of (N, 3, H, W) images in [0, 1]."""
        device = next(self.net.parameters()).device
        parts = []
        step = chunk or frames_per_chunk(images, most=32)
        for start in range(0, images.shape[0], step):
            x = to_float(images[start : start + step]).to(device)
            x = F.interpolate(
                x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False
            )
            parts.append(self.stem(2 * x - 1).flatten(1).float().cpu())
        return torch.cat(parts)


def _how() -> str:
    return (
        "Give the FID Inception weights (pytorch-fid's pt_inception-2015-12-05-6726825d.pth, "
        "a state dict, or the same tensors as .safetensors) with the backbone option "
        "(EvalConfig.backbone_options={'inception': {'weights': '/path/file.pth'}}), "
        f"{ENV_VAR}=/path/file, 'hf-hub:org/name/file' or a URL; or, with network and "
        f"HF_HUB_OFFLINE unset, let TGI-Bench download {FID_INCEPTION_URL} once into torch's "
        "hub cache ($TORCH_HOME/hub/checkpoints), which is then used offline. See "
        "`tgibench docs weights#inception-fid`."
    )


def _source(weights: str | None) -> str:
    return weights or os.environ.get(ENV_VAR) or FID_INCEPTION_URL


def locate_inception(weights: str | None = None, cache_dir: str | None = None) -> WeightsLocation:
    """Where the FID Inception weights are (no reading, no network)."""
    return locate_checkpoint(_source(weights), WEIGHTS, cache_dir)


def load_inception(weights: str | None = None, cache_dir: str | None = None) -> InceptionFeatures:
    """The FID Inception-v3 with its weights, frozen (see the module docstring for sources).

    The file must hold every tensor of the network (batch norm's ``num_batches_tracked``
    excepted); anything less raises :class:`~tgibench.weights.WeightsMismatchError`.
    """
    source = _source(weights)
    path = resolve_checkpoint(source, WEIGHTS, _how(), cache_dir)
    net = build_fid_inception()
    load_complete(net, load_state_dict(path), WEIGHTS, path, _how(), is_batch_counter)
    return InceptionFeatures(net, source)


@register_backbone("inception", locate=locate_inception, anchor="inception-fid")
def _inception_backbone(weights: str | None = None, cache_dir: str | None = None) -> Any:
    return load_inception(weights, cache_dir)


@register_feature("inception", backbones=("inception",))
def _inception_feature(store: FeatureStore) -> dict[str, torch.Tensor]:
    """Inception pool3 features of every generated frame ("fake") and ground-truth frame ("real")."""
    return generated_and_truth(store, "inception")
