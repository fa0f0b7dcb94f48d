"""Semantic metrics and CLIPSIM-frames: maths on controlled embeddings, open_clip as the
reference, videos whose answer is known, metric classes, the runner, the VQA hook.

CLIP runs random-init here (no weights offline): its text embeddings mean nothing, so the
video-level checks of desc_trajectory anchor on keyframe images (which random features do
track) and the text path is checked for plumbing only.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import natural_pan
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from test_weights_loading_semantic import random_clip, save_tiny_xclip
from torchmetrics import MetricCollection

from tgibench.eval.scoring import score_video
from tgibench.features.backbones import Backbones
from tgibench.features.clip import CLIPNet, FramePreprocess
from tgibench.features.store import FeatureStore, ScoringInputs
from tgibench.features.xclip import load_xclip
from tgibench.metrics import CLIPScore, CLIPSIMFrames, DescTrajectory, XCLIPScore, select_metrics
from tgibench.metrics import semantic as semantic_module
from tgibench.metrics.functional import (
    clip_score,
    clipsim_frames,
    desc_trajectory,
    trajectory_parts,
    vqa_score,
    xclip_score,
)
from tgibench.metrics.functional.semantic import adjacent_cosine, text_cosine
from tgibench.registry import Registry

SEMANTIC = ["clipsim_frames", "clip_score", "desc_trajectory", "xclip_score"]
FIRST, LAST = torch.eye(3)[0], torch.eye(3)[1]


@pytest.fixture(scope="module")
def net() -> CLIPNet:
    return random_clip("ViT-S-32")


@pytest.fixture(scope="module")
def xclip_folder(tmp_path_factory):
    return save_tiny_xclip(tmp_path_factory.mktemp("xclip") / "tiny")


def progress_embeddings(d: list[float] | torch.Tensor) -> torch.Tensor:
    """Unit (T, 3) rows whose cosines to FIRST and LAST differ by exactly ``d`` (|d| < 1)."""
    d = torch.as_tensor(d, dtype=torch.float64)
    a, b = (0.5 - d) / 2, (0.5 + d) / 2
    return torch.stack([a, b, (1 - a**2 - b**2).sqrt()], 1)


def pair_order_share(d: list[float]) -> float:
    """Independent monotonicity: share of pairs i < j with d[j] > d[i], ties ½."""
    pairs = list(itertools.combinations(d, 2))
    return sum(1.0 if b > a else 0.5 if b == a else 0.0 for a, b in pairs) / len(pairs)


# ---- desc_trajectory on controlled trajectories -------------------------------------------


def test_linear_progress_scores_one_and_reversed_zero():
    d = np.linspace(-0.4, 0.4, 11).tolist()
    forward = trajectory_parts(progress_embeddings(d), FIRST, LAST)
    assert (forward.monotonicity, forward.endpoints) == (1.0, 1.0)
    assert forward.smoothness == pytest.approx(1.0) and forward.score == pytest.approx(1.0)
    torch.testing.assert_close(forward.progress, torch.tensor(d, dtype=torch.float32))
    backward = trajectory_parts(progress_embeddings(d[::-1]), FIRST, LAST)
    assert (backward.monotonicity, backward.endpoints, backward.score) == (0.0, 0.0, 0.0)
    assert backward.smoothness == pytest.approx(1.0)


def test_shuffled_back_and_forth_and_stall_then_jump():
    linear = np.linspace(-0.4, 0.4, 11)
    shuffled = linear[[0, 6, 2, 9, 4, 1, 8, 3, 7, 5, 10]].tolist()
    zigzag = [-0.4, -0.2, 0.0, 0.2, 0.0, -0.2, 0.0, 0.2, 0.4]
    stall = [-0.4] * 5 + [0.4] * 6
    for d in (shuffled, zigzag, stall):
        parts = trajectory_parts(progress_embeddings(d), FIRST, LAST)
        assert parts.monotonicity == pytest.approx(pair_order_share(d))
        assert parts.endpoints == 1.0
        steps = np.abs(np.diff(d))
        expected_smooth = (1 - steps.max() / steps.sum()) / (1 - 1 / len(steps))
        assert parts.smoothness == pytest.approx(expected_smooth)
        assert parts.score == pytest.approx(parts.monotonicity * parts.smoothness)
        assert parts.score < 0.8
    stalled = trajectory_parts(progress_embeddings(stall), FIRST, LAST)
    assert stalled.monotonicity == pytest.approx((5 * 6 + 0.5 * (10 + 15)) / 55)
    assert (stalled.smoothness, stalled.score) == (0.0, 0.0)


def test_frozen_and_biased_endpoints():
    frozen = trajectory_parts(progress_embeddings([0.1] * 6), FIRST, LAST)
    assert (frozen.monotonicity, frozen.endpoints, frozen.smoothness) == (0.5, 0.5, 0.0)
    biased = trajectory_parts(progress_embeddings(np.linspace(0.1, 0.5, 6)), FIRST, LAST)
    assert (biased.monotonicity, biased.endpoints) == (1.0, 0.5)  # never nearer FIRST
    half_jump = [-0.4, -0.3, -0.2, 0.2, 0.3, 0.4]  # one step carries 0.4 of 0.8
    parts = trajectory_parts(progress_embeddings(half_jump), FIRST, LAST)
    assert parts.smoothness == pytest.approx((1 - 0.5) / (1 - 1 / 5))
    with pytest.raises(ValueError, match=r"\(T, D\)"):
        trajectory_parts(torch.zeros(1, 3), FIRST, LAST)


embeddings = st.integers(2, 12).flatmap(
    lambda t: st.lists(
        st.lists(st.floats(-1, 1, allow_nan=False), min_size=4, max_size=4),
        min_size=t,
        max_size=t,
    )
)


@settings(max_examples=60, deadline=None)
@given(embeddings, st.floats(0.1, 10), st.randoms(use_true_random=False))
def test_properties_on_random_embeddings(rows, scale, rng):
    frames = torch.tensor(rows, dtype=torch.float64) + 1e-3  # no all-zero rows
    first, last = torch.tensor([1.0, 0.2, 0.0, -0.3]), torch.tensor([0.0, 1.0, 0.5, 0.1])
    first, last = first.double(), last.double()
    parts = trajectory_parts(frames, first, last)
    for value in (parts.monotonicity, parts.endpoints, parts.smoothness, parts.score):
        assert 0.0 <= value <= 1.0
    # invariant to the scale of the embeddings; reversal mirrors direction, keeps smoothness
    scaled = trajectory_parts(frames * scale, first, last)
    assert scaled.monotonicity == pytest.approx(parts.monotonicity)
    reverse = trajectory_parts(frames.flip(0), first, last)
    assert reverse.monotonicity == pytest.approx(1 - parts.monotonicity)
    assert reverse.smoothness == pytest.approx(parts.smoothness, abs=1e-9)
    # cosines lie in [-1, 1], are symmetric, and clip_score is blind to frame order
    pairs = adjacent_cosine(frames)
    assert bool(((pairs >= -1 - 1e-9) & (pairs <= 1 + 1e-9)).all())
    torch.testing.assert_close(adjacent_cosine(frames.flip(0)), pairs.flip(0))
    order = list(range(len(rows)))
    rng.shuffle(order)
    assert float(text_cosine(frames[order], last).mean()) == pytest.approx(
        float(text_cosine(frames, last).mean())
    )
    torch.testing.assert_close(
        text_cosine(frames, last), F.cosine_similarity(last[None], frames, dim=-1)
    )


def test_docstring_examples_run():
    import doctest

    import tgibench.features.clip
    import tgibench.features.xclip
    import tgibench.metrics.functional.semantic

    for module in (
        tgibench.features.clip,
        tgibench.features.xclip,
        tgibench.metrics.functional.semantic,
    ):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_clipsim_identity_and_orthogonal():
    assert adjacent_cosine(torch.ones(5, 8)).tolist() == pytest.approx([1.0] * 4)
    assert adjacent_cosine(torch.eye(6)).tolist() == [0.0] * 5
    assert adjacent_cosine(torch.tensor([[1.0, 0.0], [-2.0, 0.0]])).item() == pytest.approx(-1)


# ---- CLIP on videos --------------------------------------------------------------------------


def test_tensor_preprocessing_matches_open_clip_pil(net):
    """Our tensor resize/crop/normalise ≈ open_clip's PIL transform; embeddings agree."""
    from open_clip.transform import PreprocessCfg, image_transform_v2

    pil_transform = image_transform_v2(PreprocessCfg(**net.model.visual.preprocess_cfg), False)
    for video in (natural_pan(3, 8.0, size=(96, 128)), natural_pan(3, 8.0, size=(160, 200))):
        u8 = (video * 255).round().byte()
        reference = torch.stack(
            [pil_transform(Image.fromarray(f.permute(1, 2, 0).numpy())) for f in u8]
        )
        ours = net.preprocess(u8.float() / 255)
        assert ours.shape == reference.shape == (3, 3, 224, 224)
        assert float((ours - reference).abs().mean()) < 0.01
        with torch.no_grad():
            expected = F.normalize(net.model.encode_image(reference), dim=-1)
        assert float((net.encode_images(u8.float() / 255) * expected).sum(-1).min()) > 0.999
    down = FramePreprocess((4, 4), (0.0,), (1.0,), interpolation="bilinear")
    grey = 128 / 255  # frames are resized as 8-bit images: a uint8 level stays itself
    torch.testing.assert_close(
        down(torch.full((1, 3, 8, 16), grey)), torch.full((1, 3, 4, 4), grey)
    )


