"""Validation figures of docs/metrics.md: each metric against a reference or a known order.

    python benchmarks/metrics_validation.py [--bench mini] [--cases 6] [--threads 1]

On the benchmark's 25-frame ground-truth clips (real footage and photographs moved along
known camera paths), prints markdown tables of

- reconstruction: our PSNR/SSIM vs scikit-image and our LPIPS vs the ``lpips`` package
  (same weights), on each clip vs its crossfade inbetween: largest absolute difference;
- distribution: our Fréchet distance vs the textbook formula with ``scipy.linalg.sqrtm``
  on random features, and vs the closed form for Gaussians with diagonal covariances;
- consistency, pace and semantic: the mean score of the ground truth and of broken copies
  of it (shuffled middle frames, reversed, brightness flicker, a stall then a jump).
  ``desc_trajectory`` is anchored on the ground truth's first and last frames (the given
  keyframes) with a random-init CLIP (no CLIP weights offline), so it shows the maths, not
  CLIP's semantics.
"""

from __future__ import annotations

import argparse
import warnings
from collections import defaultdict

import numpy as np
import scipy.linalg
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from tgibench.data import load_benchmark
from tgibench.features.clip import load_clip
from tgibench.features.lpips_net import LPIPSNet, lpips_state_dict
from tgibench.metrics.functional import (
    desc_trajectory,
    flicker,
    frechet_distance,
    frechet_feature_distance,
    lpips,
    lpips_frames,
    pace_stability,
    psnr,
    ssim,
    warping_error,
)
from tgibench.models import build_model


def _hwc(frame: torch.Tensor) -> np.ndarray:
    return frame.permute(1, 2, 0).double().numpy()


def reconstruction_gaps(
    video: torch.Tensor, target: torch.Tensor, net: LPIPSNet
) -> dict[str, float]:
    """Largest |ours - reference| over the in-between frames of one clip."""
    import lpips as lpips_package

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = lpips_package.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False)
    reference.load_state_dict(lpips_state_dict("alex"), strict=False)
    middle = range(1, video.shape[0] - 1)
    ref_psnr = [
        peak_signal_noise_ratio(_hwc(target[i]), _hwc(video[i]), data_range=1) for i in middle
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
        for i in middle
    ]
    with torch.no_grad():
        ref_lpips = reference(video[1:-1], target[1:-1], normalize=True).flatten()
    return {
        "psnr (dB)": float(np.abs(psnr(video, target, reduction="none").numpy() - ref_psnr).max()),
        "ssim": float(np.abs(ssim(video, target, reduction="none").numpy() - ref_ssim).max()),
        "lpips": float((lpips(video, target, reduction="none", net=net) - ref_lpips).abs().max()),
    }


def frechet_gaps() -> dict[str, float]:
    """Relative gaps of our Fréchet distance to scipy's sqrtm formula and to a closed form."""
    rng = np.random.default_rng(0)
    gaps = {}
    for n, dim in ((100, 8), (500, 64), (60, 128)):
        x = rng.standard_normal((n, dim)) @ rng.standard_normal((dim, dim))
        y = rng.standard_normal((n, dim)) @ rng.standard_normal((dim, dim)) + 0.3
        s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
        ref = ((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(
            s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real
        )
        ours = float(frechet_feature_distance(torch.from_numpy(x), torch.from_numpy(y)))
        gaps[f"vs scipy sqrtm, N={n}, D={dim}"] = abs(ours - ref) / ref
    a, b = rng.random(512) + 0.1, rng.random(512) + 0.1
    mu1, mu2 = rng.standard_normal(512), rng.standard_normal(512)
    closed = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    ours = float(
        frechet_distance(*(torch.from_numpy(v) for v in (mu1, np.diag(a), mu2, np.diag(b))))
    )
    gaps["vs closed form, diagonal Gaussians, D=512"] = abs(ours - closed) / closed
    return gaps


def broken_copies(video: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """The ground truth and copies with a known defect (same first and last frames)."""
    n = video.shape[0]
    gen = torch.Generator().manual_seed(seed)
    middle = torch.randperm(n - 2, generator=gen) + 1
    gain = 1 + 0.15 * torch.tensor([(-1) ** i for i in range(n)], dtype=torch.float32)
    gain[0] = gain[-1] = 1
    half = n // 2
    return {
        "ground truth": video,
        "shuffled middle": video[torch.cat([torch.tensor([0]), middle, torch.tensor([n - 1])])],
        "reversed": video.flip(0),
        "flicker ±15%": (video * gain.view(-1, 1, 1, 1)).clamp(0, 1),
        "stall then jump": video[[0] * half + [n - 1] * (n - half)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="mini")
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    net = LPIPSNet("alex")
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clip = load_clip("ViT-S-32", "random")
    crossfade = build_model("crossfade")
    cases = list(load_benchmark(args.bench, lengths=[25]))[: args.cases]
    gaps: dict[str, list[float]] = defaultdict(list)
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    scorers = {
        "lpips_frames ↓": lambda v, gt: float(lpips_frames(v, net=net)),
        "warping_error ↓": lambda v, gt: float(warping_error(v)),
        "flicker ↓": lambda v, gt: float(flicker(v)),
        "pace_stability ↑": lambda v, gt: float(pace_stability(v)),
        "desc_trajectory ↑ (random CLIP, keyframe anchors)": lambda v, gt: float(
            desc_trajectory(v, gt[0], gt[-1], net=clip)
        ),
    }
    for i, case in enumerate(cases):
        target = case.frames
        assert target is not None
        generated = crossfade.generate(case.first, case.last, case.caption, case.num_frames)
        for key, value in reconstruction_gaps(generated, target, net).items():
            gaps[key].append(value)
        for variant, video in broken_copies(target, i).items():
            for name, score in scorers.items():
                scores[name][variant].append(score(video, target))
    print(f"\nReference gaps over {len(cases)} clips (crossfade vs ground truth)\n")
    print("| metric | largest abs. difference |\n|---|---|")
    for key, values in gaps.items():
        print(f"| {key} | {max(values):.2e} |")
    print("\n| Fréchet distance | relative difference |\n|---|---|")
    for key, value in frechet_gaps().items():
        print(f"| {key} | {value:.1e} |")
    variants = list(next(iter(scores.values())))
    print(f"\nMean over {len(cases)} ground-truth clips and their broken copies\n")
    print(f"| score | {' | '.join(variants)} |\n" + "|---" * (len(variants) + 1) + "|")
    for name, by_variant in scores.items():
        print(f"| {name} | {' | '.join(f'{np.mean(by_variant[v]):.4f}' for v in variants)} |")
    print("\nclips: " + ", ".join(f"{c.case_id} ({c.challenge})" for c in cases))


if __name__ == "__main__":
    main()
