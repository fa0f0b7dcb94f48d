"""GI's rotated temporal self-attention, installed on diffusers' stock SVD UNet.

Generative Inbetweening (Wang et al., ICLR 2025) runs the image-to-video UNet twice per
step: forward in time, conditioned on the first keyframe, and on the time-reversed clip,
conditioned on the last. In the backward pass every temporal self-attention layer uses
the forward pass's attention map of the same layer rotated by 180 degrees (both frame axes
reversed: the map between frames i and j becomes the map between F-1-i and F-1-j, which
are the same two frames seen in reverse), and its own value and output projections, which
the authors fine-tuned for reverse motion. Query and key of the backward pass are unused.

One processor per temporal self-attention layer (``...temporal_transformer_blocks.N.attn1``)
does both passes on one UNet: :class:`GiAttentionState` says which pass runs; the
fine-tuned projections live in the processor (an ``nn.Module``, so they move with the
UNet), and every other layer keeps its stock processor. Shapes: hidden states
(B·h·w, F, C) as SVD's temporal blocks pass them; attention maps (B·h·w·heads, F, F).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

#: The temporal self-attention layers of diffusers' UNetSpatioTemporalConditionModel.
TEMPORAL_SELF_ATTENTION = ".temporal_transformer_blocks."
#: The projections GI's reverse-motion fine-tune changed in each of those layers.
REVERSE_PROJECTIONS = ("to_v.weight", "to_out.0.weight", "to_out.0.bias")


def temporal_attention_layers(processor_names: list[str]) -> list[str]:
    """The module paths of the temporal self-attention layers among a UNet's
    ``attn_processors`` keys (``<path>.processor``), in the UNet's order."""
    return [
        name.removesuffix(".processor")
        for name in processor_names
        if TEMPORAL_SELF_ATTENTION in name and name.endswith(".attn1.processor")
    ]


def rotate_attention_map(probs: torch.Tensor) -> torch.Tensor:
    """A temporal attention map (..., F, F) rotated by 180 degrees: both frame axes reversed."""
    return torch.flip(probs, dims=(-2, -1))


@dataclass
class GiAttentionState:
    """Which pass the UNet is running, and the forward pass's maps for the backward one.

    Attributes:
        mode: "stock" (plain attention: SVD itself), "forward" (record each layer's map)
            or "backward" (use the rotated recorded maps and the reverse projections).
        maps: layer path → attention map (B·h·w·heads, F, F) of the last forward pass.
    """

    mode: str = "stock"
    maps: dict[str, torch.Tensor] = field(default_factory=dict)


class RotatedTemporalAttention(torch.nn.Module):
    """Processor of one temporal self-attention layer for GI's two passes.

    Args:
        layer: the layer's module path (key of the recorded map).
        state: the pass shared by all layers.
        stock: the layer's stock processor (used in "stock" mode, and in the forward pass
            when ``rotate`` is off).
        rotate: use the forward map rotated in the backward pass (else the backward pass
            attends with its own query and key).
        reverse: the layer's reverse-motion ``to_v.weight``, ``to_out.0.weight`` and
            ``to_out.0.bias`` for the backward pass; None keeps the layer's own.
    """

    def __init__(
        self,
        layer: str,
        state: GiAttentionState,
        stock: Any,
        rotate: bool = True,
        reverse: dict[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.layer, self.state, self.stock, self.rotate = layer, state, stock, rotate
        self.reverse = reverse is not None
        for key, tensor in (reverse or {}).items():
            self.register_buffer(key.replace(".", "_"), tensor.detach().clone())

    def __call__(  # type: ignore[override]
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        mode = self.state.mode
        if mode == "stock" or (mode == "forward" and not self.rotate):
            return self.stock(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if encoder_hidden_states is not None or attention_mask is not None:
            raise ValueError(f"{self.layer}: GI's processor handles temporal self-attention only")
        if mode == "forward":
            probs = self._own_map(attn, hidden_states)
            self.state.maps[self.layer] = probs
            return self._attend(attn, probs, hidden_states, backward=False)
        if mode != "backward":
            raise ValueError(f"unknown GI attention mode {mode!r}")
        if self.rotate:
            if self.layer not in self.state.maps:
                raise RuntimeError(f"{self.layer}: the backward pass ran before a forward pass")
            probs = rotate_attention_map(self.state.maps[self.layer])
        else:
            probs = self._own_map(attn, hidden_states)
        return self._attend(attn, probs, hidden_states, backward=True)

    @staticmethod
    def _own_map(attn: Any, hidden_states: torch.Tensor) -> torch.Tensor:
        """softmax(q·k^T·scale) per head, (B·heads, F, F), as diffusers' explicit processor."""
        query = attn.head_to_batch_dim(attn.to_q(hidden_states))
        key = attn.head_to_batch_dim(attn.to_k(hidden_states))
        return attn.get_attention_scores(query, key, None)

    def _attend(
        self, attn: Any, probs: torch.Tensor, hidden_states: torch.Tensor, backward: bool
    ) -> torch.Tensor:
        """probs @ V, then the output projection; the reverse projections when asked."""
        if backward and self.reverse:
            v_weight, out_weight, out_bias = (
                self.get_buffer(key.replace(".", "_")).to(hidden_states)
                for key in REVERSE_PROJECTIONS
            )
            value = torch.nn.functional.linear(hidden_states, v_weight)
        else:
            value = attn.to_v(hidden_states)
            out_weight, out_bias = attn.to_out[0].weight, attn.to_out[0].bias
        value = attn.head_to_batch_dim(value)
        out = attn.batch_to_head_dim(torch.bmm(probs.to(value.dtype), value))
        out = torch.nn.functional.linear(out, out_weight, out_bias)
        return attn.to_out[1](out) / attn.rescale_output_factor


@dataclass
class GiAttentionHandle:
    """What :func:`install_gi_attention` changed; ``remove()`` restores the stock UNet."""

    unet: Any
    state: GiAttentionState
    stock_processors: dict[str, Any]

    def remove(self) -> None:
        """Put the stock attention processors back."""
        self.unet.set_attn_processor(dict(self.stock_processors))


def install_gi_attention(
    unet: Any, rotate: bool = True, reverse: dict[str, dict[str, torch.Tensor]] | None = None
) -> GiAttentionHandle:
    """Install :class:`RotatedTemporalAttention` on every temporal self-attention layer of a
    ``UNetSpatioTemporalConditionModel``.

    Args:
        unet: the stock SVD UNet.
        rotate: backward pass with the forward maps rotated.
        reverse: layer path → its reverse-motion projections (:data:`REVERSE_PROJECTIONS`);
            None keeps every layer's own.

    Returns:
        the handle; set ``handle.state.mode`` before each UNet call.
    """
    stock = dict(unet.attn_processors)
    layers = temporal_attention_layers(list(stock))
    if not layers:
        raise ValueError("the UNet has no temporal self-attention layers; is it an SVD UNet?")
    if reverse is not None and set(reverse) != set(layers):
        raise ValueError(
            f"the reverse-motion weights cover {len(reverse)} layers, not the UNet's "
            f"{len(layers)} temporal self-attention layers; are they for another UNet?"
        )
    state = GiAttentionState()
    processors = dict(stock)
    for layer in layers:
        weights = reverse[layer] if reverse is not None else None
        processors[f"{layer}.processor"] = RotatedTemporalAttention(
            layer, state, stock[f"{layer}.processor"], rotate, weights
        )
    unet.set_attn_processor(processors)
    return GiAttentionHandle(unet, state, stock)
