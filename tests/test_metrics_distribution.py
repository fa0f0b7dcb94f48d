"""FID and FVD: the Fréchet distance against independent computations, and the run path.

The distance is checked against closed forms for Gaussians (diagonal and commuting
covariances) and against scipy's matrix square root of Σ₁Σ₂ (the textbook formula) on
random features; the metric classes against the functional form and batch-wise against
one-shot; the run-level definitions through the runner's feature files and finalize.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch
from torchmetrics import MetricCollection

from tgibench.eval.run_metrics import finalize_run_metrics, save_case_features
from tgibench.features.backbones import Backbones
from tgibench.features.i3d import I3DFeatures, InceptionI3d
from tgibench.features.store import FeatureStore, ScoringInputs
from tgibench.metrics import FID, FVD, METRICS
from tgibench.metrics.functional import fid, frechet_distance, frechet_feature_distance, fvd
from tgibench.metrics.functional.distribution import FeatureMoments
from tgibench.video import to_float, to_uint8


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: on a loaded 2-core machine two threads make conv3d ~20x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def scipy_frechet(x: np.ndarray, y: np.ndarray) -> float:
    """The textbook computation: sample moments, scipy.linalg.sqrtm(Σ₁Σ₂)."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


@pytest.mark.parametrize("dim", [1, 3, 16])
def test_closed_form_for_diagonal_gaussians(dim):
    gen = torch.Generator().manual_seed(dim)
    mu1, mu2, a, b = torch.randn(4, dim, generator=gen, dtype=torch.float64)
    a, b = a.square() + 0.1, b.square() + 0.1
    expected = (mu1 - mu2).square().sum() + (a.sqrt() - b.sqrt()).square().sum()
    got = frechet_distance(mu1, torch.diag(a), mu2, torch.diag(b))
    assert float(got) == pytest.approx(float(expected), rel=1e-10, abs=1e-12)


def test_closed_form_for_commuting_covariances():
    """Σ₁ = Q diag(a) Qᵀ, Σ₂ = Q diag(b) Qᵀ (same eigenvectors): d² = ‖Δμ‖² + Σ(√a - √b)²."""
    gen = torch.Generator().manual_seed(1)
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=gen, dtype=torch.float64))
    a = torch.rand(8, generator=gen, dtype=torch.float64) * 3
    b = torch.rand(8, generator=gen, dtype=torch.float64) * 3
    shift = torch.randn(8, generator=gen, dtype=torch.float64)
    got = frechet_distance(torch.zeros(8), q @ torch.diag(a) @ q.T, shift, q @ torch.diag(b) @ q.T)
    expected = shift.square().sum() + (a.sqrt() - b.sqrt()).square().sum()
    assert float(got) == pytest.approx(float(expected), rel=1e-9)


