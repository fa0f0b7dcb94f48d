"""KAB and ReTRo installed on diffusers' stock ``WanTransformer3DModel`` (no fork).

- ReTRo is a forward hook on the transformer's ``rope`` module: it multiplies the temporal
  channels of the (cos, sin) tables by s_n of each token's latent frame, so every block's
  stock self-attention processor rotates q and k with the rescaled phasors.
- KAB and the isolated cross-attention are a processor on every block's ``attn2``; it
  falls back to plain SDPA outside KAB's blocks, steps and branch.
- A forward pre-hook on the transformer tracks the denoising step, the CFG branch and the
  latent grid. diffusers' Wan pipelines call the transformer once per step for the
  conditional branch and then, with guidance, once for the unconditional one, with the same
  timestep: the first call with a new timestep is step + 1 and "cond", a repeat is "uncond".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from tgibench.methods.kab import frame_mean_attention, kab_bias
from tgibench.methods.schedules import RETRO_EDGE_WIDTHS, kab_betas, retro_edge_width, retro_scales

#: Text tokens at the end of Wan's cross-attention context (diffusers hardcodes it too).
TEXT_TOKENS = 512


@dataclass(frozen=True)
class TGIConfig:
    """Every hyperparameter of KAB and ReTRo, defaults from the paper's official code.

    Attributes:
        kab: apply the keyframe-anchored attention bias.
        retro: rescale the temporal RoPE.
        isolate: three separate cross-attention softmaxes (text, first keyframe, last
            keyframe) summed, as in the official code; off = stock Wan (text + one image softmax).
        beta_end: KAB strength next to the keyframes.
        beta_mid: KAB strength at the middle latent frame.
        eps: floor of the attention distributions before the log.
        kab_first_block: first transformer block (0-indexed) where KAB acts.
        kab_last_block: last block (inclusive) where KAB acts.
        kab_step_fraction: KAB acts at step indices i with 0 < i / num_steps <= this.
        kab_cond_only: KAB only in the conditional (prompted) CFG branch.
        s_edge: ReTRo scale at the clip's ends.
        s_mid: ReTRo scale in the middle.
        edge_widths: ReTRo edge width in pixel frames per clip length; others use N // 10.
        smooth: width of ReTRo's box filter (odd; 1 = no smoothing).
        temporal_compression: pixel frames per latent frame of the VAE.
    """

    kab: bool = True
    retro: bool = True
    isolate: bool = True
    beta_end: float = 0.7
    beta_mid: float = 0.3
    eps: float = 5e-4
    kab_first_block: int = 5
    kab_last_block: int = 12
    kab_step_fraction: float = 0.4
    kab_cond_only: bool = True
    s_edge: float = 1.06
    s_mid: float = 0.94
    edge_widths: dict[int, int] = field(default_factory=lambda: dict(RETRO_EDGE_WIDTHS))
    smooth: int = 5
    temporal_compression: int = 4

    def kab_block(self, index: int) -> bool:
        """True if KAB acts in transformer block ``index`` (0-indexed)."""
        return self.kab and self.kab_first_block <= index <= self.kab_last_block


@dataclass
class DenoiseState:
    """Where the sampler is, read by the KAB processors.

    Attributes:
        step: index of the current denoising step (0-based; -1 before the first call).
        num_steps: steps of the current sampling run.
        branch: "cond" or "uncond" for the current transformer call.
        frames: latent frames f of the current call.
        tokens_per_frame: video tokens per latent frame after patchify.
    """

    step: int = -1
    num_steps: int = 0
    branch: str = "cond"
    frames: int = 0
    tokens_per_frame: int = 0
    _last_timestep: float | None = None

    def reset(self, num_steps: int) -> None:
        """Start a sampling run of ``num_steps`` steps."""
        self.step, self.num_steps, self.branch, self._last_timestep = -1, num_steps, "cond", None

    def observe(
        self, hidden_states: torch.Tensor, timestep: torch.Tensor, patch: tuple[int, ...]
    ) -> None:
        """Record one transformer call: latents (B, C, F, H, W) at ``timestep``."""
        t = float(timestep.flatten()[0])
        if t != self._last_timestep:
            self.step, self.branch, self._last_timestep = self.step + 1, "cond", t
        else:
            self.branch = "uncond"
        _, _, frames, height, width = hidden_states.shape
        self.frames = frames // patch[0]
        self.tokens_per_frame = (height // patch[1]) * (width // patch[2])


class TGICrossAttnProcessor:
    """Cross-attention of one Wan block with isolated softmaxes and KAB.

    Same projections and norms as diffusers' ``WanAttnProcessor``; the context is
    [image tokens (2 x per keyframe), 512 text tokens]. With ``isolate`` the image tokens
    split into first and last keyframe halves, each with its own softmax.
    """

    def __init__(self, block_index: int, config: TGIConfig, state: DenoiseState) -> None:
        self.block_index = block_index
        self.config = config
        self.state = state

    def kab_active(self) -> bool:
        """True if KAB acts in this block at the current step and branch."""
        cfg, st = self.config, self.state
        if not cfg.kab_block(self.block_index) or st.num_steps <= 0 or st.frames < 3:
            return False
        if cfg.kab_cond_only and st.branch != "cond":
            return False
        return 0 < st.step / st.num_steps <= cfg.kab_step_fraction

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        if encoder_hidden_states is None or getattr(attn, "fused_projections", False):
            raise ValueError("TGICrossAttnProcessor handles unfused Wan cross-attention only")
        heads = attn.heads
        n_img = encoder_hidden_states.shape[1] - TEXT_TOKENS if attn.add_k_proj is not None else 0
        image, text = encoder_hidden_states[:, :n_img], encoder_hidden_states[:, n_img:]

        def split(x: torch.Tensor) -> torch.Tensor:  # (B, N, H·D) → (B, H, N, D)
            return x.unflatten(2, (heads, -1)).transpose(1, 2)

        query = split(attn.norm_q(attn.to_q(hidden_states)))
        groups = [(split(attn.norm_k(attn.to_k(text))), split(attn.to_v(text)))]
        if n_img:
            k_img = split(attn.norm_added_k(attn.add_k_proj(image)))
            v_img = split(attn.add_v_proj(image))
            if self.config.isolate and n_img % 2 == 0:
                half = n_img // 2
                groups += [(k_img[:, :, :half], v_img[:, :, :half])]
                groups += [(k_img[:, :, half:], v_img[:, :, half:])]
            else:
                groups.append((k_img, v_img))
        active = self.kab_active()
        out = self._attend(query, *groups[0], active)
        for key, value in groups[1:]:
            out = out + self._attend(query, key, value, active)
        out = out.transpose(1, 2).flatten(2, 3).type_as(hidden_states)
        return attn.to_out[1](attn.to_out[0](out))

    def _attend(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, active: bool
    ) -> torch.Tensor:
        """One softmax over ``k``; with KAB, logits of intermediate frames get the anchor bias."""
        if not active:
            return F.scaled_dot_product_attention(q, k, v)
        f, per_frame = self.state.frames, self.state.tokens_per_frame
        betas = kab_betas(f, beta_end=self.config.beta_end, beta_mid=self.config.beta_mid)
        bias = kab_bias(frame_mean_attention(q, k, f), betas.to(q.device), self.config.eps)
        mask = bias.to(q.dtype).repeat_interleave(per_frame, dim=1)[:, None]
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class RetroRopeHook:
    """Forward hook on ``WanRotaryPosEmbed``: scales the temporal channels of (cos, sin).

    Token j belongs to latent frame j // P (frame-major order); its first ``t_dim`` channels
    (Wan's temporal rotary part) are multiplied by s_n from :func:`retro_scales`.
    """

    def __init__(self, config: TGIConfig) -> None:
        self.config = config
        self._cache: dict[tuple[Any, ...], torch.Tensor] = {}

    def factor(self, frames: int, tokens: int, t_dim: int, like: torch.Tensor) -> torch.Tensor:
        """Per-token, per-channel multiplier of shape (1, tokens, 1, head_dim)."""
        key = (frames, tokens, t_dim, like.shape[-1], like.dtype, like.device)
        if key not in self._cache:
            cfg = self.config
            n = (frames - 1) * cfg.temporal_compression + 1
            scales = retro_scales(
                n,
                s_edge=cfg.s_edge,
                s_mid=cfg.s_mid,
                edge_width=retro_edge_width(n, cfg.edge_widths),
                smooth=cfg.smooth,
                temporal_compression=cfg.temporal_compression,
            )
            per_token = scales.repeat_interleave(tokens // frames).to(like.device, like.dtype)
            factor = torch.ones(1, tokens, 1, like.shape[-1], dtype=like.dtype, device=like.device)
            factor[0, :, 0, :t_dim] = per_token[:, None]
            self._cache[key] = factor
        return self._cache[key]

    def __call__(
        self, module: Any, args: tuple[Any, ...], output: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cos, sin = output
        frames = args[0].shape[2] // module.patch_size[0]
        factor = self.factor(frames, cos.shape[1], module.t_dim, cos)
        return cos * factor, sin * factor


@dataclass
class TGIHandle:
    """What :func:`install_tgi` changed; ``remove()`` restores the stock transformer."""

    transformer: Any
    config: TGIConfig
    state: DenoiseState
    hooks: list[Any] = field(default_factory=list)
    stock_processors: dict[str, Any] = field(default_factory=dict)

    def remove(self) -> None:
        """Remove the hooks and put the stock attention processors back."""
        for hook in self.hooks:
            hook.remove()
        self.hooks.clear()
        if self.stock_processors:
            self.transformer.set_attn_processor(self.stock_processors)
            self.stock_processors = {}


def install_tgi(transformer: Any, config: TGIConfig) -> TGIHandle:
    """Install KAB, ReTRo and isolated cross-attention on a ``WanTransformer3DModel``.

    Only the parts switched on in ``config`` are installed; with all three off the
    transformer is left untouched. Call ``handle.state.reset(num_steps)`` before each
    sampling run so KAB knows the step window.
    """
    state = DenoiseState()
    handle = TGIHandle(transformer, config, state)
    patch = tuple(transformer.config.patch_size)
    if config.kab:

        def observe(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            hidden = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
            timestep = kwargs["timestep"] if "timestep" in kwargs else args[1]
            state.observe(hidden, timestep, patch)

        handle.hooks.append(transformer.register_forward_pre_hook(observe, with_kwargs=True))
    if config.retro:
        handle.hooks.append(transformer.rope.register_forward_hook(RetroRopeHook(config)))
    if config.kab or config.isolate:
        handle.stock_processors = dict(transformer.attn_processors)
        processors = dict(handle.stock_processors)
        for index in range(len(transformer.blocks)):
            name = f"blocks.{index}.attn2.processor"
            if name not in processors:
                raise ValueError(f"transformer has no processor {name}; is it a Wan transformer?")
            processors[name] = TGICrossAttnProcessor(index, config, state)
        transformer.set_attn_processor(processors)
    return handle
