"""Per-frame schedules of the method: ReTRo's temporal RoPE scales and KAB's bias strengths.

Both are pure functions of the clip length. ``num_frames`` is the number of pixel frames N;
the Wan VAE compresses time 4x, so the transformer sees f = (N - 1) / 4 + 1 latent frames
(25 → 7, 33 → 9, 65 → 17, 81 → 21).
"""

from __future__ import annotations

import math

import torch

#: ReTRo edge width in pixel frames for the benchmark's lengths (PAPER.md, official code).
RETRO_EDGE_WIDTHS: dict[int, int] = {25: 2, 33: 3, 65: 6, 81: 8}


def latent_frames(num_frames: int, temporal_compression: int = 4) -> int:
    """Latent frames f = (N - 1) // c + 1 for N pixel frames and temporal compression c."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    return (num_frames - 1) // temporal_compression + 1


def retro_edge_width(num_frames: int, widths: dict[int, int] | None = None) -> int:
    """ReTRo edge width w_edge in pixel frames for an N-frame clip.

    The paper gives 25→2, 33→3, 65→6, 81→8 (``widths`` overrides that table). Other lengths
    use N // 10, the rule that reproduces all four published values (our choice: the paper
    is silent on other lengths).
    """
    table = RETRO_EDGE_WIDTHS if widths is None else widths
    return table.get(num_frames, num_frames // 10)


def retro_scales(
    num_frames: int,
    *,
    s_edge: float = 1.06,
    s_mid: float = 0.94,
    edge_width: int | None = None,
    smooth: int = 5,
    temporal_compression: int = 4,
) -> torch.Tensor:
    """ReTRo's real scale s_n of each latent frame's temporal rotary phasor.

    With r = w_edge / N and t = linspace(0, 1, f): s = s_edge where t < r or t > 1 - r,
    else s_mid; then a centred box moving average of width ``smooth`` (odd, 1 = none) with
    edge-replicate padding.

    Args:
        num_frames: pixel frames N of the clip (>= 1).
        s_edge: scale at the clip's ends (> 1 sharpens temporal position near keyframes).
        s_mid: scale in the middle (< 1 relaxes it).
        edge_width: w_edge in pixel frames; None takes :func:`retro_edge_width`.
        smooth: width of the box filter, an odd number >= 1.
        temporal_compression: pixel frames per latent frame of the VAE (4 for Wan).

    Returns:
        float32 tensor of shape (f,), one scale per latent frame, symmetric in time.

    >>> retro_scales(25)
    tensor([1.0120, 0.9880, 0.9640, 0.9400, 0.9640, 0.9880, 1.0120])
    """
    if smooth < 1 or smooth % 2 == 0:
        raise ValueError(f"smooth must be an odd width >= 1, got {smooth}")
    f = latent_frames(num_frames, temporal_compression)
    width = retro_edge_width(num_frames) if edge_width is None else edge_width
    r = width / num_frames
    t = torch.linspace(0.0, 1.0, f, dtype=torch.float64)
    raw = torch.where((t < r) | (t > 1 - r), s_edge, s_mid).to(torch.float64)
    half = smooth // 2
    padded = torch.cat([raw[:1].repeat(half), raw, raw[-1:].repeat(half)])
    return padded.unfold(0, smooth, 1).mean(dim=1).float()


def kab_betas(
    num_latent_frames: int, *, beta_end: float = 0.7, beta_mid: float = 0.3
) -> torch.Tensor:
    """KAB's bias strength beta_i per latent frame: a cosine taper from the ends to the middle.

    d = min(i, f-1-i), d_max = floor((f-1)/2), u = (1 + cos(pi·d/d_max))/2,
    beta_i = beta_mid + (beta_end - beta_mid)·u, and beta = 0 on the keyframes 0 and f-1.
    With f <= 2 there is no intermediate frame and every beta is 0.

    Args:
        num_latent_frames: f, latent frames of the clip (>= 1).
        beta_end: strength next to the keyframes (u = 1).
        beta_mid: strength at the middle frame (u = 0).

    Returns:
        float32 tensor of shape (f,).

    >>> kab_betas(7)
    tensor([0.0000, 0.6000, 0.4000, 0.3000, 0.4000, 0.6000, 0.0000])
    """
    f = num_latent_frames
    if f < 1:
        raise ValueError(f"num_latent_frames must be positive, got {f}")
    betas = torch.zeros(f, dtype=torch.float64)
    d_max = (f - 1) // 2
    for i in range(1, f - 1):
        d = min(i, f - 1 - i)
        u = (1 + math.cos(math.pi * d / d_max)) / 2
        betas[i] = beta_mid + (beta_end - beta_mid) * u
    return betas.float()
