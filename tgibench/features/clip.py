"""CLIP (open_clip) image and text embeddings, computed once per video and shared.

The backbone ``clip`` is any open_clip model. Its options (``Backbones(options={"clip":
{...}})``, i.e. ``EvalConfig.backbone_options``, or :func:`load_clip` arguments) are:

- ``model``: an open_clip architecture ("ViT-B-32", ``open_clip.list_models()``), or
  ``"hf-hub:org/name"`` (an open_clip repository on the Hugging Face hub: its
  ``open_clip_config.json`` and weights), or ``"local-dir:/path"`` (a folder holding the
  same files). Default ``$TGIBENCH_CLIP_MODEL`` or ``"ViT-B-32"``.
- ``pretrained``: an open_clip pretrained tag ("laion2b_s34b_b79k", "openai", ...;
  ``open_clip.list_pretrained_tags_by_model(model)``) or a local checkpoint file (a state
  dict saved with ``torch.save`` or safetensors, as open_clip publishes them). Ignored for
  ``hf-hub:``/``local-dir:`` models. Default ``$TGIBENCH_CLIP_PRETRAINED`` or
  ``"laion2b_s34b_b79k"``. ``"random"`` builds the architecture with random weights, for
  tests only: the network then says so in ``weights``, has ``is_random=True`` and warns.
- ``cache_dir``: where open_clip keeps downloads (default: the Hugging Face cache).

Tags are fetched through ``huggingface_hub``, so ``HF_HUB_OFFLINE=1`` and ``HF_HOME``
work as usual; weights that are neither cached nor downloadable raise
:class:`~tgibench.weights.WeightsUnavailableError` naming them and how to provide them.

Frames are preprocessed on tensors as open_clip's evaluation transform does on PIL images
(an 8-bit antialiased resize, torchvision's centre crop, normalise; see
:class:`FramePreprocess`) and embedded in chunks, so the whole video is never held at the
network's resolution. Texts longer than the text encoder's context (77 tokens) are
truncated by open_clip's tokenizer, as open_clip does; the ``clip`` feature records each
truncation in the case's notes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import torch
import torch.nn.functional as F

from tgibench.features.backbones import register_backbone
from tgibench.features.checkpoint import check_load
from tgibench.features.clip_weights import (
    RANDOM_INIT,
    clip_defaults,
    clip_how,
    fetch_clip_weights,
    locate_clip,
)
from tgibench.features.frozen import ImageTextNetwork
from tgibench.features.preprocess import FramePreprocess
from tgibench.features.store import FeatureStore, register_feature
from tgibench.video import frames_per_chunk


class CLIPNet(ImageTextNetwork):
    """A frozen open_clip model that embeds frames and texts, L2-normalised.

    Args:
        model: an open_clip CLIP model (``encode_image``, ``encode_text``).
        tokenizer: its open_clip tokenizer (list of str → token ids).
        preprocess: the evaluation transform of its weights.
        weights: what the weights are, e.g. ``"ViT-B-32 laion2b_s34b_b79k"``.
        is_random: True when the weights are a random initialisation (tests only).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        preprocess: FramePreprocess,
        weights: str,
        is_random: bool = False,
    ) -> None:
        super().__init__(model, tokenizer, preprocess, weights)
        self.is_random = is_random
        self.freeze()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def encode_images(self, images: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """Unit-norm embeddings (N, D), float32 on the CPU, of (N, 3, H, W) images in [0, 1].

        Images are resized and embedded ``chunk`` at a time (default: up to 16, as many
        as fit in ``tgibench.video.checks.CHUNK_PIXELS``); uint8 images are welcome.
        """
        step = chunk or frames_per_chunk(images, most=16)
        parts = [
            self.model.encode_image(  # type: ignore[operator]
                self.preprocess(images[start : start + step].to(self.device))
            )
            for start in range(0, images.shape[0], step)
        ]
        return F.normalize(torch.cat(parts).float(), dim=-1).cpu()

    @property
    def context_length(self) -> int:
        """Tokens the text encoder sees (start and end tokens included); longer texts are cut."""
        length = getattr(self.tokenizer, "context_length", None) or self.model.context_length
        return int(cast(int, length))

    def token_count(self, text: str) -> int:
        """Tokens of ``text``, start and end tokens included, before any truncation."""
        from open_clip.tokenizer import HFTokenizer

        if isinstance(self.tokenizer, HFTokenizer):
            tokens = self.tokenizer.tokenizer(self.tokenizer.clean_fn(text), verbose=False)
            return len(tokens["input_ids"])
        return len(self.tokenizer.encode(text)) + 2  # SimpleTokenizer: start + text + end

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """Unit-norm embeddings (K, D), float32 on the CPU, of K texts.

        Texts longer than :attr:`context_length` tokens are truncated by the tokenizer (the
        end token kept), as open_clip does.
        """
        tokens = self.tokenizer(list(texts)).to(self.device)
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1).cpu()  # type: ignore[operator]


