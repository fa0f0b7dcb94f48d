"""X-CLIP (Ni et al., 2022) text–video similarity through transformers' ``XCLIPModel``.

The backbone ``xclip`` takes one option, ``model``: a Hugging Face model id (default
``$TGIBENCH_XCLIP_MODEL`` or ``microsoft/xclip-base-patch32``, as in the paper) or a local
folder written by ``save_pretrained`` (model and ``XCLIPProcessor``); and ``cache_dir``.
Loading is ``from_pretrained``, so the Hugging Face cache (``HF_HOME``) is used and
``HF_HUB_OFFLINE=1`` is honoured; weights that are neither cached nor downloadable raise
:class:`~tgibench.weights.WeightsUnavailableError`.

X-CLIP sees a fixed number of frames (8 for the released models, ``num_frames`` of its
vision config), sampled uniformly over the whole video including both keyframes:
``round(linspace(0, T - 1, n))``. Frames are preprocessed on tensors with the
processor's own settings (resize shortest edge, centre crop, normalise).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from tgibench.features.backbones import register_backbone
from tgibench.features.clip import FramePreprocess
from tgibench.features.frozen import FrozenNetwork
from tgibench.features.store import FeatureStore, register_feature
from tgibench.video import to_float
from tgibench.weights import WeightsUnavailableError, hub_offline

DEFAULT_XCLIP_MODEL = "microsoft/xclip-base-patch32"
_RESAMPLE = {0: "nearest", 2: "bilinear", 3: "bicubic"}  # PIL resampling codes


def _preprocess_of(image_processor: Any) -> FramePreprocess:
    """The evaluation transform of a transformers (VideoMAE) image processor, on tensors."""
    size, crop = image_processor.size, image_processor.crop_size
    if getattr(size, "shortest_edge", None):
        fit, mode = (size.shortest_edge, size.shortest_edge), "shortest"
    else:
        fit, mode = (size.height, size.width), "squash"
    out = (crop.height, crop.width) if image_processor.do_center_crop else fit
    return FramePreprocess(
        size=out,
        mean=tuple(image_processor.image_mean),
        std=tuple(image_processor.image_std),
        interpolation=_RESAMPLE[int(image_processor.resample)],
        resize_mode=mode,
        fit=fit,
    )


def sample_indices(num_frames: int, n: int) -> torch.Tensor:
    """``n`` frame indices spread uniformly over ``num_frames``, both ends included.

    >>> sample_indices(33, 8).tolist()
    [0, 5, 9, 14, 18, 23, 27, 32]
    """
    return torch.linspace(0, num_frames - 1, n).round().long()


class XCLIPNet(FrozenNetwork):
    """A frozen ``XCLIPModel`` with its tokenizer and frame preprocessing.

    Args:
        model: a transformers ``XCLIPModel``.
        tokenizer: its (CLIP) tokenizer.
        preprocess: its processor's evaluation transform.
        weights: what the weights are (model id or folder).
    """

    def __init__(
        self, model: Any, tokenizer: Any, preprocess: FramePreprocess, weights: str
    ) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.weights = weights
        self.num_frames = int(model.config.vision_config.num_frames)
        self.freeze()

    @torch.no_grad()
    def similarity(self, video: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Cosine similarity (K,) of a (T, 3, H, W) video in [0, 1] with K texts.

        The text embeddings are X-CLIP's video-conditioned ones (its prompt generator);
        the value is ``logits_per_video / logit_scale``, in [-1, 1].
        """
        device = next(self.model.parameters()).device
        frames = video[sample_indices(video.shape[0], self.num_frames)]
        pixels = self.preprocess(to_float(frames).to(device))[None]
        tokens = self.tokenizer(list(texts), padding=True, return_tensors="pt").to(device)
        out = self.model(
            input_ids=tokens["input_ids"],
            attention_mask=tokens["attention_mask"],
            pixel_values=pixels,
        )
        video_embeds = F.normalize(out.video_embeds.float(), dim=-1)  # (1, D)
        text_embeds = F.normalize(out.text_embeds.float(), dim=-1)  # (1, K, D)
        return (text_embeds[0] @ video_embeds[0]).cpu()


def load_xclip(model: str | None = None, cache_dir: str | None = None) -> XCLIPNet:
    """Load an X-CLIP model and its processor by hub id or local folder, frozen.

    ``None`` takes ``$TGIBENCH_XCLIP_MODEL`` or ``microsoft/xclip-base-patch32``.
    """
    from transformers import XCLIPModel, XCLIPProcessor

    source = model or os.environ.get("TGIBENCH_XCLIP_MODEL") or DEFAULT_XCLIP_MODEL
    kwargs: dict[str, Any] = {"cache_dir": cache_dir, "local_files_only": hub_offline()}
    try:
        xclip = XCLIPModel.from_pretrained(source, **kwargs)
        processor = XCLIPProcessor.from_pretrained(source, **kwargs)
    except OSError as exc:  # transformers' "not found locally / on the hub" error
        raise WeightsUnavailableError(
            f"X-CLIP {source}",
            "Set the backbone option (EvalConfig.backbone_options={'xclip': {'model': "
            "'/path/to/folder'}}) or TGIBENCH_XCLIP_MODEL to a save_pretrained folder or a "
            f"hub id; or, with network, run `huggingface-cli download {source}` once to fill "
            f"the Hugging Face cache ($HF_HOME), then HF_HUB_OFFLINE=1 works. "
            f"({str(exc).splitlines()[0]})",
        ) from exc
    return XCLIPNet(xclip, processor.tokenizer, _preprocess_of(processor.image_processor), source)


@register_backbone("xclip")
def _xclip_backbone(model: str | None = None, cache_dir: str | None = None) -> XCLIPNet:
    return load_xclip(model, cache_dir)


@register_feature("xclip", backbones=("xclip",))
def _xclip_feature(store: FeatureStore) -> float:
    """X-CLIP cosine similarity of the video (8 uniformly sampled frames) and its caption."""
    net: XCLIPNet = store.backbone("xclip")
    return float(net.similarity(store.inputs.video, [store.inputs.caption])[0])
