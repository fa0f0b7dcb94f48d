"""CLIP and X-CLIP load through the code a real user's hub id or path takes.

Random-init weights are saved the way the real ones are published (an open_clip checkpoint
file, an open_clip hub repository, a transformers ``save_pretrained`` folder) and placed
where users have them (a path, a Hugging Face cache snapshot in a temporary ``HF_HOME``
read with ``HF_HUB_OFFLINE=1``); absent weights raise WeightsUnavailableError.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from tgibench.features.clip import load_clip
from tgibench.features.xclip import XCLIPNet, load_xclip, sample_indices
from tgibench.weights import WeightsUnavailableError

TINY_OPEN_CLIP = {
    "model_cfg": {
        "embed_dim": 32,
        "vision_cfg": {
            "image_size": 64,
            "layers": 2,
            "width": 64,
            "head_width": 32,
            "patch_size": 32,
        },
        "text_cfg": {
            "context_length": 77,
            "vocab_size": 49408,
            "width": 32,
            "heads": 2,
            "layers": 2,
        },
    },
    "preprocess_cfg": {
        "mean": [0.48145466, 0.4578275, 0.40821073],
        "std": [0.26862954, 0.26130258, 0.27577711],
        "interpolation": "bicubic",
        "resize_mode": "shortest",
    },
}
REVISION = "0123456789abcdef0123456789abcdef01234567"


def random_clip(name: str = "ViT-S-32", seed: int = 0):
    """A random-init open_clip model through our loader (warning silenced)."""
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_clip(name, "random")


def put_in_hf_cache(hf_home: Path, repo_id: str, folder: Path) -> None:
    """Place ``folder``'s files as the ``main`` snapshot of ``repo_id`` in an HF cache."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(folder, repo / "snapshots" / REVISION)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(REVISION)


def tiny_clip_tokenizer():
    """A byte-level CLIP tokenizer (no merges) built offline: every byte is a token."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in chars + [c + "</w>" for c in chars]:
        vocab.setdefault(token, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[])


def save_tiny_xclip(
    folder: Path, seed: int = 0, image_size: int = 32, patch_size: int = 16, resample: int = 3
) -> Path:
    """A tiny random XCLIPModel and its XCLIPProcessor, written with save_pretrained.

    ``image_size`` is the model's input and the processor's resize and crop size
    (microsoft/xclip-base-patch32: 224, patches of 32, resample 2 = bilinear).
    """
    from transformers import VideoMAEImageProcessor, XCLIPConfig, XCLIPModel, XCLIPProcessor

    tokenizer = tiny_clip_tokenizer()
    config = XCLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
        },
        vision_config={
            "image_size": image_size,
            "patch_size": patch_size,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_frames": 8,
            "mit_hidden_size": 32,
            "mit_intermediate_size": 64,
            "mit_num_attention_heads": 4,
        },
        projection_dim=32,
        prompt_layers=1,
        prompt_num_attention_heads=4,
    )
    torch.manual_seed(seed)
    model = XCLIPModel(config)
    processor = XCLIPProcessor(
        image_processor=VideoMAEImageProcessor(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
            image_mean=[0.48145466, 0.4578275, 0.40821073],
            image_std=[0.26862954, 0.26130258, 0.27577711],
            resample=resample,
        ),
        tokenizer=tokenizer,
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def _video(num_frames: int = 9, size=(40, 56), seed: int = 0) -> torch.Tensor:
    frames = torch.rand((num_frames, 3, *size), generator=torch.Generator().manual_seed(seed))
    return (frames * 255).round() / 255  # exactly representable as uint8


def _same_model(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(pa, pb, msg=name)


@pytest.mark.parametrize("form", ["torch.save", "safetensors"])
def test_open_clip_checkpoint_file_loads_as_pretrained(tmp_path, form):
    reference = random_clip()
    state = {k: v.contiguous() for k, v in reference.model.state_dict().items()}
    if form == "torch.save":
        path = tmp_path / "open_clip_pytorch_model.bin"
        torch.save(state, path)
    else:
        path = tmp_path / "open_clip_model.safetensors"
        save_file(state, str(path))
    loaded = load_clip("ViT-S-32", str(path))
    assert not loaded.is_random and str(path) in loaded.weights
    _same_model(loaded.model, reference.model)
    video = _video()
    torch.testing.assert_close(loaded.encode_images(video), reference.encode_images(video))
    torch.testing.assert_close(
        loaded.encode_texts(["a cat", "a dog"]), reference.encode_texts(["a cat", "a dog"])
    )


def test_random_init_is_loud():
    with pytest.warns(UserWarning, match="RANDOM INIT"):
        net = load_clip("ViT-S-32", "random")
    assert net.is_random and "RANDOM INIT" in net.weights


def test_missing_file_unknown_tag_and_local_dir(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="does not exist.*TGIBENCH_CLIP_PRETRAINED"):
        load_clip("ViT-S-32", str(tmp_path / "absent.bin"))
    with pytest.raises(ValueError, match="laion2b_s34b_b79k"):
        load_clip("ViT-B-32", "laion3b_typo")
    with pytest.raises(WeightsUnavailableError, match="no open_clip_config.json"):
        load_clip(f"local-dir:{tmp_path}")


def _write_tiny_open_clip_repo(folder: Path, seed: int = 1) -> torch.nn.Module:
    """An open_clip hub repository: open_clip_config.json + open_clip_model.safetensors."""
    import open_clip

    folder.mkdir(parents=True)
    (folder / "open_clip_config.json").write_text(json.dumps(TINY_OPEN_CLIP))
    torch.manual_seed(seed)
    model = open_clip.create_model("local-dir:" + str(folder), load_weights=False)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        str(folder / "open_clip_model.safetensors"),
    )
    return model


def test_open_clip_local_dir(tmp_path):
    model = _write_tiny_open_clip_repo(tmp_path / "repo")
    net = load_clip(f"local-dir:{tmp_path / 'repo'}")
    _same_model(net.model, model)
    assert net.preprocess.size == (64, 64) and net.encode_images(_video()).shape == (9, 32)


_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, sys, torch
    from tgibench.features.clip import load_clip
    from tgibench.features.xclip import load_xclip
    from tgibench.weights import WeightsUnavailableError

    video = torch.load(sys.argv[1])
    out = {}
    clip = load_clip("hf-hub:tgibench-test/tiny-clip")
    out["clip_frames"] = clip.encode_images(video).tolist()
    out["clip_text"] = clip.encode_texts(["a red car"]).tolist()
    out["xclip"] = load_xclip("tgibench-test/tiny-xclip").similarity(video, ["a red car"]).tolist()
    for key, load in [
        ("default_clip", lambda: load_clip()),
        ("absent_hub_clip", lambda: load_clip("hf-hub:tgibench-test/absent")),
        ("default_xclip", lambda: load_xclip()),
    ]:
        try:
            load()
            out[key] = "loaded"
        except WeightsUnavailableError as exc:
            out[key] = str(exc)
    print(json.dumps(out))
    """
)


