from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tgibench.video import (
    VideoError,
    check_video,
    quantize,
    read_image,
    read_video,
    to_float,
    to_uint8,
    write_video,
)


def test_lossless_round_trip_with_both_readers(tmp_path):
    video = quantize(torch.rand(9, 3, 24, 40, generator=torch.Generator().manual_seed(0)))
    write_video(tmp_path / "v.mp4", video)
    assert torch.equal(read_video(tmp_path / "v.mp4", backend="decord"), video)
    assert torch.equal(read_video(tmp_path / "v.mp4", backend="pyav"), video)
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left nothing behind


def test_unreadable_and_missing_videos(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(VideoError, match="bad.mp4: not a readable video"):
        read_video(tmp_path / "bad.mp4")
    with pytest.raises(VideoError, match="not found"):
        read_video(tmp_path / "none.mp4")
    good = tmp_path / "good.mp4"
    write_video(good, torch.rand(5, 3, 16, 16))
    (tmp_path / "cut.mp4").write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(VideoError, match="cut.mp4"):
        read_video(tmp_path / "cut.mp4")


def test_odd_sizes_are_refused_for_h264(tmp_path):
    with pytest.raises(VideoError, match="even height and width"):
        write_video(tmp_path / "odd.mp4", torch.rand(3, 3, 15, 16))
    assert not (tmp_path / "odd.mp4").exists()


def test_grayscale_and_rgba_images_become_rgb(tmp_path):
    Image.fromarray(np.full((4, 5), 128, np.uint8), mode="L").save(tmp_path / "g.png")
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    gray = read_image(tmp_path / "g.png")
    assert gray.shape == (3, 4, 5) and torch.allclose(gray, torch.full_like(gray, 128 / 255))
    red = read_image(tmp_path / "a.png")
    assert (
        red.shape == (3, 4, 5)
        and red[0].max() == pytest.approx(128 / 255, abs=1 / 255)
        and red[1:].max() == 0
    )


@pytest.mark.parametrize(
    ("video", "message"),
    [
        (torch.rand(4, 1, 8, 8), "expected shape"),
        (torch.rand(1, 3, 8, 8), "at least 2 needed"),
        ((torch.rand(4, 3, 8, 8) * 255).long(), "float tensor"),
        (torch.full((4, 3, 8, 8), float("inf")), "NaN or inf"),
        (torch.full((4, 3, 8, 8), -0.5), "must lie in"),
    ],
)
def test_check_video_names_the_problem(video, message):
    with pytest.raises(VideoError, match=message):
        check_video(video)


def test_uint8_videos_round_trip_without_a_float_copy(tmp_path):
    video = quantize(torch.rand(5, 3, 16, 24))
    as_bytes = to_uint8(video)
    assert as_bytes.dtype == torch.uint8 and check_video(as_bytes) is as_bytes
    assert torch.equal(to_float(as_bytes), video)
    path = tmp_path / "v.mp4"
    write_video(path, as_bytes)
    decoded = read_video(path, dtype=torch.uint8)
    assert decoded.dtype == torch.uint8 and torch.equal(decoded, as_bytes)
    assert torch.equal(read_video(path), video)
