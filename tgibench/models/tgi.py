"""The paper's method as a model: ``tgi`` = ``wan`` + KAB + ReTRo (+ isolated cross-attention).

Its options are ``wan``'s (:class:`~tgibench.models.wan.WanOptions`) plus every
hyperparameter of :class:`~tgibench.methods.TGIConfig`, set flat in a spec
(``tgi:kab=off,beta_end=0.5,edge_widths="49:5"``); defaults come from the official code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tgibench.methods import TGIConfig, install_tgi
from tgibench.models.registry import register_model
from tgibench.models.wan import Wan, WanOptions


@dataclass(frozen=True)
class TgiOptions(WanOptions):
    """``wan``'s options and the method's (:class:`~tgibench.methods.TGIConfig`: ``kab``,
    ``retro``, ``isolate``, ``beta_end``, ...). The VAE's temporal compression is not an
    option: it is read from the pipeline."""

    method: TGIConfig = field(
        default_factory=TGIConfig, metadata={"hidden": ("temporal_compression",)}
    )


@register_model("tgi")
class Tgi(Wan):
    """Wan2.1-FLF2V with the paper's KAB and ReTRo (training-free attention changes).

    Options: :class:`TgiOptions`. ``config`` is the installed :class:`TGIConfig`,
    ``handle`` the :class:`~tgibench.methods.TGIHandle` (``handle.remove()`` restores
    stock Wan).
    """

    options_class = TgiOptions

    def __init__(self, options: TgiOptions | None = None) -> None:
        options = options or TgiOptions()
        super().__init__(options)
        self.config = replace(
            options.method, temporal_compression=self.pipe.vae_scale_factor_temporal
        )
        self.handle = install_tgi(self.pipe.transformer, self.config)

    def before_sampling(self) -> None:
        self.handle.state.reset(self.steps)
