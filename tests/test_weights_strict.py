"""A weights file missing a tensor its network needs is refused, naming the tensor and file.

Each backbone's file is built from a random-init network, saved as the real weights are
published, and loaded through the real loading code: complete, it loads and reproduces
the network; with one tensor removed (or one the network does not have), it raises
WeightsMismatchError. Only what each loader documents as optional may be absent: lpips'
second name of a linear layer and its scaling constants, batch norm's counters.
"""

from __future__ import annotations

import re
import warnings

import pytest
import torch
from safetensors.torch import load_file, save_file
from test_weights_loading_distribution import _randomised

from tgibench.features.backbones import Backbones
from tgibench.features.clip import load_clip
from tgibench.features.i3d import BN_EPS, I3DFeatures, InceptionI3d, load_i3d
from tgibench.features.inception import build_fid_inception, load_inception
from tgibench.features.lpips_net import LPIPSNet, _empty_lpips, _unique_state
from tgibench.features.xclip import load_xclip
from tgibench.weights import WeightsMismatchError, WeightsUnavailableError


def _refused(load, tensor: str, file) -> str:
    with pytest.raises(WeightsMismatchError) as error:
        load()
    message = str(error.value)
    assert isinstance(error.value, WeightsUnavailableError) and isinstance(error.value, ValueError)
    assert tensor in message and str(file) in message, message
    return message


# ---- LPIPS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lpips_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    module = _empty_lpips("alex")
    with torch.no_grad():
        for lin in module.lins:  # lpips initialises them to zero-ish; make them matter
            lin.model[-1].weight.uniform_(0.0, 1.0)
    return _unique_state(module)


def _pair() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    a = torch.rand(2, 3, 64, 64, generator=gen)
    return a, (a + 0.2 * torch.rand(2, 3, 64, 64, generator=gen)).clamp(0, 1)


def test_lpips_without_a_linear_layer_is_refused(tmp_path, lpips_state):
    complete = tmp_path / "lpips.safetensors"
    save_file(lpips_state, str(complete))
    reference = LPIPSNet("alex", complete)
    expected = reference(*_pair())
    assert float(expected.min()) > 0
    one_lin = tmp_path / "no_lin2.safetensors"
    save_file({k: v for k, v in lpips_state.items() if not k.startswith("lins.2.")}, str(one_lin))
    message = _refused(lambda: LPIPSNet("alex", one_lin), "lins.2.model.1.weight", one_lin)
    assert "lin2.model.1.weight" in message  # neither of its two names is there
    no_lins = tmp_path / "no_lins.safetensors"  # the case that gave LPIPS -0.0074
    save_file({k: v for k, v in lpips_state.items() if not k.startswith("lins.")}, str(no_lins))
    _refused(lambda: LPIPSNet("alex", no_lins), "lins.0.model.1.weight", no_lins)
    conv = tmp_path / "no_conv.safetensors"
    save_file({k: v for k, v in lpips_state.items() if k != "net.slice3.6.weight"}, str(conv))
    _refused(lambda: LPIPSNet("alex", conv), "net.slice3.6.weight", conv)


def test_lpips_aliases_and_scaling_constants_may_be_absent(tmp_path, lpips_state):
    """Linear layers under lpips' other name (``lin<i>``, as the lpips package's files have
    them), and no scaling constants: the same network."""
    renamed = {
        re.sub(r"^lins\.(\d+)\.", r"lin\1.", k): v
        for k, v in lpips_state.items()
        if not k.startswith("scaling_layer.")
    }
    assert "lin0.model.1.weight" in renamed and "scaling_layer.shift" not in renamed
    path = tmp_path / "lpips_package_names.safetensors"
    save_file(renamed, str(path))
    complete = tmp_path / "lpips.safetensors"
    save_file(lpips_state, str(complete))
    torch.testing.assert_close(
        LPIPSNet("alex", path)(*_pair()), LPIPSNet("alex", complete)(*_pair()), rtol=0, atol=0
    )


# ---- CLIP ------------------------------------------------------------------------------------


