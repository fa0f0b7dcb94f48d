"""Feature networks, each loaded at most once per process and shared by every metric.

A backbone is registered under a name with a loader; :class:`Backbones` builds it on first
use and keeps it (or keeps the :class:`~tgibench.weights.WeightsUnavailableError` that
loading raised, so a missing checkpoint is reported once per run, not searched per case).
Options per backbone (a local path, a hub id, a model tag) come from the run's config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tgibench.registry import Registry
from tgibench.weights import WeightsUnavailableError

BackboneLoader = Callable[..., Any]
BACKBONES: Registry[BackboneLoader] = Registry("backbone")
register_backbone = BACKBONES.register


@register_backbone("lpips-alex")
def _lpips_alex(path: str | None = None) -> Any:
    from tgibench.features.lpips_net import LPIPSNet

    return LPIPSNet("alex", path)


@register_backbone("lpips-vgg")
def _lpips_vgg(path: str | None = None) -> Any:
    from tgibench.features.lpips_net import LPIPSNet

    return LPIPSNet("vgg", path)


class Backbones:
    """Lazily built, frozen feature networks on one device.

    Args:
        device: torch device string for every network ("cpu", "cuda", "cuda:1").
        options: per-backbone keyword arguments for its loader, e.g.
            ``{"clip": {"model": "ViT-B-32", "pretrained": "/path/ckpt.bin"}}``.
    """

    def __init__(
        self, device: str = "cpu", options: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.device = device
        self.options = options or {}
        self._built: dict[str, Any] = {}
        self._failed: dict[str, WeightsUnavailableError] = {}

    def get(self, name: str) -> Any:
        """The backbone ``name``; raises WeightsUnavailableError if its weights are missing."""
        if name in self._failed:
            raise self._failed[name]
        if name not in self._built:
            try:
                network = BACKBONES.get(name)(**self.options.get(name, {}))
            except WeightsUnavailableError as exc:
                self._failed[name] = exc
                raise
            if hasattr(network, "to"):
                network = network.to(self.device)
            self._built[name] = network
        return self._built[name]

    def put(self, name: str, network: Any) -> None:
        """Use an already built network for ``name`` (tests, custom feature extractors)."""
        self._built[name] = network
        self._failed.pop(name, None)
