"""The ground truth's motion is computed once and then read back from the cache."""

from __future__ import annotations

import pytest
import torch
from conftest import natural_pan

import tgibench.features.motion as motion
from tgibench.features.backbones import Backbones
from tgibench.features.store import FeatureStore, ScoringInputs
from tgibench.video import quantize, to_uint8


def _stats(target: torch.Tensor):
    inputs = ScoringInputs(video=target.flip(0), target=target)
    return FeatureStore(inputs, Backbones("cpu", {}))["target_motion"]


def test_target_motion_is_cached_by_content(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TGIBENCH_CACHE", str(tmp_path))
    target = to_uint8(quantize(natural_pan(5)))
    first = _stats(target)
    assert len(list((tmp_path / "features" / "motion").glob("*.safetensors"))) == 1

    def fail(video):
        raise AssertionError("recomputed a cached ground truth")

    monkeypatch.setattr(motion, "motion_stats", fail)
    again = _stats(target.clone())
    for name in ("warp_error", "residual", "magnitude", "occluded", "grid"):
        assert torch.equal(getattr(again, name), getattr(first, name))
    with pytest.raises(AssertionError, match="recomputed"):  # other content: not a hit
        _stats(target.flip(0).contiguous())


def test_a_damaged_cache_entry_is_recomputed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TGIBENCH_CACHE", str(tmp_path))
    target = to_uint8(quantize(natural_pan(4)))
    first = _stats(target)
    (entry,) = (tmp_path / "features" / "motion").glob("*.safetensors")
    entry.write_bytes(b"not safetensors")
    assert torch.equal(_stats(target).magnitude, first.magnitude)
