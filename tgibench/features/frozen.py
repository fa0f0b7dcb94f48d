"""The base of every feature network: frozen, and in evaluation mode whatever is asked."""

from __future__ import annotations

from typing import Self

import torch


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
