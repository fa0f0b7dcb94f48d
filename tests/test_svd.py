"""``svd``, ``trf``, ``gi`` and ``vibid``: stock equality, each part's effect, options, loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tgibench.methods.gi_attention import temporal_attention_layers
from tgibench.models import build_model
from tgibench.models.diffusers_runtime import to_pil
from tgibench.models.gi import REVERSE_BASE_ID
from tgibench.models.svd import DEFAULT_MODEL_ID
from tgibench.models.svd_tiny import tiny_pipeline, tiny_unet
from tgibench.spec import SpecError
from tgibench.weights import WeightsUnavailableError

PROMPT = "A glider floats over fields."
FRAMES = 9

#: Every part of each method switched off (and the same VAE chunking as the stock call).
ALL_OFF = {
    "svd": "",
    "trf": "backward=off,jump_n_sample=1,decode_chunk_size=none",
    "gi": "backward=off,noise_injection_steps=0,decode_chunk_size=none",
    "vibid": "backward=off,cfgpp=off,dds=off,max_guidance_scale=3,decode_chunk_size=none",
}
#: Each part alone, the others off (they must change the output).
PARTS = {
    "trf": ["backward=on", "jump_n_sample=2,repeat_step_ratio=0.3,jump_length=1"],
    "gi": [
        "backward=on,rotate=off,reverse_weights=off",
        "backward=on,rotate=on,reverse_weights=off",
        "backward=on,rotate=off,reverse_weights=on",
        "noise_injection_steps=2",
    ],
    "vibid": ["backward=on", "cfgpp=on", "dds=on"],
}


@pytest.fixture(scope="module")
def keyframes() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 40, 60, generator=g), torch.rand(3, 40, 60, generator=g)


@pytest.fixture(scope="module")
def stock_video(keyframes) -> torch.Tensor:
    """diffusers' own StableVideoDiffusionPipeline on the tiny weights, seed 0."""
    pipe = tiny_pipeline()
    pipe.set_progress_bar_config(disable=True)
    return pipe(
        to_pil(keyframes[0]),
        height=32,
        width=48,
        num_frames=FRAMES,
        num_inference_steps=3,
        generator=torch.Generator("cpu").manual_seed(0),
        output_type="pt",
    ).frames[0]


def _spec(name: str, extra: str) -> str:
    return f"{name}:preset=tiny" + (f",{extra}" if extra else "")


@pytest.mark.parametrize("name", sorted(ALL_OFF))
def test_all_parts_off_is_stock_svd_bit_for_bit(name, stock_video, keyframes):
    video = build_model(_spec(name, ALL_OFF[name])).generate(*keyframes, PROMPT, FRAMES)
    assert video.shape == (FRAMES, 3, 32, 48)
    assert torch.equal(video, stock_video)


def _parts_off_except(name: str, part: str) -> str:
    """ALL_OFF[name] with ``part``'s keys set as ``part`` says."""
    settings = dict(item.split("=") for item in ALL_OFF[name].split(","))
    settings.update(item.split("=") for item in part.split(","))
    return ",".join(f"{k}={v}" for k, v in settings.items())


@pytest.mark.parametrize(
    "name,part", [(name, part) for name, parts in PARTS.items() for part in parts]
)
def test_each_part_alone_changes_the_output(name, part, stock_video, keyframes):
    model = build_model(_spec(name, _parts_off_except(name, part)))
    video = model.generate(*keyframes, PROMPT, FRAMES)
    assert torch.isfinite(video).all() and video.shape == stock_video.shape
    assert (video - stock_video).abs().max() > 1e-3


@pytest.mark.parametrize("name", ["svd", "trf", "gi", "vibid"])
def test_defaults_run_seeded(name, keyframes):
    model = build_model(f"{name}:preset=tiny")
    video = model.generate(*keyframes, PROMPT, FRAMES)
    assert video.shape == (FRAMES, 3, 32, 48) and torch.isfinite(video).all()
    assert video.min() >= 0 and video.max() <= 1 and video.std(dim=0).mean() > 0
    torch.testing.assert_close(model.generate(*keyframes, PROMPT, FRAMES), video)  # seeded
    assert (model.generate(*keyframes, PROMPT, FRAMES, seed=1) - video).abs().max() > 1e-3


def test_gi_switches_its_attention_per_pass(keyframes):
    model = build_model("gi:preset=tiny,noise_injection_steps=0")
    state = model.attention.state
    modes: list[str] = []
    model.pipe.unet.register_forward_pre_hook(lambda *_: modes.append(state.mode))
    model.generate(*keyframes, PROMPT, FRAMES)
    assert modes == ["forward", "backward"] * model.steps
    layers = temporal_attention_layers(list(model.pipe.unet.attn_processors))
    assert set(state.maps) == set(layers)  # one map per temporal self-attention layer
    frames = next(iter(state.maps.values())).shape[-1]
    assert frames == FRAMES
    assert build_model("gi:preset=tiny,rotate=off,reverse_weights=off").attention is None