def test_clip_score_and_clipsim_against_direct_open_clip(net):
    video = natural_pan(7, 16.0)
    caption = "an astronaut in a white suit"
    with torch.no_grad():
        frames = F.normalize(net.model.encode_image(net.preprocess(video)), dim=-1)
        text = F.normalize(net.model.encode_text(net.tokenizer([caption])), dim=-1)[0]
    per_frame = clip_score(video, caption, reduction="none", net=net)
    torch.testing.assert_close(per_frame, frames @ text, atol=1e-5, rtol=0)
    per_pair = clipsim_frames(video, reduction="none", net=net)
    torch.testing.assert_close(per_pair, (frames[:-1] * frames[1:]).sum(-1), atol=1e-5, rtol=0)
    frozen = video[:1].expand(5, -1, -1, -1)
    assert float(clipsim_frames(frozen, net=net)) == pytest.approx(1.0, abs=1e-5)
    # frame order: clip_score unchanged, clipsim_frames changes
    order = torch.tensor([0, 4, 2, 6, 1, 5, 3])
    assert float(clip_score(video[order], caption, net=net)) == pytest.approx(
        float(per_frame.mean()), abs=1e-6
    )
    batch = clip_score(torch.stack([video, video.flip(0)]), caption, net=net)
    assert batch.shape == (2,) and float(batch[0]) == pytest.approx(float(batch[1]), abs=1e-6)


