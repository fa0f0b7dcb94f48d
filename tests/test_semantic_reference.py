"""CLIP and X-CLIP scores equal their reference pipelines at every frame size, long texts.

References: open_clip's own evaluation transform on PIL images (CLIP) and transformers'
``XCLIPProcessor`` + ``XCLIPModel`` (X-CLIP), fed the same uint8 frames. Frame sizes
include the mini-bench's 160x288 and sizes whose crop margin is odd after resizing,
where torchvision's centre crop (round) and transformers' (floor) start a pixel apart.
Random-init networks (no weights offline): the pipelines must agree whatever the weights.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from test_weights_loading_semantic import random_clip, save_tiny_xclip

from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.features.clip import CLIPNet
from tgibench.features.store import ScoringInputs
from tgibench.features.xclip import XCLIPNet, load_xclip, sample_indices
from tgibench.metrics import select_metrics
from tgibench.metrics.functional import clip_score, clipsim_frames, desc_trajectory, xclip_score
from tgibench.metrics.functional.semantic import adjacent_cosine, text_cosine, trajectory_parts

#: (H, W): the mini-bench's size, then sizes with odd margins after resizing to 224 (and
#: to 32 for the small X-CLIP), a portrait one and one smaller than the crop.
SIZES = [(160, 288), (96, 161), (48, 95), (200, 120), (20, 30)]
CAPTION = "a red car drives along a coastal road at sunset"


def _video(size: tuple[int, int], frames: int = 9) -> torch.Tensor:
    """A real photograph (scikit-image's astronaut, 512x512) panning 3 px a frame, as uint8
    (what the runner scores)."""
    from skimage.data import astronaut

    image = torch.from_numpy(astronaut()).permute(2, 0, 1)
    h, w = size
    return torch.stack(
        [image[:, 100 : 100 + h, 3 * t + 50 : 3 * t + 50 + w] for t in range(frames)]
    )


@pytest.fixture(scope="module")
def clip_net() -> CLIPNet:
    return random_clip("ViT-S-32")


@pytest.fixture(
    scope="module", params=[(224, 32, 2), (32, 16, 3)], ids=["224-bilinear", "32-bicubic"]
)
def xclip_folder(request, tmp_path_factory):
    image_size, patch, resample = request.param
    return save_tiny_xclip(
        tmp_path_factory.mktemp("xclip") / "tiny", 0, image_size, patch, resample
    )


def _open_clip_reference(net: CLIPNet, video: torch.Tensor) -> torch.Tensor:
    """Unit frame embeddings (T, D) through open_clip's PIL evaluation transform."""
    from open_clip.transform import PreprocessCfg, image_transform_v2

    transform = image_transform_v2(PreprocessCfg(**net.model.visual.preprocess_cfg), False)
    pixels = torch.stack([transform(Image.fromarray(f.permute(1, 2, 0).numpy())) for f in video])
    with torch.no_grad():
        return F.normalize(net.model.encode_image(pixels).float(), dim=-1)


@pytest.mark.parametrize("size", SIZES)
def test_clip_scores_equal_open_clip_pil_pipeline(clip_net, size):
    """clip_score and clipsim_frames to 1e-5 of open_clip's PIL pipeline (measured: ≤ 4e-6).

    PyTorch's uint8 resize follows PIL's to within one level on ~0.5% of pixels, so the
    embeddings agree to a cosine of 1 - 3e-7, not bit for bit. desc_trajectory is compared
    through its progress d(t), which is continuous in the embeddings; its score (a ratio
    of the largest step to the sum of steps) amplifies 1e-6 changes when the steps are as
    small as a random network makes them (8e-4 measured at 20x30; even embedding an anchor
    alone rather than in the video's batch moves it by 1e-3), so the score is checked to
    follow d(t) exactly.
    """
    video = _video(size)
    reference = _open_clip_reference(clip_net, video)
    ours = clip_net.encode_images(video)
    assert float((ours * reference).sum(-1).min()) > 1 - 1e-6
    text = clip_net.encode_texts([CAPTION])[0]
    assert float(clip_score(video, CAPTION, net=clip_net)) == pytest.approx(
        float(text_cosine(reference, text).mean()), abs=1e-5
    )
    assert float(clipsim_frames(video, net=clip_net)) == pytest.approx(
        float(adjacent_cosine(reference).mean()), abs=1e-5
    )
    first, last = ours[0], ours[-1]
    torch.testing.assert_close(
        trajectory_parts(ours, first, last).progress,
        trajectory_parts(reference, reference[0], reference[-1]).progress,
        atol=5e-5,  # a difference of two cosines, each within ~1e-5 (measured ≤ 1.1e-5)
        rtol=0,
    )
    anchors = [clip_net.encode_images(frame[None])[0] for frame in (video[0], video[-1])]
    score = float(desc_trajectory(video, video[0], video[-1], net=clip_net))
    assert score == pytest.approx(trajectory_parts(ours, *anchors).score, abs=1e-6)


def _processor_pixels(folder, video: torch.Tensor) -> torch.Tensor:
    from transformers import XCLIPProcessor

    processor = XCLIPProcessor.from_pretrained(folder)
    frames = list(video.permute(0, 2, 3, 1).numpy())
    return processor(videos=frames, return_tensors="pt")["pixel_values"][0]


@pytest.mark.parametrize("size", SIZES)
def test_xclip_score_equals_the_transformers_pipeline(xclip_folder, size):
    """Same pixels as XCLIPProcessor (to float rounding) and the score to 1e-4 (in fact 1e-6)."""
    from transformers import XCLIPModel, XCLIPProcessor

    net = load_xclip(str(xclip_folder))
    video = _video(size, 17)
    sampled = video[sample_indices(17, net.num_frames)]
    pixels = _processor_pixels(xclip_folder, sampled)
    torch.testing.assert_close(net.preprocess(sampled), pixels, atol=1e-5, rtol=0)
    model = XCLIPModel.from_pretrained(xclip_folder).eval()
    tokens = XCLIPProcessor.from_pretrained(xclip_folder)(text=[CAPTION], return_tensors="pt")
    with torch.no_grad():
        out = model(pixel_values=pixels[None], **tokens)
        expected = float(out.logits_per_video[0, 0] / model.logit_scale.exp())
    assert float(xclip_score(video, CAPTION, net=net)) == pytest.approx(expected, abs=1e-4)


def test_a_rounded_crop_would_be_a_pixel_off(xclip_folder):
    """At 160x288 resized to 224 the margin is 179: transformers starts at 89, round() at 90."""
    from dataclasses import replace

    net = load_xclip(str(xclip_folder))
    size = (160, 288) if net.preprocess.size == (224, 224) else (48, 95)
    video = _video(size, 8)
    pixels = _processor_pixels(xclip_folder, video)
    rounded = replace(net.preprocess, crop="round")
    assert float((rounded(video) - pixels).abs().max()) > 0.1
    assert float((net.preprocess(video) - pixels).abs().max()) < 1e-5


def _words(net, tokens: int) -> str:
    """A caption of exactly ``tokens`` tokens (start and end included) for ``net``."""
    words, text = CAPTION.split(), ""
    for i in range(10_000):
        longer = f"{text} {words[i % len(words)]}".strip()
        if net.token_count(longer) > tokens:
            break
        text = longer
    assert net.token_count(text) == tokens
    return text


def test_long_captions_are_truncated_scored_and_noted(clip_net, tmp_path):
    """A 120-token caption: every semantic metric of its case has a value, and notes say so."""
    folder = save_tiny_xclip(tmp_path / "xclip")
    caption = _words(clip_net, 120)
    video = _video((40, 56), 9)
    backbones = Backbones(options={"xclip": {"model": str(folder)}})
    backbones.put("clip", clip_net)
    inputs = ScoringInputs(
        video=video,
        target=video,
        first=video[0],
        last=video[-1],
        caption=caption,
        first_desc=caption,
        last_desc="the car on the right",
    )
    names = ["clipsim_frames", "clip_score", "desc_trajectory", "xclip_score"]
    scores = score_video(inputs, select_metrics(names), backbones)
    assert all(scores.values[name] is not None for name in names), scores
    xnet: XCLIPNet = backbones.get("xclip")
    had = xnet.token_count(caption)
    assert had > 77 and clip_net.context_length == xnet.context_length == 77
    assert scores.notes == {
        "clip": "caption truncated to 77 tokens (had 120); first_desc truncated to 77 tokens "
        "(had 120)",
        "xclip": f"caption truncated to 77 tokens (had {had})",
    }
    # X-CLIP truncates as transformers does with truncation=True, max_length=77
    from transformers import XCLIPModel, XCLIPProcessor

    model = XCLIPModel.from_pretrained(folder).eval()
    processor = XCLIPProcessor.from_pretrained(folder)
    sampled = video[sample_indices(9, 8)]
    reference = processor(
        text=[caption],
        videos=list(sampled.permute(0, 2, 3, 1).numpy()),
        truncation=True,
        max_length=77,
        return_tensors="pt",
    )
    with torch.no_grad():
        out = model(**reference)
        expected = float(out.logits_per_video[0, 0] / model.logit_scale.exp())
    assert scores.values["xclip_score"] == pytest.approx(expected, abs=1e-5)
    short = ScoringInputs(video=video, caption="a red car")
    assert not score_video(short, select_metrics(["clip_score", "xclip_score"]), backbones).notes