def test_length_native_samples_the_trained_length(keyframes):
    model = build_model("svd:preset=tiny,length=native")
    sampled: list[int] = []
    model.pipe.unet.register_forward_pre_hook(lambda _, args: sampled.append(args[0].shape[1]))
    video = model.generate(*keyframes, PROMPT, 33)
    assert video.shape[0] == 33 and set(sampled) == {25}
    assert torch.unique(video.flatten(1), dim=0).shape[0] == 25  # 33 from 25: 8 repeat
    direct = build_model("svd:preset=tiny")
    sampled.clear()
    direct.pipe.unet.register_forward_pre_hook(lambda _, args: sampled.append(args[0].shape[1]))
    direct.generate(*keyframes, PROMPT, 11)
    assert set(sampled) == {11}


def test_options_defaults_and_errors():
    steps = {name: build_model(f"{name}:preset=tiny").steps for name in ALL_OFF}
    assert set(steps.values()) == {3}
    from tgibench.models.registry import MODELS

    assert {n: MODELS.get(n).DEFAULT_STEPS for n in ALL_OFF} == {
        "svd": 25,
        "trf": 50,
        "gi": 50,
        "vibid": 25,
    }
    trf = build_model("trf:preset=tiny,jump_length=2,noise_scale_ratio=1")
    assert trf.options.jump_length == 2 and trf.options.decode_chunk_size == 8
    assert trf.spec == "trf:jump_length=2,noise_scale_ratio=1.0,preset=tiny"
    assert build_model("vibid:preset=tiny").options.max_guidance_scale == 1.0
    with pytest.raises(ValueError, match="length must be one of direct, native"):
        build_model("svd:preset=tiny,length=stretch")
    with pytest.raises(SpecError, match="no option 'dds'"):
        build_model("trf:preset=tiny,dds=on")


def test_bfloat16_runs_the_unet_in_bfloat16(keyframes):
    model = build_model("trf:preset=tiny,dtype=bfloat16,steps=2")
    assert model.pipe.unet.dtype == torch.bfloat16
    assert model.pipe.vae.dtype == torch.float32 and model.pipe.image_encoder.dtype == torch.float32
    video = model.generate(*keyframes, PROMPT, 5)
    assert video.dtype == torch.float32 and torch.isfinite(video).all()


def test_missing_weights_raise_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_home"))
    with pytest.raises(WeightsUnavailableError) as err:
        build_model("svd:model=nobody/no-such-svd")
    text = str(err.value)
    assert "nobody/no-such-svd" in text and "HF_HOME" in text and DEFAULT_MODEL_ID in text
    with pytest.raises(WeightsUnavailableError, match="no such directory"):
        build_model(f"trf:model={tmp_path / 'missing'}")
    # GI needs the authors' checkpoint, which no hub has: the message says where it is
    with pytest.raises(WeightsUnavailableError, match="gdown .* --folder") as gi:
        build_model("gi:preset=tiny,reverse_unet=" + str(tmp_path / "no-checkpoint"))
    assert "reverse_unet=" in str(gi.value)
    # with the checkpoint but without the model it was fine-tuned from (not in this cache)
    tiny_unet().save_pretrained(tmp_path / "checkpoint" / "unet")
    with pytest.raises(WeightsUnavailableError) as base:
        build_model(f"gi:preset=tiny,reverse_unet={tmp_path / 'checkpoint'}")
    assert REVERSE_BASE_ID in str(base.value) and "huggingface-cli download" in str(base.value)


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny_svd") / "pipeline"
    tiny_pipeline().save_pretrained(root, safe_serialization=True)
    return root


def test_local_directory_loads_through_the_real_path(saved_tiny, stock_video, keyframes):
    assert list(saved_tiny.glob("unet/*.safetensors"))
    model = build_model(f"svd:model={saved_tiny},height=32,width=48,steps=3")
    assert torch.equal(model.generate(*keyframes, PROMPT, FRAMES), stock_video)


def test_gi_reverse_weights_are_xt_plus_the_fine_tunes_change(tmp_path, keyframes):
    """As the authors' script: backward projections = xt + (finetuned - img2vid)."""
    base, finetuned = tiny_unet(seed=5), tiny_unet(seed=5)
    with torch.no_grad():
        for name, param in finetuned.named_parameters():
            if ".temporal_transformer_blocks.0.attn1.to_" in name:
                param.add_(torch.randn_like(param))
    base.save_pretrained(tmp_path / "img2vid" / "unet")
    finetuned.save_pretrained(tmp_path / "checkpoint" / "unet")
    spec = (
        f"gi:preset=tiny,reverse_unet={tmp_path / 'checkpoint'},reverse_base={tmp_path / 'img2vid'}"
    )
    model = build_model(spec)
    own = dict(model.pipe.unet.named_parameters())
    ft, bs = dict(finetuned.named_parameters()), dict(base.named_parameters())
    for layer in temporal_attention_layers(list(model.pipe.unet.attn_processors)):
        processor = model.pipe.unet.attn_processors[f"{layer}.processor"]
        for key in ("to_v.weight", "to_out.0.weight", "to_out.0.bias"):
            name = f"{layer}.{key}"
            expected = own[name] + (ft[name] - bs[name])
            torch.testing.assert_close(processor.get_buffer(key.replace(".", "_")), expected)
    video = model.generate(*keyframes, PROMPT, 5)
    assert torch.isfinite(video).all()
