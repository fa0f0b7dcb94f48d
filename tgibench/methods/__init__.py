"""The reference method: Keyframe-anchored Attention Bias (KAB) and Rescaled Temporal RoPE.

Training-free changes to Wan2.1-FLF2V attention (Choi et al., CVPR 2026). Pure schedules and
bias maths live in :mod:`~tgibench.methods.schedules` and :mod:`~tgibench.methods.kab`; the
diffusers processors and hooks that apply them in :mod:`~tgibench.methods.processors`.

The comparison set's sampling on Stable Video Diffusion lives beside it (imported by
module, not re-exported here): :mod:`~tgibench.methods.edm` and
:mod:`~tgibench.methods.bidirectional` (pure maths), :mod:`~tgibench.methods.svd_sampler`
(one sampler loop and the TRF/GI and ViBiDSampler steps) and
:mod:`~tgibench.methods.gi_attention` (GI's rotated temporal attention).
"""

from tgibench.methods.kab import frame_mean_attention, kab_bias, kab_targets
from tgibench.methods.processors import (
    DenoiseState,
    TGIConfig,
    TGICrossAttnProcessor,
    TGIHandle,
    install_tgi,
)
from tgibench.methods.schedules import (
    RETRO_EDGE_WIDTHS,
    kab_betas,
    latent_frames,
    retro_edge_width,
    retro_scales,
)

__all__ = [
    "RETRO_EDGE_WIDTHS",
    "DenoiseState",
    "TGIConfig",
    "TGICrossAttnProcessor",
    "TGIHandle",
    "frame_mean_attention",
    "install_tgi",
    "kab_betas",
    "kab_bias",
    "kab_targets",
    "latent_frames",
    "retro_edge_width",
    "retro_scales",
]
