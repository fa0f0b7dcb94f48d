"""Keyframe-anchored Attention Bias (KAB) as pure tensor functions.

For one softmax over a modality's keys (text, first keyframe or last keyframe), KAB takes
each latent frame's attention averaged over its queries and all heads, interpolates the
two keyframes' averages (the anchors) and adds to every logit of an intermediate frame
``beta_i · (log max(M_i, eps) - log max(A_i, eps))``, pulling that frame's attention toward
the anchor mix M_i. Shapes: B batch, H heads, L = f · P video tokens (frame-major, P tokens
per latent frame), K keys, D head dim.
"""

from __future__ import annotations

import torch


def frame_mean_attention(
    query: torch.Tensor, key: torch.Tensor, num_frames: int, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """Attention of each latent frame, averaged over its queries and over all heads.

    Args:
        query: (B, H, L, D), L = num_frames · P tokens in frame-major order.
        key: (B, H, K, D).
        num_frames: f, latent frames in the query sequence.
        bias: optional (B, f, K) additive logit bias per frame (shared by heads and queries).

    Returns:
        float32 (B, f, K); each row is a distribution over the K keys (sums to 1). Computed one
        frame at a time in float32, so memory stays at one frame's logits.
    """
    length, dim = query.shape[-2:]
    if length % num_frames:
        raise ValueError(f"{length} query tokens do not split into {num_frames} frames")
    per_frame = length // num_frames
    keys = key.float()
    rows = []
    for n in range(num_frames):
        q = query[:, :, n * per_frame : (n + 1) * per_frame].float()
        logits = q @ keys.transpose(-1, -2) * dim**-0.5
        if bias is not None:
            logits = logits + bias[:, None, n, None, :]
        rows.append(logits.softmax(dim=-1).mean(dim=(1, 2)))
    return torch.stack(rows, dim=1)


def kab_targets(frame_attention: torch.Tensor) -> torch.Tensor:
    """Anchor mix M_i = (1 - i/(f-1))·A_0 + (i/(f-1))·A_{f-1} for every frame i.

    Args:
        frame_attention: (..., f, K) per-frame averaged attention, f >= 2.

    Returns:
        (..., f, K) in the input dtype; rows 0 and f-1 equal the anchors themselves.
    """
    f = frame_attention.shape[-2]
    if f < 2:
        raise ValueError(f"KAB needs at least 2 latent frames, got {f}")
    w = torch.linspace(0.0, 1.0, f, dtype=frame_attention.dtype, device=frame_attention.device)
    w = w[:, None]
    first = frame_attention[..., :1, :]
    last = frame_attention[..., -1:, :]
    return (1 - w) * first + w * last


def kab_bias(frame_attention: torch.Tensor, betas: torch.Tensor, eps: float = 5e-4) -> torch.Tensor:
    """KAB's additive logit bias beta_i · (log max(M_i, eps) - log max(A_i, eps)).

    Args:
        frame_attention: (..., f, K) attention of each latent frame averaged over its queries
            and all heads (:func:`frame_mean_attention`), rows summing to 1.
        betas: (f,) strength per latent frame (:func:`~tgibench.methods.kab_betas`); 0 on
            the keyframes, so their rows are 0.
        eps: floor of both distributions before the log (5e-4 in the paper).

    Returns:
        (..., f, K) bias in the input dtype, to add to every head's and every query's logits
        of frame i. Positive where the anchor mix attends more than frame i does.
    """
    targets = kab_targets(frame_attention)
    log_ratio = targets.clamp_min(eps).log() - frame_attention.clamp_min(eps).log()
    return betas.to(log_ratio)[:, None] * log_ratio
