"""The mini-bench's CPU-independent image operations agree with independent implementations
(OpenCV, scikit-image) to the stated tolerances, and are exact where exactness is known."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from tgibench.data.portable_image import (
    cubic_weights,
    gaussian_blur,
    mirror,
    resize,
    warp_affine_cubic,
    warp_affine_linear,
    yuv420_to_rgb,
)


@pytest.fixture(scope="module")
def smooth() -> np.ndarray:
    """A smooth random RGB image, (90, 120, 3) float64 in [0, 1]."""
    noise = np.random.default_rng(0).random((90, 120, 3))
    image = cv2.GaussianBlur(noise, (0, 0), 2.0)
    return (image - image.min()) / (image.max() - image.min())


def test_mirror_repeats_the_edge() -> None:
    index = mirror(np.arange(-4, 9), 4)
    np.testing.assert_array_equal(index, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0])


def test_cubic_weights_interpolate_and_sum_to_one() -> None:
    t = np.linspace(0, 1, 101, endpoint=False)
    weights = cubic_weights(t)
    np.testing.assert_allclose(sum(weights), 1.0, atol=1e-15)
    assert [float(w[0]) for w in weights] == [0.0, 1.0, 0.0, 0.0]  # t = 0 reads the sample


@pytest.mark.parametrize("size", [(40, 50), (45, 60), (31, 17)])
def test_area_shrink_matches_opencv(smooth: np.ndarray, size: tuple[int, int]) -> None:
    expected = cv2.resize(smooth, size[::-1], interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(resize(smooth, size), expected, atol=1e-7)


def test_area_halving_is_the_mean_of_each_block(smooth: np.ndarray) -> None:
    blocks = smooth.reshape(45, 2, 60, 2, 3)
    mean = (blocks[:, 0, :, 0] + blocks[:, 0, :, 1] + blocks[:, 1, :, 0] + blocks[:, 1, :, 1]) / 4
    np.testing.assert_allclose(resize(smooth, (45, 60)), mean, atol=1e-15)


@pytest.mark.parametrize("size", [(160, 288), (200, 130)])
def test_cubic_growth_matches_opencv_inside(smooth: np.ndarray, size: tuple[int, int]) -> None:
    # OpenCV replicates the edge where we mirror it: the two differ in the outer 3 pixels
    expected = cv2.resize(smooth, size[::-1], interpolation=cv2.INTER_CUBIC)
    np.testing.assert_allclose(resize(smooth, size)[3:-3, 3:-3], expected[3:-3, 3:-3], atol=1e-5)


def test_resize_to_the_same_size_is_the_identity(smooth: np.ndarray) -> None:
    np.testing.assert_array_equal(resize(smooth, smooth.shape[:2]), smooth)


@pytest.mark.parametrize("sigma", [0.6, 1.3, 2.5])
def test_gaussian_blur_matches_opencv(smooth: np.ndarray, sigma: float) -> None:
    size = 2 * math.ceil(4 * sigma) + 1
    expected = cv2.GaussianBlur(smooth, (size, size), sigma, borderType=cv2.BORDER_REFLECT)
    np.testing.assert_allclose(gaussian_blur(smooth, sigma), expected, atol=1e-12)


def _rotation(angle: float, zoom: float, x: float, y: float) -> np.ndarray:
    cos, sin = math.cos(angle) * zoom, math.sin(angle) * zoom
    return np.array([[cos, -sin, x], [sin, cos, y]])


def test_cubic_warp_matches_opencv(smooth: np.ndarray) -> None:
    matrix = _rotation(0.3, 0.9, 20.3, -5.7)
    expected = cv2.warpAffine(
        smooth,
        matrix,
        (100, 80),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )
    np.testing.assert_allclose(warp_affine_cubic(smooth, matrix, (80, 100)), expected, atol=1e-5)


def test_identity_warps_return_the_image(smooth: np.ndarray) -> None:
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(warp_affine_cubic(smooth, identity, (90, 120)), smooth)
    np.testing.assert_array_equal(warp_affine_linear(smooth, identity, (90, 120)), smooth)


def test_linear_warp_matches_opencv_and_is_transparent_outside(smooth: np.ndarray) -> None:
    # OpenCV rounds positions to 1/32 pixel; on that grid the two agree
    rgba = np.concatenate([smooth, np.ones((90, 120, 1))], axis=-1)
    shift = np.array([[1.0, 0.0, -10.25], [0.0, 1.0, 7.625]])
    expected = cv2.warpAffine(
        rgba,
        shift,
        (100, 80),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    placed = warp_affine_linear(rgba, shift, (80, 100))
    np.testing.assert_allclose(placed, expected, atol=1e-6)
    assert (placed[:, :10] == 0).all() and (placed[:, 11:, 3] == 1).all()


def test_yuv_to_rgb_matches_scikit_image() -> None:
    from skimage.color import ycbcr2rgb

    rng = np.random.default_rng(1)
    luma = rng.integers(16, 236, (8, 10))
    cb, cr = rng.integers(16, 241, (2, 4, 5))
    planes = np.concatenate([luma, np.concatenate([cb, cr]).reshape(4, 10)]).astype(np.uint8)
    full = np.stack([luma, *(np.repeat(np.repeat(c, 2, 0), 2, 1) for c in (cb, cr))], axis=-1)
    expected = np.clip(ycbcr2rgb(full.astype(np.float64)) * 255, 0, 255)
    ours = yuv420_to_rgb(planes)
    assert ours.dtype == np.uint8 and ours.shape == (8, 10, 3)
    assert np.abs(ours - expected).max() <= 0.5 + 1e-9  # rounding only
