"""The shared base of the metric classes: a mean over videos of a functional metric."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torchmetrics import Metric

from tgibench.features.lpips_net import LPIPSNet
from tgibench.metrics.functional.reconstruction import default_lpips_net
from tgibench.metrics.registry import DefinedMetric


class MeanOverVideos(DefinedMetric, Metric):
    """Mean of a per-video functional metric over every video seen by ``update``.

    Keeps two states, the sum of per-video values (float64) and the number of videos,
    both summed across processes. Subclasses name their registered definition
    (``class PSNR(MeanOverVideos, metric="psnr")``: direction and range come from it) and
    set ``function`` (called as ``function(video[, target], **self._options())`` on
    (T, C, H, W) or (B, T, C, H, W) input) and ``needs_target``.
    """

    is_differentiable = False
    full_state_update = False
    function: ClassVar[Callable[..., torch.Tensor]]
    needs_target: ClassVar[bool] = True

    total: torch.Tensor
    count: torch.Tensor

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_state(
            "total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
        )
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def _options(self) -> dict[str, Any]:
        return {}

    def update(self, video: torch.Tensor, target: torch.Tensor | None = None) -> None:
        """Add one (T, C, H, W) video or a batch (B, T, C, H, W) (with ground truth if needed)."""
        if self.needs_target and target is None:
            raise ValueError(f"{type(self).__name__} needs the ground-truth video as target")
        args = (video, target) if self.needs_target else (video,)
        values = type(self).function(*args, **self._options())
        self.total += values.double().sum()
        self.count += values.numel()

    def compute(self) -> torch.Tensor:
        return (self.total / self.count).float()


class WithLPIPSNet(MeanOverVideos):
    """Holds one frozen LPIPS network, built once (real pretrained weights by default)."""

    def __init__(self, net: LPIPSNet | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.net = net or default_lpips_net()

    def _options(self) -> dict[str, Any]:
        return {"net": self.net}
