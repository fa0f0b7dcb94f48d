"""The ``wan`` and ``tgi`` models: tiny preset end to end, ablation switches, real loading path."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from tgibench.models import build_model
from tgibench.models.wan import DEFAULT_MODEL_ID, WanOptions, place_pipeline
from tgibench.models.wan_tiny import tiny_pipeline
from tgibench.spec import SpecError
from tgibench.weights import WeightsUnavailableError

PROMPT = "A glider floats over fields."


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model is latency-bound: one thread avoids oversubscription on shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def keyframes() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 40, 60, generator=g), torch.rand(3, 40, 60, generator=g)


@pytest.fixture(scope="module")
def wan_video(keyframes) -> torch.Tensor:
    return build_model("wan:preset=tiny").generate(*keyframes, PROMPT, 25)


def test_wan_tiny_generates_a_video(wan_video, keyframes):
    assert wan_video.shape == (25, 3, 32, 48) and wan_video.dtype == torch.float32
    assert torch.isfinite(wan_video).all()
    assert wan_video.min() >= 0 and wan_video.max() <= 1
    assert wan_video.std(dim=0).mean() > 0  # frames differ: not a constant output
    model = build_model("wan:preset=tiny")
    torch.testing.assert_close(model.generate(*keyframes, PROMPT, 25), wan_video)  # seeded
    other = model.generate(*keyframes, PROMPT, 25, seed=1)
    assert (other - wan_video).abs().max() > 1e-3


def test_tgi_all_off_reproduces_wan_exactly(wan_video, keyframes):
    model = build_model("tgi:preset=tiny,kab=off,retro=off,isolate=off")
    assert torch.equal(model.generate(*keyframes, PROMPT, 25), wan_video)


@pytest.mark.parametrize("part", ["kab", "retro", "isolate"])
def test_each_part_alone_changes_the_output(part, wan_video, keyframes):
    switches = ",".join(f"{p}={'on' if p == part else 'off'}" for p in ("kab", "retro", "isolate"))
    video = build_model(f"tgi:preset=tiny,{switches}").generate(*keyframes, PROMPT, 25)
    assert torch.isfinite(video).all()
    assert (video - wan_video).abs().max() > 1e-4


def test_tgi_default_runs_all_parts(wan_video, keyframes):
    model = build_model("tgi:preset=tiny")
    assert model.config.kab and model.config.retro and model.config.isolate
    video = model.generate(*keyframes, PROMPT, 25)
    assert torch.isfinite(video).all() and video.shape == wan_video.shape
    assert (video - wan_video).abs().max() > 1e-4
    # KAB's step window: the tracker saw all 5 steps, both branches
    assert model.handle.state.step == 4 and model.handle.state.num_steps == 5


def test_frame_counts_that_are_not_4k_plus_1(keyframes):
    video = build_model("wan:preset=tiny,steps=2").generate(*keyframes, PROMPT, 11)
    assert video.shape[0] == 11


def test_options_and_errors():
    model = build_model('tgi:preset=tiny,steps=3,s_edge=1.1,edge_widths="49:5"')
    assert model.steps == 3 and model.config.s_edge == 1.1 and model.config.edge_widths == {49: 5}
    assert model.config.temporal_compression == model.pipe.vae_scale_factor_temporal == 4
    assert model.spec == "tgi:edge_widths=49:5,preset=tiny,s_edge=1.1,steps=3"
    assert build_model(model.spec).config == model.config  # the canonical spec round-trips
    two = build_model('tgi:preset=tiny,edge_widths="25:2,49:5"')
    assert two.config.edge_widths == {25: 2, 49: 5} and '"25:2,49:5"' in two.spec
    with pytest.raises(SpecError, match="key:value pairs"):
        build_model('tgi:preset=tiny,edge_widths="49-5"')
    with pytest.raises(SpecError, match="no option 'temporal_compression'"):
        build_model("tgi:preset=tiny,temporal_compression=2")
    with pytest.raises(ValueError, match="preset"):
        build_model("wan:preset=huge")
    with pytest.raises(ValueError, match="sampler"):
        build_model("wan:preset=tiny,sampler=ddim")


def test_memory_options_reach_the_pipeline(wan_video, keyframes):
    model = build_model("wan:preset=tiny,vae_tiling=on,vae_slicing=on")
    assert model.pipe.vae.use_tiling and model.pipe.vae.use_slicing
    # 256-pixel tiles do not cut a 32x48 clip and the batch is one video: same result
    assert torch.equal(model.generate(*keyframes, PROMPT, 25), wan_video)
    plain = build_model("wan:preset=tiny")
    assert not plain.pipe.vae.use_tiling and not plain.pipe.vae.use_slicing
    no_vae_tiling = SimpleNamespace(vae=object())
    with pytest.raises(ValueError, match=r"VAE \(object\) has no enable_tiling"):
        place_pipeline(no_vae_tiling, WanOptions(vae_tiling=True), torch.device("cpu"))


def test_bfloat16_runs_the_transformer_in_bfloat16(keyframes):
    model = build_model("wan:preset=tiny,dtype=bfloat16,steps=2")
    assert model.pipe.transformer.dtype == torch.bfloat16
    assert model.pipe.text_encoder.dtype == torch.bfloat16
    assert model.pipe.vae.dtype == torch.float32 and model.pipe.image_encoder.dtype == torch.float32
    video = model.generate(*keyframes, PROMPT, 9)
    assert video.shape == (9, 3, 32, 48) and video.dtype == torch.float32
    assert torch.isfinite(video).all()


def test_missing_weights_raise_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_home"))
    with pytest.raises(WeightsUnavailableError) as err:
        build_model("wan:model=nobody/no-such-wan-model")
    assert "nobody/no-such-wan-model" in str(err.value) and "HF_HOME" in str(err.value)
    assert DEFAULT_MODEL_ID in str(err.value)
    with pytest.raises(WeightsUnavailableError, match="no such directory"):
        build_model(f"tgi:model={tmp_path / 'missing'}")


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny_wan") / "pipeline"
    tiny_pipeline().save_pretrained(root, safe_serialization=True)
    return root


def test_local_directory_loads_through_the_real_path(saved_tiny, wan_video, keyframes):
    assert list(saved_tiny.glob("transformer/*.safetensors"))
    model = build_model(f"wan:model={saved_tiny},height=32,width=48,steps=5")
    torch.testing.assert_close(model.generate(*keyframes, PROMPT, 25), wan_video)


def test_hub_cache_snapshot_loads_offline(saved_tiny, wan_video, keyframes, tmp_path, monkeypatch):
    """The layout `huggingface-cli download` writes: models--org--name/{refs/main, snapshots/sha}."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf_home" / "hub" / "models--tgibench--tiny-wan-flf2v"
    shutil.copytree(saved_tiny, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    model = build_model("tgi:model=tgibench/tiny-wan-flf2v,height=32,width=48,steps=5")
    video = model.generate(*keyframes, PROMPT, 25)
    assert torch.isfinite(video).all() and video.shape == wan_video.shape
    plain = build_model("wan:model=tgibench/tiny-wan-flf2v,height=32,width=48,steps=5")
    torch.testing.assert_close(plain.generate(*keyframes, PROMPT, 25), wan_video)
