"""Feature networks, each loaded at most once per process and shared by every metric.

A backbone is registered under a name with a loader, a locator and the section of
docs/weights.md that says how to supply its weights. :class:`Backbones` builds it on first
use and keeps it (or keeps the :class:`~tgibench.weights.WeightsUnavailableError` that
loading raised, so a missing checkpoint is reported once per run, not searched per case).
Options per backbone (a local path, a hub id, a model tag) come from the run's config.

The locator says where the weights are without network and without building the network
(``tgibench metrics`` lists that). When they are not on this machine and would be
downloaded, :class:`Backbones` first asks the server once (``tgibench.weights.
unreachable``); if it does not answer, the backbone is unavailable with that reason at
once. With ``HF_HUB_OFFLINE=1`` it is unavailable at once, without asking and without
calling the loader (whose imports alone can take seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tgibench.registry import Registry
from tgibench.weights import (
    Locator,
    WeightsLocation,
    WeightsUnavailableError,
    docs_link,
    hub_offline,
    unreachable,
)

BackboneLoader = Callable[..., Any]


@dataclass(frozen=True)
class BackboneDef:
    """How to load one backbone (``load(**options)``), find its weights (``locate(**options)``,
    no network, no model build) and where docs/weights.md explains them (``anchor``)."""

    name: str
    load: BackboneLoader
    locate: Locator
    anchor: str


#: Built-in backbones: every module of tgibench.features that registers some (found on
#: first lookup, no list to edit), then installed plugins.
BACKBONES: Registry[BackboneDef] = Registry("backbone", packages=("tgibench.features",))


def register_backbone(
    name: str, *, locate: Locator, anchor: str
) -> Callable[[BackboneLoader], BackboneLoader]:
    """Decorator registering ``load(**options) -> network`` as the backbone ``name``.

    ``locate(**options) -> WeightsLocation`` takes the same options (it may ignore those
    that do not say where the weights are); ``anchor`` is the backbone's section of
    docs/weights.md.
    """

    def decorate(load: BackboneLoader) -> BackboneLoader:
        BACKBONES.register(name, source=load.__module__)(BackboneDef(name, load, locate, anchor))
        return load

    return decorate


def backbone_anchors() -> dict[str, str]:
    """Backbone name → its section of docs/weights.md."""
    return {name: BACKBONES.get(name).anchor for name in BACKBONES.names()}


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

    def locate(self, name: str) -> WeightsLocation:
        """Where backbone ``name``'s weights are, with this run's options (no network)."""
        return BACKBONES.get(name).locate(**self.options.get(name, {}))

    def get(self, name: str) -> Any:
        """The backbone ``name``; raises WeightsUnavailableError if its weights are missing."""
        if name in self._failed:
            raise self._failed[name]
        if name not in self._built:
            backbone = BACKBONES.get(name)
            options = self.options.get(name, {})
            try:
                self._check_reachable(backbone, options)
                network = backbone.load(**options)
            except WeightsUnavailableError as exc:
                self._failed[name] = exc
                raise
            if hasattr(network, "to"):
                network = network.to(self.device)
            self._built[name] = network
        return self._built[name]

    @staticmethod
    def _check_reachable(backbone: BackboneDef, options: dict[str, Any]) -> None:
        """Fail at once when the weights are not here and would be downloaded, but cannot:
        with ``HF_HUB_OFFLINE=1`` (without importing the loader's library, which can take
        seconds: open_clip, transformers), or when the server does not answer."""
        location = backbone.locate(**options)
        if location.available or location.remote is None:
            return
        if hub_offline():
            raise WeightsUnavailableError(
                location.weights,
                f"They are not on this machine, and HF_HUB_OFFLINE=1 (--offline) forbids "
                f"downloading them from {location.remote}. Supply them as "
                f"{docs_link(backbone.anchor)} says.",
            )
        reason = unreachable(location.remote)
        if reason:
            raise WeightsUnavailableError(
                location.weights,
                f"They are not on this machine and {location.remote} cannot be reached "
                f"({reason}). Supply them as {docs_link(backbone.anchor)} says; with "
                "--offline (or HF_HUB_OFFLINE=1) TGI-Bench does not try the network.",
            )

    def put(self, name: str, network: Any) -> None:
        """Use an already built network for ``name`` (tests, custom feature extractors)."""
        self._built[name] = network
        self._failed.pop(name, None)
