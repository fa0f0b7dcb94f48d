"""Property and fuzz tests: parsers and readers never crash on hostile input; metrics keep
their ranges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tgibench.data import BenchmarkError, LayoutError, load_benchmark
from tgibench.data.layout import CAPTION_KEYS, parse_record, safe_folder
from tgibench.data.manifest import validate_manifest
from tgibench.metrics.functional import flicker, pace_stability, psnr, ssim, warping_error
from tgibench.spec import SpecError, parse_spec
from tgibench.video import VideoError, read_image, read_video

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
entries = st.one_of(
    json_values,
    st.fixed_dictionaries({k: st.one_of(st.text(max_size=30), json_values) for k in CAPTION_KEYS}),
)
fuzz = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(entry=entries)
def test_caption_entries_parse_or_fail_cleanly(entry):
    try:
        record = parse_record(entry, "file entry 0")
    except LayoutError as exc:
        assert "file entry 0" in str(exc)
    else:
        assert isinstance(record.folder, str) and record.folder.strip()


@fuzz
@given(folder=st.text(min_size=1, max_size=30))
def test_folder_names_never_escape(tmp_path, folder):
    root = tmp_path / "TGI-Dataset"
    root.mkdir(exist_ok=True)
    try:
        path = safe_folder(root, folder)
    except LayoutError:
        return
    assert path.resolve().is_relative_to(root.resolve()) and path.parent == root


@fuzz
@given(content=st.lists(entries, max_size=5) | json_values)
def test_caption_files_load_or_fail_cleanly(tmp_path, content):
    (tmp_path / "TGI-Dataset").mkdir(exist_ok=True)
    (tmp_path / "25_dataset_caption.json").write_text(json.dumps(content))
    try:
        bench = load_benchmark(tmp_path)
    except BenchmarkError:
        return
    for case in bench:  # every case is usable or carries its defect
        assert case.defect is not None or case.frame_paths


@fuzz
@given(
    manifest=json_values
    | st.fixed_dictionaries({"schema_version": st.just(1), "cases": json_values})
)
def test_manifest_validation_fails_cleanly(manifest):
    with pytest.raises(BenchmarkError, match="manifest does not follow the schema"):
        validate_manifest(manifest)


@fuzz
@given(data=st.binary(max_size=2048))
def test_video_and_image_readers_fail_cleanly(tmp_path, data):
    for name, reader in (("v.mp4", read_video), ("f.jpg", read_image)):
        path: Path = tmp_path / name
        path.write_bytes(data)
        try:
            result = reader(path)
        except VideoError as exc:
            assert str(path) in str(exc)
        else:
            assert (
                result.dtype == torch.float32
                and 0 <= float(result.min()) <= float(result.max()) <= 1
            )


@fuzz
@given(text=st.text(max_size=40))
def test_spec_parser_fails_cleanly(text):
    try:
        name, options = parse_spec(text)
    except SpecError:
        return
    assert name and isinstance(options, dict)


videos = st.builds(
    lambda seed, t, h, w, noise: _noisy_pair(seed, t, h, w, noise),
    st.integers(0, 10_000),
    st.integers(3, 6),
    st.integers(11, 24),
    st.integers(11, 24),
    st.floats(0, 1),
)


def _noisy_pair(seed, t, h, w, noise):
    gen = torch.Generator().manual_seed(seed)
    target = torch.rand(t, 3, h, w, generator=gen)
    return (target + noise * torch.randn(target.shape, generator=gen)).clamp(0, 1), target


@settings(max_examples=40, deadline=None)
@given(pair=videos)
def test_psnr_ssim_ranges_identity_and_symmetry(pair):
    video, target = pair
    value = float(psnr(video, target))
    assert 0 <= value <= 100
    assert float(psnr(video, target)) == pytest.approx(float(psnr(target, video)))
    s = float(ssim(video, target))
    assert -1 <= s <= 1
    assert s == pytest.approx(float(ssim(target, video)), abs=1e-6)
    assert float(ssim(target, target)) == pytest.approx(1.0, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(pair=videos)
def test_flow_based_metrics_stay_in_their_ranges(pair):
    video, target = pair
    assert 0 <= float(warping_error(video)) <= 1
    assert 0 <= float(flicker(video)) <= 1
    for reference in (None, target):
        value = float(pace_stability(video, reference))
        assert 0 <= value <= 1
    assert float(pace_stability(target, target)) == pytest.approx(1.0, abs=1e-6)