@pytest.mark.parametrize(("n", "dim", "seed"), [(50, 4, 0), (200, 32, 1), (40, 64, 2)])
def test_features_match_scipy_sqrtm(n, dim, seed):
    """Random correlated features, including fewer samples than dimensions (singular Σ)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)) @ rng.standard_normal((dim, dim))
    y = rng.standard_normal((n + 7, dim)) @ rng.standard_normal((dim, dim)) + 0.5
    got = float(frechet_feature_distance(torch.from_numpy(x), torch.from_numpy(y)))
    assert got == pytest.approx(scipy_frechet(x, y), rel=1e-6)


def test_zero_for_same_set_and_shift_adds_its_square():
    x = torch.randn(30, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert float(frechet_feature_distance(x, x)) == pytest.approx(0.0, abs=1e-9)
    shift = torch.tensor([1.0, -2.0, 0.0, 0.5, 3.0], dtype=torch.float64)
    got = float(frechet_feature_distance(x + shift, x))
    assert got == pytest.approx(float(shift.square().sum()), rel=1e-8)


def test_moments_add_up_and_need_two_samples():
    x = torch.randn(20, 6, generator=torch.Generator().manual_seed(4))
    whole, first, rest = FeatureMoments.of(x), FeatureMoments.of(x[:7]), FeatureMoments.of(x[7:])
    summed = FeatureMoments(first.total + rest.total, first.outer + rest.outer, 20)
    for got, want in zip(summed.mean_cov(), whole.mean_cov(), strict=True):
        torch.testing.assert_close(got, want)
    torch.testing.assert_close(whole.mean_cov()[1], torch.from_numpy(np.cov(x.double().numpy().T)))
    with pytest.raises(ValueError, match="at least 2"):
        FeatureMoments.of(x[:1]).mean_cov()
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_feature_distance(x, x[:, :3])


class PixelStats(torch.nn.Module):
    """A user-plugged frame extractor: per-channel mean and std of 4x4 blocks (96-d)."""

    num_features = 96

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        frames = to_float(frames)  # a backbone gets what the store holds: uint8 videos
        pooled = torch.nn.functional.adaptive_avg_pool2d(frames, 4).flatten(1)
        squared = torch.nn.functional.adaptive_avg_pool2d(frames.square(), 4).flatten(1)
        return torch.cat([pooled, (squared - pooled.square()).clamp_min(0).sqrt()], dim=1)


def _videos(seed: int, batch: int, frames: int = 10, size: int = 24) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, frames, 3, size, size, generator=gen)


def test_fid_class_matches_functional_and_reference():
    extractor = PixelStats()
    fake, real = _videos(0, 4) * 0.8, _videos(1, 3)
    metric = FID(extractor=extractor)
    metric.update(fake[:1], real[:2])
    metric.update(fake[1:])
    metric.update_real(real[2:])
    one_shot = fid(fake, real, net=extractor)
    reference = scipy_frechet(
        extractor(fake.flatten(0, 1)).double().numpy(),
        extractor(real.flatten(0, 1)).double().numpy(),
    )
    assert float(metric.compute()) == pytest.approx(float(one_shot), rel=1e-9)
    assert float(one_shot) == pytest.approx(reference, rel=1e-6)
    metric.reset()
    assert int(metric.fake_count) == 0


def test_fid_grows_with_degradation_and_composes():
    extractor = PixelStats()
    real = _videos(2, 4)
    scores = [
        float(fid(real + noise * _videos(3, 4), real, net=extractor)) for noise in (0, 0.2, 0.6)
    ]
    assert scores[0] == pytest.approx(0.0, abs=1e-9) and scores[0] < scores[1] < scores[2]
    collection = MetricCollection({"fid": FID(extractor=extractor)})
    collection.update(real * 0.5, real)
    assert float(collection.compute()["fid"]) > scores[1]
    with pytest.raises(ValueError, match="num_features"):
        FID(extractor=lambda x: x.flatten(1))


def lively_(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Re-initialise convolutions so activations keep their scale through a deep random net
    (PyTorch's default init makes I3D/Inception outputs vanish, ~1e-8)."""
    gen = torch.Generator().manual_seed(seed)
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.Conv3d | torch.nn.Linear):
            fan_in = module.weight[0].numel()
            with torch.no_grad():
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen))
                module.weight.mul_((2 / fan_in) ** 0.5)
    return net


@pytest.fixture(scope="module")
def i3d() -> I3DFeatures:
    torch.manual_seed(0)
    return I3DFeatures(lively_(InceptionI3d(num_classes=400)), "random (test)", size=64)


def test_fvd_with_random_i3d_matches_reference(i3d):
    fake, real = _videos(5, 3, frames=9, size=32), _videos(6, 3, frames=9, size=32) * 0.5
    metric = FVD(extractor=i3d)
    for b in range(3):
        metric.update(fake[b], real[b])
    reference = scipy_frechet(i3d(fake).double().numpy(), i3d(real).double().numpy())
    assert float(metric.compute()) == pytest.approx(reference, rel=1e-5) and reference > 1e-3
    with pytest.raises(ValueError, match="at least 9 frames"):
        metric.update(fake[:, :8])


