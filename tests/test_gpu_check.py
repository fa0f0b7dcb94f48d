"""benchmarks/gpu_check.py: the tiny mode runs on a CPU and reports every figure the GPU
run will (the full mode is documented in docs/method.md; it needs a CUDA device)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    return []


@pytest.mark.slow
def test_tiny_mode_reports_every_figure():
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--tiny"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["mode"] == "tiny" and report["device"] == "cpu"
    numbers = _numbers(report)
    assert numbers and all(math.isfinite(x) for x in numbers)

    kab = report["kab_retro"]
    for key in ("ratio_kab_active", "ratio_kab_inactive", "sampling_run_ratio"):
        assert kab[key] > 0
    assert {len(v) for v in kab["seconds"].values()} == {kab["repeats"]}
    assert kab["kab_active_checked"] == {"kab_active": True, "kab_inactive": False}
    # the paper's schedule: 50 steps with CFG, KAB at 0 < i/50 <= 0.4 in the cond branch
    assert kab["sampling_run"] == {"steps": 50, "forwards": 100, "kab_active_forwards": 20}
    low, high = sorted([kab["ratio_kab_active"], kab["ratio_kab_inactive"]])
    assert low - 1e-3 <= kab["sampling_run_ratio"] <= high + 1e-3
    assert kab["shape"]["video_tokens"] == 7 * 4 * 6
    assert kab["memory"]["weights_bytes"] > 0
    assert set(kab["memory"]["peak_bytes"]) == {"stock", "kab_active", "kab_inactive"}

    scoring = report["scoring"]
    assert scoring["video"] == [9, 3, 64, 96]
    assert {"psnr", "lpips", "clip_score", "xclip_score", "pace_stability", "fid", "fvd"} <= set(
        scoring["metrics"]
    )
    assert set(scoring["unavailable"]) <= {"vqa_score"}  # no VQA scorer is registered
    assert scoring["frames_per_second"] == pytest.approx(9 / scoring["seconds_median"], rel=0.01)
    assert scoring["memory"]["peak_bytes"] > 0 and scoring["memory"]["backbones_bytes"] > 0

    models = report["models"]
    assert set(models) == {"svd", "trf", "gi", "vibid", "ltx"}
    for name, entry in models.items():
        assert entry["spec"] == f"{name}:device=cpu,preset=tiny"
        assert entry["steps"] == 3 and entry["weights"] == "random init (tiny preset)"
        assert entry["seconds"]["25"] > 0 and entry["peak_bytes"]["25"] > 0


@pytest.mark.slow
def test_full_mode_is_the_14b_transformer_at_the_papers_shape():
    sys.path.insert(0, str(REPO))
    from benchmarks.gpu_check import FULL, build_transformer, main

    # built on the meta device: no memory, the real parameter count
    model = build_transformer(FULL.transformer, torch.device("meta"), torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    assert 13e9 < params < 17e9, params  # "14B"
    assert model.config.num_attention_heads * model.config.attention_head_dim == 5120
    frames, height, width = FULL.latent
    assert (frames - 1) * 4 + 1 == 81 and (height * 8, width * 8) == (480, 832)
    assert frames * (height // 2) * (width // 2) == 21 * 30 * 52
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):  # the full check refuses to run without CUDA
            main([])


@pytest.mark.slow
def test_full_mode_builds_the_comparison_models_at_their_real_size():
    sys.path.insert(0, str(REPO))
    from benchmarks.gpu_check import random_pipeline

    meta = torch.device("meta")
    svd = random_pipeline("svd", meta, torch.float16)
    ltx = random_pipeline("ltx", meta, torch.bfloat16)

    def billions(module: torch.nn.Module) -> float:
        return sum(p.numel() for p in module.parameters()) / 1e9

    assert 1.5 < billions(svd.unet) < 1.55 and svd.unet.dtype == torch.float16  # SVD-XT
    assert 0.6 < billions(svd.image_encoder) < 0.65 and svd.vae.dtype == torch.float32  # ViT-H
    assert svd.unet.config.num_frames == 25 and svd.vae_scale_factor == 8
    assert 1.8 < billions(ltx.transformer) < 2.0  # LTX-Video 2B
    assert 4.7 < billions(ltx.text_encoder) < 4.8  # T5-XXL encoder
    assert ltx.vae_temporal_compression_ratio == 8