def test_hf_cache_snapshots_load_offline_by_hub_id(tmp_path):
    """hf-hub:org/name (open_clip) and org/name (X-CLIP) from a cache, HF_HUB_OFFLINE=1."""
    hf_home = tmp_path / "hf_home"
    tiny_clip = _write_tiny_open_clip_repo(tmp_path / "clip_repo")
    put_in_hf_cache(hf_home, "tgibench-test/tiny-clip", tmp_path / "clip_repo")
    put_in_hf_cache(hf_home, "tgibench-test/tiny-xclip", save_tiny_xclip(tmp_path / "xclip"))
    video = _video()
    torch.save(video, tmp_path / "video.pt")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "TGIBENCH_"))
    }
    env.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT, str(tmp_path / "video.pt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])

    from open_clip.tokenizer import SimpleTokenizer

    from tgibench.features.clip import CLIPNet
    from tgibench.features.preprocess import FramePreprocess

    reference = CLIPNet(
        tiny_clip,
        SimpleTokenizer(),
        FramePreprocess(
            (64, 64),
            TINY_OPEN_CLIP["preprocess_cfg"]["mean"],
            TINY_OPEN_CLIP["preprocess_cfg"]["std"],
        ),
        "reference",
    )
    np.testing.assert_allclose(out["clip_frames"], reference.encode_images(video), atol=1e-5)
    np.testing.assert_allclose(out["clip_text"], reference.encode_texts(["a red car"]), atol=1e-5)
    xclip = load_xclip(str(tmp_path / "xclip"))
    np.testing.assert_allclose(out["xclip"], xclip.similarity(video, ["a red car"]), atol=1e-5)
    assert "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in out["default_clip"]
    assert "TGIBENCH_CLIP_PRETRAINED" in out["default_clip"]
    assert "huggingface-cli download" in out["default_clip"]
    assert "tgibench-test/absent" in out["absent_hub_clip"]
    assert "microsoft/xclip-base-patch32" in out["default_xclip"]
    assert "huggingface-cli download microsoft/xclip-base-patch32" in out["default_xclip"]


def test_xclip_folder_matches_the_transformers_pipeline(tmp_path):
    """Our tensor preprocessing and forward equal XCLIPProcessor + XCLIPModel on frames."""
    from conftest import natural_pan
    from transformers import XCLIPModel, XCLIPProcessor

    folder = save_tiny_xclip(tmp_path / "xclip")
    net = load_xclip(str(folder))
    assert isinstance(net, XCLIPNet) and net.num_frames == 8 and not net.model.training
    video = (natural_pan(17, 12.0) * 255).round() / 255
    texts = ["a red car", "two dogs run"]
    model = XCLIPModel.from_pretrained(folder).eval()
    processor = XCLIPProcessor.from_pretrained(folder)
    frames = video[sample_indices(17, 8)].mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    inputs = processor(text=texts, videos=list(frames), return_tensors="pt", padding=True)
    pixels = inputs["pixel_values"][0]
    ours = net.preprocess(video[sample_indices(17, 8)])
    assert (ours - pixels).abs().max() < 1e-5  # the processor's own 8-bit resize and crop
    with torch.no_grad():
        out = model(**inputs)
    expected = out.logits_per_video[0] / model.logit_scale.exp()
    net.preprocess = lambda _frames: pixels  # the same pixels: the forward must agree exactly
    torch.testing.assert_close(net.similarity(video, texts), expected, atol=1e-5, rtol=0)