def test_fvd_functional_equals_class_with_a_plugged_video_extractor():
    class MeanFrameStats(PixelStats):
        def forward(self, videos: torch.Tensor) -> torch.Tensor:
            return torch.stack([super(MeanFrameStats, self).forward(v).mean(0) for v in videos])

    fake, real = _videos(11, 5, frames=4), _videos(12, 4, frames=4) ** 2
    metric = FVD(extractor=MeanFrameStats())
    metric.update(fake[:2], real)
    metric.update(fake[2:])
    assert float(metric.compute()) == pytest.approx(
        float(fvd(fake, real, net=MeanFrameStats())), rel=1e-9
    )
    assert float(fvd(real, real, net=MeanFrameStats())) == pytest.approx(0.0, abs=1e-9)


def test_run_level_definitions_through_store_files_and_finalize(tmp_path, i3d):
    """Per-case features saved like the runner does, finalized overall and per group; a
    group too small for a covariance (one clip) is named, not given a number."""
    backbones = Backbones()
    backbones.put("inception", PixelStats())
    backbones.put("i3d", i3d)
    fid_def, fvd_def = METRICS.get("fid"), METRICS.get("fvd")
    assert fid_def.run_level and fvd_def.run_level and not fid_def.higher_is_better
    assert fid_def.needs == ("target",) and fvd_def.backbones == ("i3d",)
    # quantised as the store quantises what it scores (uint8), so both paths see the same
    rows, fakes, reals = [], _videos(7, 4, frames=9, size=32), _videos(8, 4, frames=9, size=32)
    fakes, reals = (to_uint8(fakes).float() / 255, to_uint8(reals).float() / 255)
    clip_features: dict[str, list[np.ndarray]] = {"fake": [], "real": []}
    for i in range(4):
        store = FeatureStore(ScoringInputs(video=fakes[i], target=reals[i]), backbones)
        for metric in (fid_def, fvd_def):
            save_case_features(tmp_path, metric.name, f"c{i}", metric.compute(store))
        assert store.computed == ["inception", "i3d"]
        for side in clip_features:
            clip_features[side].append(store["i3d"][side].double().numpy())
        rows.append(
            {"case_id": f"c{i}", "challenge": "dynamic" if i < 3 else "linear", "num_frames": 9}
        )
    report = finalize_run_metrics(tmp_path, [fid_def, fvd_def], rows)
    assert report == json.loads((tmp_path / "run_metrics.json").read_text())
    expected_fid = FID(extractor=PixelStats())
    expected_fid.update(fakes, reals)
    assert report["fid"]["overall"] == pytest.approx(float(expected_fid.compute()), rel=1e-6)
    fake, real = (np.concatenate(clip_features[side]) for side in ("fake", "real"))
    assert report["fvd"]["overall"] == pytest.approx(scipy_frechet(fake, real), rel=1e-5)
    dynamic = scipy_frechet(fake[:3], real[:3])
    assert report["fvd"]["challenge"] == {"dynamic": pytest.approx(dynamic, rel=1e-5)}
    assert "at least 2" in report["fvd"]["unavailable_groups"]["challenge:linear"]
    assert set(report["fid"]["challenge"]) == {"dynamic", "linear"}  # 9 frames: a set
    assert "unavailable_groups" not in report["fid"]
    assert report["fid"]["cases"] == 4 and set(report["fid"]["num_frames"]) == {"9"}


def test_one_case_gives_fid_but_fvd_is_unavailable_not_a_number(tmp_path, i3d):
    """One case: ten frames per set make an FID, but one clip per set is no FVD."""
    backbones = Backbones()
    backbones.put("inception", PixelStats())
    backbones.put("i3d", i3d)
    store = FeatureStore(ScoringInputs(video=_videos(9, 1)[0], target=_videos(10, 1)[0]), backbones)
    metrics = [METRICS.get("fid"), METRICS.get("fvd")]
    for metric in metrics:
        save_case_features(tmp_path, metric.name, "only", metric.compute(store))
    row = {"case_id": "only", "challenge": "linear", "num_frames": 10}
    report = finalize_run_metrics(tmp_path, metrics, [row])
    assert report["fid"]["overall"] > 0
    assert report["fvd"] == {
        "unavailable": "ValueError: a covariance needs at least 2 feature vectors, got 1"
    }