def test_clip_checkpoint_missing_or_extra_tensors_is_refused(tmp_path):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = {
            k: v.contiguous() for k, v in load_clip("ViT-S-32", "random").model.state_dict().items()
        }
    missing = tmp_path / "missing.safetensors"
    save_file({k: v for k, v in state.items() if k != "visual.proj"}, str(missing))
    _refused(lambda: load_clip("ViT-S-32", str(missing)), "visual.proj", missing)
    extra = tmp_path / "extra.bin"
    torch.save({**state, "visual.extra_head.weight": torch.zeros(2)}, extra)
    message = _refused(lambda: load_clip("ViT-S-32", str(extra)), "visual.extra_head.weight", extra)
    assert "does not know" in message
    complete = tmp_path / "complete.safetensors"
    save_file(state, str(complete))
    assert not load_clip("ViT-S-32", str(complete)).is_random


# ---- Inception (FID) and I3D (FVD) -----------------------------------------------------------


def test_inception_missing_tensor_is_refused_counters_are_optional(tmp_path):
    state = _randomised(build_fid_inception(), 0)
    partial = tmp_path / "pt_inception.pth"
    torch.save({k: v for k, v in state.items() if k != "Mixed_7c.branch_pool.conv.weight"}, partial)
    _refused(lambda: load_inception(str(partial)), "Mixed_7c.branch_pool.conv.weight", partial)
    shape = tmp_path / "wrong_shape.pth"
    torch.save({**state, "fc.bias": torch.zeros(3)}, shape)
    _refused(lambda: load_inception(str(shape)), "fc.bias", shape)
    no_counters = tmp_path / "no_counters.safetensors"
    save_file(
        {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, str(no_counters)
    )
    load_inception(str(no_counters))


@pytest.fixture(scope="module")
def i3d_state() -> dict[str, torch.Tensor]:
    return _randomised(InceptionI3d(), 1)


def test_i3d_missing_tensor_is_refused(tmp_path, i3d_state):
    partial = tmp_path / "rgb_imagenet.pt"
    torch.save({k: v for k, v in i3d_state.items() if k != "Mixed_4b.b0.bn.running_var"}, partial)
    _refused(lambda: load_i3d(str(partial)), "Mixed_4b.b0.bn.running_var", partial)
    with pytest.raises(WeightsMismatchError) as error:  # the same through the runner's path
        Backbones(options={"i3d": {"weights": str(partial)}}).get("i3d")
    assert "Mixed_4b.b0.bn.running_var" in str(error.value)


def test_i3d_bn_eps_option_runs_videogpt_style_files(tmp_path, i3d_state):
    """bn_eps=1e-5 (VideoGPT's definition) reaches every batch norm, and the features equal
    a reference network built with that eps; the default stays piergiaj's 1e-3."""
    path = tmp_path / "i3d_pretrained_400.pt"
    torch.save(i3d_state, path)
    video = torch.rand(1, 9, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    loaded = {}
    for eps in (BN_EPS["piergiaj"], BN_EPS["videogpt"]):
        net = Backbones(options={"i3d": {"weights": str(path), "bn_eps": eps}}).get("i3d")
        epsilons = {m.eps for m in net.modules() if isinstance(m, torch.nn.BatchNorm3d)}
        assert epsilons == {eps}
        net.size = 64
        reference = InceptionI3d(bn_eps=eps)
        reference.load_state_dict(i3d_state)
        torch.testing.assert_close(net(video), I3DFeatures(reference, "ref", size=64)(video))
        loaded[eps] = net(video)
    assert not torch.allclose(loaded[1e-3], loaded[1e-5])  # the constant matters
    assert {
        m.eps for m in load_i3d(str(path)).modules() if isinstance(m, torch.nn.BatchNorm3d)
    } == {1e-3}


# ---- X-CLIP ----------------------------------------------------------------------------------


def test_xclip_folder_missing_tensor_is_refused(tmp_path):
    from test_weights_loading_semantic import save_tiny_xclip

    folder = save_tiny_xclip(tmp_path / "xclip")
    load_xclip(str(folder))
    weights = folder / "model.safetensors"
    state = load_file(str(weights))
    missing = "text_model.encoder.layers.0.mlp.fc1.weight"
    assert missing in state
    del state[missing]
    save_file(state, str(weights))
    _refused(lambda: load_xclip(str(folder)), missing, folder)