def load_clip(
    model: str | None = None, pretrained: str | None = None, cache_dir: str | None = None
) -> CLIPNet:
    """Build an open_clip model with its weights, frozen, as a :class:`CLIPNet`.

    ``None`` arguments take the defaults described in the module docstring
    (``$TGIBENCH_CLIP_MODEL``/``$TGIBENCH_CLIP_PRETRAINED``, else ViT-B-32
    laion2b_s34b_b79k). ``pretrained="random"`` gives a random initialisation. The
    weights file must hold every tensor of the model (after open_clip's own conversions
    of older layouts); anything less raises
    :class:`~tgibench.weights.WeightsMismatchError` naming the file and the tensors.

    >>> net = load_clip("ViT-S-32", "random")  # doctest: +SKIP
    >>> net.encode_texts(["a cat"]).shape  # doctest: +SKIP
    torch.Size([1, 384])
    """
    model, pretrained = clip_defaults(model, pretrained)
    import open_clip

    is_random = pretrained == RANDOM_INIT
    checkpoint = None
    if is_random:
        weights = f"{model} RANDOM INIT (not pretrained: scores are meaningless)"
        warnings.warn(f"CLIP {weights}; use it for tests only", UserWarning, stacklevel=2)
    else:
        weights, checkpoint = fetch_clip_weights(model, pretrained, cache_dir)
    schema = model.startswith(("hf-hub:", "local-dir:"))
    tag = None if schema or is_random else open_clip.get_pretrained_cfg(model, pretrained)
    clip_model, _, _ = open_clip.create_model_and_transforms(
        model,
        pretrained=None if schema or is_random else pretrained,
        load_weights=False,  # loaded below, refusing incomplete files
        cache_dir=cache_dir,
        force_quick_gelu=bool(tag and tag.get("quick_gelu")),  # e.g. ViT-B-32 "openai"
    )
    if checkpoint is not None:
        check_load(
            lambda: open_clip.load_checkpoint(clip_model, str(checkpoint), strict=False),
            f"CLIP {model}",
            checkpoint,
            clip_how(model),
        )
    cfg = clip_model.visual.preprocess_cfg  # type: ignore[union-attr]
    size = cfg["size"] if isinstance(cfg["size"], (tuple, list)) else (cfg["size"], cfg["size"])
    preprocess = FramePreprocess(
        size=(int(size[0]), int(size[1])),
        mean=tuple(cfg["mean"]),
        std=tuple(cfg["std"]),
        interpolation=cfg["interpolation"],
        resize_mode=cfg["resize_mode"],
        fill=cfg.get("fill_color", 0) / 255,
    )
    tokenizer = open_clip.get_tokenizer(model, cache_dir=cache_dir)
    return CLIPNet(clip_model, tokenizer, preprocess, weights, is_random)


@register_backbone("clip", locate=locate_clip, anchor="clip")
def _clip_backbone(
    model: str | None = None, pretrained: str | None = None, cache_dir: str | None = None
) -> CLIPNet:
    return load_clip(model, pretrained, cache_dir)


@dataclass(frozen=True)
class CLIPEmbeddings:
    """CLIP embeddings of one case, each unit-norm, float32.

    ``frames``: (T, D), one per generated frame; ``caption``, ``first_desc``,
    ``last_desc``: (D,) embeddings of the case's texts, or None when a text is empty.
    """

    frames: torch.Tensor
    caption: torch.Tensor | None = None
    first_desc: torch.Tensor | None = None
    last_desc: torch.Tensor | None = None


class TextEncoder(Protocol):
    """A network with a text encoder of limited context (CLIP, X-CLIP)."""

    @property
    def context_length(self) -> int: ...

    def token_count(self, text: str) -> int: ...


def note_truncated(
    store: FeatureStore, feature: str, net: TextEncoder, texts: dict[str, str]
) -> None:
    """Record in the case's notes which of ``texts`` (name → text) ``net`` truncates."""
    limit = net.context_length
    cut = [
        f"{name} truncated to {limit} tokens (had {count})"
        for name, count in ((name, net.token_count(text)) for name, text in texts.items())
        if count > limit
    ]
    if cut:
        store.note(feature, "; ".join(cut))


@register_feature("clip", backbones=("clip",))
def _clip_feature(store: FeatureStore) -> CLIPEmbeddings:
    """CLIP embeddings of every frame (one pass) and of the case's texts (encoded once).

    Texts longer than CLIP's context are truncated (open_clip's tokenizer) and noted.
    """
    net: CLIPNet = store.backbone("clip")
    inputs = store.inputs
    texts = {
        key: text
        for key, text in (
            ("caption", inputs.caption),
            ("first_desc", inputs.first_desc),
            ("last_desc", inputs.last_desc),
        )
        if text
    }
    note_truncated(store, "clip", net, texts)
    encoded = net.encode_texts(list(texts.values())) if texts else None
    embedded = {key: encoded[i] for i, key in enumerate(texts)} if encoded is not None else {}
    return CLIPEmbeddings(frames=net.encode_images(inputs.video), **embedded)