def _crossfade(num_frames: int = 17) -> torch.Tensor:
    from skimage import data

    def photo(image: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(image).permute(2, 0, 1).float() / 255
        return F.interpolate(x[None], size=(96, 128), mode="area")[0]

    t = torch.linspace(0, 1, num_frames).view(-1, 1, 1, 1)
    return (1 - t) * photo(data.chelsea()) + t * photo(data.coffee())


def _variants(video: torch.Tensor) -> dict[str, torch.Tensor]:
    """The video re-ordered in the ways a bad inbetween goes wrong (keyframes kept)."""
    n = video.shape[0]
    middle = torch.randperm(n - 2, generator=torch.Generator().manual_seed(0)) + 1
    half = n // 2
    # forward to 3/4 of the way, back to 1/4, forward to the end
    position = np.interp(np.linspace(0, 1, n), [0, 0.4, 0.6, 1], [0, 0.75, 0.25, 1])
    there_and_back = np.round(position * (n - 1)).astype(int).tolist()
    return {
        "forward": video,
        "back_and_forth": video[there_and_back],
        "shuffled": video[torch.cat([torch.tensor([0]), middle, torch.tensor([n - 1])])],
        "stall_then_jump": video[[0] * half + [n - 1] * (n - half)],
        "reversed": video.flip(0),
    }


@pytest.mark.parametrize("clip_name", ["natural_pan", "crossfade"])
def test_image_anchored_trajectory_ranks_reordered_videos(net, clip_name):
    """On real photographs, anchored on the given keyframes: forward beats every reordering."""
    video = natural_pan(17, 12.0) if clip_name == "natural_pan" else _crossfade(17)
    first, last = video[0], video[-1]
    scores = {
        name: float(desc_trajectory(v, first, last, net=net))
        for name, v in _variants(video).items()
    }
    assert scores["forward"] > 0.9
    for name in ("back_and_forth", "shuffled", "stall_then_jump", "reversed"):
        assert scores[name] < scores["forward"] - 0.1, scores
    assert scores["stall_then_jump"] == 0.0 and scores["reversed"] == 0.0


def test_metric_classes_accumulate_like_functional(net, xclip_folder):
    xnet = load_xclip(str(xclip_folder))
    videos = [natural_pan(5, s) for s in (4.0, 12.0, 20.0)]
    captions = ["an astronaut", "a flag", "a helmet"]
    collection = MetricCollection({"clipsim": CLIPSIMFrames(net=net)})
    scores = {"clip": CLIPScore(net=net), "xclip": XCLIPScore(net=xnet)}
    trajectory = DescTrajectory(net=net)
    for video, caption in zip(videos, captions, strict=True):
        collection.update(video)
        for metric in scores.values():
            metric.update(video, caption)
        trajectory.update(video, "first", "last")
    batch = CLIPScore(net=net)
    batch.update(torch.stack(videos), captions)

    def mean(values: list[torch.Tensor]) -> float:
        return float(np.mean([float(v) for v in values]))

    assert float(collection.compute()["clipsim"]) == pytest.approx(
        mean([clipsim_frames(v, net=net) for v in videos]), abs=1e-6
    )
    expected = mean([clip_score(v, c, net=net) for v, c in zip(videos, captions, strict=True)])
    assert float(scores["clip"].compute()) == pytest.approx(expected, abs=1e-6)
    assert float(batch.compute()) == pytest.approx(expected, abs=1e-6)
    assert float(scores["xclip"].compute()) == pytest.approx(
        mean([xclip_score(v, c, net=xnet) for v, c in zip(videos, captions, strict=True)]),
        abs=1e-6,
    )
    assert float(trajectory.compute()) == pytest.approx(
        mean([desc_trajectory(v, "first", "last", net=net) for v in videos]), abs=1e-6
    )
    anchored = DescTrajectory(net=net)  # image anchors, shared by a batch
    anchored.update(torch.stack(videos[:2]), videos[0][0], videos[0][-1])
    assert float(anchored.compute()) == pytest.approx(
        mean([desc_trajectory(v, videos[0][0], videos[0][-1], net=net) for v in videos[:2]]),
        abs=1e-6,
    )
    assert CLIPSIMFrames.higher_is_better and DescTrajectory.plot_upper_bound == 1.0
    scores["clip"].train()
    assert not net.training and not net.model.training  # feature networks stay in eval mode
    assert not any(p.requires_grad for p in net.parameters())


# ---- the runner ------------------------------------------------------------------------------


def _inputs(video: torch.Tensor) -> ScoringInputs:
    return ScoringInputs(
        video=video,
        target=video,
        first=video[0],
        last=video[-1],
        caption="An astronaut smiles at the camera.",
        first_desc="the astronaut on the left of the frame",
        last_desc="the astronaut on the right of the frame",
    )


def test_runner_scores_every_semantic_metric_with_one_clip_pass(net, xclip_folder):
    video = natural_pan(9, 12.0)
    backbones = Backbones(options={"xclip": {"model": str(xclip_folder)}})
    frames_seen: list[int] = []
    original = net.encode_images

    def counting(images: torch.Tensor, chunk: int = 16) -> torch.Tensor:
        frames_seen.append(images.shape[0])
        return original(images, chunk)

    net.encode_images = counting  # type: ignore[method-assign]
    try:
        backbones.put("clip", net)
        metrics = select_metrics([*SEMANTIC, "desc_monotonicity", "desc_smoothness"])
        scores = score_video(_inputs(video), metrics, backbones)
    finally:
        del net.encode_images
    assert frames_seen == [9]  # every frame through CLIP once, for all the metrics
    for metric in metrics:
        low, high = metric.value_range
        value = scores.values[metric.name]
        assert value is not None and low <= value <= high and math.isfinite(value), metric.name
    store = FeatureStore(_inputs(video), backbones)
    embeddings = store["clip"]
    assert embeddings.frames.shape == (9, 384) and embeddings.caption.shape == (384,)
    assert float(embeddings.frames.norm(dim=-1).min()) == pytest.approx(1.0, abs=1e-5)


def test_random_init_through_backbone_options():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backbones = Backbones(options={"clip": {"model": "ViT-S-32", "pretrained": "random"}})
        scores = score_video(
            _inputs(natural_pan(5, 8.0)), select_metrics(["clipsim_frames"]), backbones
        )
    assert scores.values["clipsim_frames"] is not None
    assert backbones.get("clip").is_random


def test_default_weights_offline_are_unavailable_not_numbers(tmp_path):
    """No weights in the cache, HF_HUB_OFFLINE=1: None and a reason, never a number."""
    empty = str(tmp_path / "empty_cache")
    backbones = Backbones(
        options={"clip": {"cache_dir": empty}, "xclip": {"cache_dir": empty}},
    )
    scores = score_video(_inputs(natural_pan(5, 8.0)), select_metrics(SEMANTIC), backbones)
    for name in SEMANTIC:
        assert scores.values[name] is None, name
        assert scores.unavailable[name].startswith("weights unavailable"), name
    assert "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in scores.unavailable["clip_score"]
    assert "microsoft/xclip-base-patch32" in scores.unavailable["xclip_score"]


# ---- the VQA hook ----------------------------------------------------------------------------


def brightness(video: torch.Tensor, prompt: str) -> float:
    """A toy scorer: the mean brightness, 'probability' that the video is bright."""
    return float(video.mean())


def test_vqa_hook(monkeypatch):
    monkeypatch.setattr(semantic_module, "VQA_SCORERS", Registry("VQA scorer"))
    video = natural_pan(5, 8.0)
    metric = select_metrics(["vqa_score"])
    assert not metric[0].default
    empty = score_video(_inputs(video), metric, Backbones())
    assert (
        empty.values["vqa_score"] is None
        and "register_vqa_scorer" in empty.unavailable["vqa_score"]
    )

    semantic_module.register_vqa_scorer("brightness", brightness)
    semantic_module.register_vqa_scorer("half", lambda video, prompt: 0.5)
    scored = score_video(_inputs(video), metric, Backbones())
    assert scored.values["vqa_score"] == pytest.approx((float(video.mean()) + 0.5) / 2)
    with pytest.raises(Exception, match="registered twice"):
        semantic_module.register_vqa_scorer("half", brightness)
    assert float(vqa_score(video, "x", {"one": lambda v, p: 1.0})) == 1.0
    with pytest.raises(ValueError, match="outside"):
        vqa_score(video, "x", {"bad": lambda v, p: 2.0})
    with pytest.raises(ValueError, match="at least one"):
        vqa_score(video, "x", {})


def test_vqa_scorer_plugged_in_scores_a_whole_run(monkeypatch, tgi_root, tmp_path):
    """End to end: a user's scorer registered in-process is called by ``evaluate`` with
    every case's video and caption, and its mean lands in results.jsonl."""
    from tgibench.eval.config import EvalConfig
    from tgibench.eval.runner import evaluate

    monkeypatch.setattr(semantic_module, "VQA_SCORERS", Registry("VQA scorer"))
    calls: list[tuple[tuple[int, ...], str]] = []

    def user_vqa(video: torch.Tensor, prompt: str) -> float:
        calls.append((tuple(video.shape), prompt))
        return 0.25 if "car-turn" in prompt else 0.75

    semantic_module.register_vqa_scorer("user-vqa", user_vqa)
    out = tmp_path / "run"
    config = EvalConfig(
        model="crossfade", bench=str(tgi_root), out=out, metrics=("vqa_score",), save_videos=False
    )
    evaluate(config)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert rows and len(calls) == len(rows)
    for row in rows:
        assert row["vqa_score"] == (0.25 if row["case_id"].startswith("car-turn") else 0.75)
    assert all(shape[1] == 3 and prompt.startswith("A camera pans") for shape, prompt in calls)
