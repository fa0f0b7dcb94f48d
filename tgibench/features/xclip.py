"""X-CLIP (Ni et al., 2022) text–video similarity through transformers' ``XCLIPModel``.

The backbone ``xclip`` takes one option, ``model``: a Hugging Face model id (default
``$TGIBENCH_XCLIP_MODEL`` or ``microsoft/xclip-base-patch32``, as in the paper) or a local
folder written by ``save_pretrained`` (model and ``XCLIPProcessor``); and ``cache_dir``.
Loading is ``from_pretrained``, so the Hugging Face cache (``HF_HOME``) is used and
``HF_HUB_OFFLINE=1`` is honoured; weights that are neither cached nor downloadable raise
:class:`~tgibench.weights.WeightsUnavailableError`.

X-CLIP sees a fixed number of frames (8 for the released models, ``num_frames`` of its
vision config), sampled uniformly over the whole video including both keyframes:
``round(linspace(0, T - 1, n))``. Frames are preprocessed on tensors as
``XCLIPProcessor`` does (its image processor's settings: an 8-bit antialiased resize of
the shortest edge, a centre crop whose offset is rounded down as transformers does,
normalise). Captions longer than the text encoder's context (77 tokens) are truncated as
transformers' tokenizer does with ``truncation=True``; the ``xclip`` feature records it
in the case's notes. The weights must hold every tensor of ``XCLIPModel``: anything less
(which ``from_pretrained`` would fill with random values, with a warning) raises
:class:`~tgibench.weights.WeightsMismatchError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F

from tgibench.features.backbones import register_backbone
from tgibench.features.checkpoint import hf_cached_file
from tgibench.features.clip import note_truncated
from tgibench.features.frozen import ImageTextNetwork
from tgibench.features.preprocess import FramePreprocess
from tgibench.features.store import FeatureStore, register_feature
from tgibench.weights import (
    WeightsLocation,
    WeightsUnavailableError,
    check_complete,
    hf_endpoint,
    hub_offline,
)

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
        crop="floor",  # transformers' center_crop: int((h - crop) / 2)
    )


def sample_indices(num_frames: int, n: int) -> torch.Tensor:
    """``n`` frame indices spread uniformly over ``num_frames``, both ends included.

    >>> sample_indices(33, 8).tolist()
    [0, 5, 9, 14, 18, 23, 27, 32]
    """
    return torch.linspace(0, num_frames - 1, n).round().long()


class XCLIPNet(ImageTextNetwork):
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
        super().__init__(model, tokenizer, preprocess, weights)
        self.num_frames = int(model.config.vision_config.num_frames)
        self.freeze()

    @property
    def context_length(self) -> int:
        """Tokens the text encoder sees (start and end tokens included); longer texts are cut."""
        return int(self.model.config.text_config.max_position_embeddings)

    def token_count(self, text: str) -> int:
        """Tokens of ``text``, start and end tokens included, before any truncation."""
        return len(self.tokenizer(text, verbose=False)["input_ids"])

    @torch.no_grad()
    def similarity(self, video: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Cosine similarity (K,) of a (T, 3, H, W) video in [0, 1] with K texts.

        The text embeddings are X-CLIP's video-conditioned ones (its prompt generator);
        the value is ``logits_per_video / logit_scale``, in [-1, 1]. Texts longer than
        :attr:`context_length` tokens are truncated (transformers' ``truncation=True``).
        """
        device = next(self.model.parameters()).device
        frames = video[sample_indices(video.shape[0], self.num_frames)]
        pixels = self.preprocess(frames.to(device))[None]
        tokens = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.context_length,
            return_tensors="pt",
        ).to(device)
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

    source = _source(model)
    kwargs: dict[str, Any] = {"cache_dir": cache_dir, "local_files_only": hub_offline()}
    try:
        xclip, info = cast(
            tuple[XCLIPModel, dict[str, Any]],
            XCLIPModel.from_pretrained(source, output_loading_info=True, **kwargs),
        )
        processor = XCLIPProcessor.from_pretrained(source, **kwargs)
    except OSError as exc:  # transformers' "not found locally / on the hub" error
        raise WeightsUnavailableError(
            f"X-CLIP {source}", f"{_how(source)} ({str(exc).splitlines()[0]})"
        ) from exc
    # transformers fills missing tensors with random values; unexpected ones (e.g. the
    # position_ids buffers of older checkpoints) it ignores by design, and so do we
    check_complete(
        [*info["missing_keys"], *(key for key, *_ in info.get("mismatched_keys", []))],
        (),
        "X-CLIP",
        source,
        _how(source),
    )
    return XCLIPNet(xclip, processor.tokenizer, _preprocess_of(processor.image_processor), source)


def _source(model: str | None) -> str:
    return model or os.environ.get("TGIBENCH_XCLIP_MODEL") or DEFAULT_XCLIP_MODEL


def _how(source: str) -> str:
    return (
        "Set the backbone option (EvalConfig.backbone_options={'xclip': {'model': "
        "'/path/to/folder'}}) or TGIBENCH_XCLIP_MODEL to a save_pretrained folder or a "
        f"hub id; or, with network, run `huggingface-cli download {source}` once to fill "
        "the Hugging Face cache ($HF_HOME), then HF_HUB_OFFLINE=1 works. See "
        "`tgibench docs weights#x-clip`."
    )


#: What X-CLIP needs of a transformers model folder: its config, the weights and the
#: processor's configuration, each in one of the forms transformers reads (older
#: checkpoints such as microsoft/xclip-base-patch32 have pytorch_model.bin and
#: preprocessor_config.json; transformers 5 writes processor_config.json).
_NEEDED = (
    ("config.json",),
    ("model.safetensors", "pytorch_model.bin"),
    ("preprocessor_config.json", "processor_config.json"),
)


def locate_xclip(model: str | None = None, cache_dir: str | None = None) -> WeightsLocation:
    """Where the X-CLIP model is: a folder or the Hugging Face cache (no network)."""
    source = _source(model)
    folder = Path(source).expanduser()
    remote = None if folder.is_dir() else f"{hf_endpoint()}/{source}"

    def find(name: str) -> str | None:
        if remote is None:
            return str(folder / name) if (folder / name).is_file() else None
        return hf_cached_file(source, name, cache_dir)

    found = [next(filter(None, map(find, names)), None) for names in _NEEDED]
    local = str(Path(found[1]).parent) if found[1] and all(found) else None
    return WeightsLocation(f"X-CLIP {source}", local, remote)


@register_backbone("xclip", locate=locate_xclip, anchor="x-clip")
def _xclip_backbone(model: str | None = None, cache_dir: str | None = None) -> XCLIPNet:
    return load_xclip(model, cache_dir)


@register_feature("xclip", backbones=("xclip",))
def _xclip_feature(store: FeatureStore) -> float:
    """X-CLIP cosine similarity of the video (8 uniformly sampled frames) and its caption.

    A caption longer than X-CLIP's context is truncated and noted.
    """
    net: XCLIPNet = store.backbone("xclip")
    note_truncated(store, "xclip", net, {"caption": store.inputs.caption})
    return float(net.similarity(store.inputs.video, [store.inputs.caption])[0])
