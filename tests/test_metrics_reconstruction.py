"""PSNR/SSIM against scikit-image, LPIPS against the lpips package, and the metric classes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import natural_pan
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torchmetrics import MetricCollection

from tgibench.features.lpips_net import LPIPSNet, lpips_distances, lpips_state_dict
from tgibench.metrics import LPIPS, PSNR, SSIM, LPIPSFrames
from tgibench.metrics.functional import lpips, lpips_frames, psnr, ssim
from tgibench.video import VideoError


def _pair(seed: int, noise: float, shape=(6, 3, 40, 56)) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    target = torch.rand(shape, generator=gen)
    video = (target + noise * torch.randn(shape, generator=gen)).clamp(0, 1)
    return video, target


def _hwc(frame: torch.Tensor) -> np.ndarray:
    return frame.permute(1, 2, 0).double().numpy()


@pytest.mark.parametrize(("seed", "noise"), [(0, 0.02), (1, 0.1), (2, 0.3)])
def test_psnr_and_ssim_match_scikit_image(seed, noise):
    video, target = _pair(seed, noise)
    frames = range(1, video.shape[0] - 1)
    ref_psnr = [
        peak_signal_noise_ratio(_hwc(target[i]), _hwc(video[i]), data_range=1) for i in frames
    ]
    ref_ssim = [
        structural_similarity(
            _hwc(video[i]),
            _hwc(target[i]),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1,
            channel_axis=-1,
        )
        for i in frames
    ]
    np.testing.assert_allclose(psnr(video, target, reduction="none").numpy(), ref_psnr, rtol=1e-5)
    np.testing.assert_allclose(ssim(video, target, reduction="none").numpy(), ref_ssim, atol=1e-6)
    assert float(psnr(video, target)) == pytest.approx(np.mean(ref_psnr), rel=1e-5)


def test_keyframes_are_excluded():
    video, target = _pair(0, 0.1)
    video[0] = 1 - target[0]  # a wrong keyframe must not change reconstruction scores
    video[-1] = 1 - target[-1]
    ref_video, _ = _pair(0, 0.1)
    assert torch.equal(psnr(video, target), psnr(ref_video, target))
    assert torch.equal(ssim(video, target), ssim(ref_video, target))


def test_psnr_identity_is_capped():
    _, target = _pair(0, 0)
    assert float(psnr(target, target)) == 100.0
    assert float(ssim(target, target)) == pytest.approx(1.0, abs=1e-6)


def test_shape_and_range_errors():
    video, target = _pair(0, 0.1)
    with pytest.raises(VideoError, match="differ in shape"):
        psnr(video, target[:, :, :20])
    with pytest.raises(VideoError, match="NaN or inf"):
        psnr(video.clone().index_fill_(0, torch.tensor([2]), float("nan")), target)
    with pytest.raises(VideoError, match="values must lie in"):
        ssim(video * 3, target)


@pytest.fixture(scope="module")
def net() -> LPIPSNet:
    return LPIPSNet("alex")


def test_lpips_equals_the_lpips_package(net):
    import lpips as lpips_package

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = lpips_package.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False)
    reference.load_state_dict(lpips_state_dict("alex"), strict=False)
    video, target = _pair(3, 0.1)
    with torch.no_grad():
        expected = reference(video[1:-1], target[1:-1], normalize=True).flatten()
    torch.testing.assert_close(
        lpips(video, target, reduction="none", net=net), expected, atol=1e-6, rtol=1e-5
    )


@pytest.mark.parametrize("name", ["alex", "vgg"])
def test_lpips_architecture_is_the_lpips_packages(name):
    """tgibench's LPIPS network (built without importing the package) has the package's
    state-dict names and shapes, and with the same weights the same outputs, bit for bit."""
    import lpips as lpips_package

    from tgibench.features.lpips_arch import LPIPSArchitecture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = lpips_package.LPIPS(net=name, pretrained=False, pnet_rand=True, verbose=False)
    ours = LPIPSArchitecture(name)
    state = reference.state_dict()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in state.items()
    }
    ours.load_state_dict(state)
    images = torch.rand(2, 3, 48, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        expected = reference.net(reference.scaling_layer(images))
        actual = ours.net(ours.scaling_layer(images))
    assert len(actual) == len(expected) == 5
    assert all(torch.equal(a, e) for a, e in zip(actual, expected, strict=True))


@pytest.mark.parametrize(
    ("kernel", "size"), [(3, (39, 71)), (3, (19, 35)), (2, (48, 63)), (3, (3, 3))]
)
def test_strided_max_pool_equals_torchs(kernel, size):
    from tgibench.features.lpips_arch import StridedMaxPool

    maps = torch.randn(2, 5, *size, generator=torch.Generator().manual_seed(kernel))
    maps[0, 1, 1, 2] = float("nan")
    expected = torch.nn.MaxPool2d(kernel, stride=2)(maps)
    actual = StridedMaxPool(kernel, stride=2)(maps)
    assert actual.shape == expected.shape
    assert torch.equal(actual.nan_to_num(7.0), expected.nan_to_num(7.0))
    assert torch.equal(actual.isnan(), expected.isnan()) and actual.isnan().any()
    with pytest.raises(RuntimeError, match="too small"):
        StridedMaxPool(kernel, stride=2)(maps[..., : kernel - 1, :])


def test_lpips_weights_are_real_not_random(net):
    """On a photograph, real LPIPS ranks blur as a larger change than a one-pixel shift.

    Pixel metrics (PSNR) rank them the other way round; a random backbone does not
    reproduce the perceptual ordering reliably.
    """
    frames = natural_pan(5, 4.0)
    target = frames[[0, 0, 0]]
    shifted = frames[[0, 1, 0]]  # frame 1 is the photo moved by one pixel
    blurred = target.clone()
    blurred[1] = torch.nn.functional.avg_pool2d(
        target[1:2], 5, stride=1, padding=2, count_include_pad=False
    )[0]
    assert float(psnr(shifted, target)) < float(psnr(blurred, target))
    assert float(lpips(shifted, target, net=net)) < float(lpips(blurred, target, net=net))


def test_lpips_identity_and_monotonic_in_noise(net):
    _, target = _pair(5, 0)
    assert float(lpips(target, target, net=net)) == pytest.approx(0.0, abs=1e-7)
    values = [
        float(lpips(_pair(5, noise)[0], target, net=net)) for noise in (0.02, 0.05, 0.1, 0.2, 0.4)
    ]
    assert values == sorted(values) and values[0] < values[-1] / 4


def test_lpips_frames_adjacent_and_streaming(net):
    video, _ = _pair(6, 0.0, shape=(11, 3, 32, 40))
    per_pair = lpips_frames(video, reduction="none", net=net)
    assert per_pair.shape == (10,)
    direct = net(video[:-1], video[1:])
    torch.testing.assert_close(per_pair, direct, atol=1e-6, rtol=1e-5)
    # chunked streaming gives the same distances as one big batch
    chunked = lpips_distances(net, video, video.flip(0), chunk=3)
    whole = lpips_distances(net, video, video.flip(0), chunk=64)
    torch.testing.assert_close(chunked.adjacent, whole.adjacent)
    torch.testing.assert_close(chunked.to_target, whole.to_target)
    frozen = video[:1].expand(5, -1, -1, -1)
    assert float(lpips_frames(frozen, net=net)) == pytest.approx(0.0, abs=1e-7)


def test_keyframes_equal_to_the_truths_ends_reuse_its_features(net, monkeypatch):
    video, truth = _pair(9, 0.1, shape=(7, 3, 32, 40))
    keyframes = (truth[0].clone(), truth[-1].clone())
    seen: list[int] = []
    features = net.features
    monkeypatch.setattr(
        net, "features", lambda images: seen.append(len(images)) or features(images)
    )
    reused = lpips_distances(net, video, truth, keyframes, chunk=3)
    assert sum(seen) == 2 * len(video)  # the video and the truth, no keyframe pass
    seen.clear()
    apart = lpips_distances(net, video, None, keyframes, chunk=3)
    assert sum(seen) == len(video) + 2
    assert reused.to_keyframes is not None and apart.to_keyframes is not None
    torch.testing.assert_close(reused.to_keyframes, apart.to_keyframes, atol=1e-6, rtol=1e-5)
    seen.clear()
    other = (keyframes[0].flip(-1), keyframes[1])  # only the last one is the truth's
    lpips_distances(net, video, truth, other, chunk=3)
    assert sum(seen) == 2 * len(video) + 1


def test_batched_inputs_match_per_video():
    a, ta = _pair(7, 0.1)
    b, tb = _pair(8, 0.2)
    batch = psnr(torch.stack([a, b]), torch.stack([ta, tb]))
    torch.testing.assert_close(batch, torch.stack([psnr(a, ta), psnr(b, tb)]))
    assert ssim(torch.stack([a, b]), torch.stack([ta, tb]), reduction="none").shape == (2, 4)


def test_metric_classes_accumulate_like_functional(net):
    videos = [_pair(seed, 0.05 * seed) for seed in range(1, 4)]
    collection = MetricCollection({"psnr": PSNR(), "ssim": SSIM(), "lpips": LPIPS(net=net)})
    frames_metric = LPIPSFrames(net=net)
    for video, target in videos:
        collection.update(video[None], target[None])
        frames_metric.update(video)
    result = collection.compute()
    expected_psnr = np.mean([float(psnr(v, t)) for v, t in videos])
    assert float(result["psnr"]) == pytest.approx(expected_psnr, rel=1e-6)
    assert float(result["lpips"]) == pytest.approx(
        np.mean([float(lpips(v, t, net=net)) for v, t in videos]), rel=1e-5
    )
    assert float(frames_metric.compute()) == pytest.approx(
        np.mean([float(lpips_frames(v, net=net)) for v, _ in videos]), rel=1e-5
    )
    assert PSNR.higher_is_better and not LPIPS.higher_is_better
    with pytest.raises(ValueError, match="needs the ground-truth"):
        PSNR().update(videos[0][0])
