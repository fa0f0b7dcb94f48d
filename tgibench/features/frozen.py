"""The base of every feature network: frozen, and in evaluation mode whatever is asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import torch

if TYPE_CHECKING:
    from tgibench.features.preprocess import FramePreprocess


class FrozenNetwork(torch.nn.Module):
    """A feature network: subclasses call ``self.freeze()`` once their modules exist.

    ``train()`` keeps it in evaluation mode (no dropout, batch-norm running statistics),
    so a metric holding it can be put in training mode without changing its features.
    """

    def freeze(self) -> None:
        """Stop gradients to every parameter and switch to evaluation mode."""
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> Self:
        """A feature network stays in evaluation mode, whatever is asked."""
        return super().train(False)


class ImageTextNetwork(FrozenNetwork):
    """A frozen image-text network (CLIP, X-CLIP): the model, its tokenizer, its frame
    preprocessing (equal to the reference pipeline's) and what its weights are."""

    def __init__(
        self, model: Any, tokenizer: Any, preprocess: FramePreprocess, weights: str
    ) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.weights = weights
