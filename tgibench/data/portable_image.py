"""Image operations whose results are the same bytes on every CPU: the mini-bench's renderer.

OpenCV, FFmpeg's swscale and BLAS pick kernels for the CPU at run time (AVX-512, AVX2 and
FMA, SSE4, plain C), and their results differ in the last bits: enough to change a rounded
pixel, and so the bytes of a frame. The operations here use only what IEEE 754 makes exact
whatever the instruction set: element-wise float64 ``+ - *``, ``floor``, rounding,
comparisons and gathers, with every sum written out term by term in a fixed order (no
reductions, no matrix products, no transcendental functions on arrays). Kernel weights
that need ``exp`` or fractions are computed once per call in Python (``math.exp``,
:class:`fractions.Fraction`, ``math.fsum``).

Conventions, shared by every function:

- images are float64 arrays (H, W, C) (or (H, W)); pixel centres sit at integer
  coordinates, so pixel (x, y) covers [x - 0.5, x + 0.5) x [y - 0.5, y + 0.5);
- outside the image, samples are mirrored with the edge pixel repeated
  (``... c b a | a b c ... x y z | z y x ...``), except in :func:`warp_affine_linear`,
  which is transparent (zero) outside;
- bicubic sampling uses Keys' kernel with a = -0.75 (the value OpenCV uses).

What it costs: the mini-bench builds in about 25 s (5 s with OpenCV) on 2 cores.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

#: Keys' bicubic parameter.
CUBIC_A = -0.75

#: BT.601 limited-range YCbCr -> RGB, per 8-bit code value (the rule FFmpeg applies to video
#: whose colour space is not tagged, as in the clips the mini-bench cuts).
_Y_SCALE = 255 / 219
_CR_TO_R = 255 / 224 * 1.402
_CB_TO_G = 255 / 224 * 1.772 * 0.114 / 0.587
_CR_TO_G = 255 / 224 * 1.402 * 0.299 / 0.587
_CB_TO_B = 255 / 224 * 1.772


def mirror(index: np.ndarray, size: int) -> np.ndarray:
    """Integer positions folded into ``[0, size)`` by mirroring with the edge repeated."""
    folded = np.mod(index, 2 * size)
    return np.where(folded >= size, 2 * size - 1 - folded, folded)


def cubic_weights(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keys' bicubic weights of the samples at offsets -1, 0, 1, 2 from ``floor(x)``, for
    the fraction ``t = x - floor(x)`` in [0, 1); the four sum to 1 (to rounding)."""
    a = CUBIC_A
    s = t + 1.0
    r = 1.0 - t
    w0 = ((a * s - 5.0 * a) * s + 8.0 * a) * s - 4.0 * a
    w1 = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    w2 = ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0
    w3 = 1.0 - w0 - w1 - w2
    return w0, w1, w2, w3


def _apply_taps(image: np.ndarray, axis: int, index: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Resample ``image`` along ``axis``: output sample o is sum_k weight[o, k] *
    image[index[o, k]], summed over k in order. ``index``, ``weight``: (out, taps)."""
    moved = np.moveaxis(image, axis, 0)
    extra = (1,) * (moved.ndim - 1)
    total = np.zeros((index.shape[0], *moved.shape[1:]))
    for k in range(index.shape[1]):
        total = total + weight[:, k].reshape(-1, *extra) * moved[index[:, k]]
    return np.moveaxis(total, 0, axis)


def _cubic_taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Taps of a bicubic resize from ``size_in`` to ``size_out`` samples: output sample o
    reads input position (o + 1/2) * size_in / size_out - 1/2, computed exactly."""
    ratio = Fraction(size_in, size_out)
    centres = [(o + Fraction(1, 2)) * ratio - Fraction(1, 2) for o in range(size_out)]
    first = np.array([math.floor(c) for c in centres])
    frac = np.array([float(c - math.floor(c)) for c in centres])
    index = mirror(first[:, None] + np.arange(-1, 3)[None, :], size_in)
    return index, np.stack(cubic_weights(frac), axis=1)


def _area_taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Taps of an area-averaging reduction: output sample o is the mean of the input over
    [o, o + 1) * size_in / size_out, each input sample weighted by its overlap (exact
    fractions, rounded once)."""
    ratio = Fraction(size_in, size_out)
    taps = math.ceil(ratio) + 1
    index = np.zeros((size_out, taps), dtype=np.int64)
    weight = np.zeros((size_out, taps))
    for o in range(size_out):
        start, stop = o * ratio, (o + 1) * ratio
        for k, i in enumerate(range(math.floor(start), math.ceil(stop))):
            overlap = min(stop, Fraction(i + 1)) - max(start, Fraction(i))
            index[o, k] = i
            weight[o, k] = float(overlap / ratio)
    return index, weight


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W[, C]) float64 resized to ``size`` = (height, width): area averaging
    along an axis that shrinks, bicubic along one that grows (width first, then height)."""
    out = image
    for axis, target in ((1, size[1]), (0, size[0])):
        length = out.shape[axis]
        if length == target:
            continue
        taps = _area_taps if target < length else _cubic_taps
        out = _apply_taps(out, axis, *taps(length, target))
    return out


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` (H, W[, C]) float64 blurred by a Gaussian of ``sigma`` pixels (> 0),
    truncated at ceil(4 sigma), mirrored at the edges; rows first, then columns."""
    radius = math.ceil(4 * sigma)
    raw = [math.exp(-(k * k) / (2 * sigma * sigma)) for k in range(-radius, radius + 1)]
    total = math.fsum(raw)
    kernel = np.array([value / total for value in raw])
    out = image
    for axis in (1, 0):
        length = out.shape[axis]
        index = mirror(np.arange(length)[:, None] + np.arange(-radius, radius + 1), length)
        out = _apply_taps(out, axis, index, np.broadcast_to(kernel, index.shape))
    return out


def _source_points(matrix: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates (x, y), each (H, W), of every output pixel under the 2x3 affine
    ``matrix`` (output pixel -> source pixel)."""
    height, width = size
    x = np.arange(width, dtype=np.float64)[None, :]
    y = np.arange(height, dtype=np.float64)[:, None]
    (a, b, c), (d, e, f) = (tuple(float(v) for v in row) for row in matrix)
    return (a * x + b * y) + c, (d * x + e * y) + f


def warp_affine_cubic(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sample ``image`` (H, W, C) float64 bicubically at the source points of an output of
    ``size`` = (height, width) under ``matrix`` (2x3, output pixel -> source pixel),
    mirrored outside; (height, width, C)."""
    sx, sy = _source_points(matrix, size)
    x0, y0 = np.floor(sx), np.floor(sy)
    wx, wy = cubic_weights(sx - x0), cubic_weights(sy - y0)
    h, w = image.shape[:2]
    flat = image.reshape(h * w, -1)
    cols = [mirror(x0.astype(np.int64) + k, w) for k in range(-1, 3)]
    rows = [mirror(y0.astype(np.int64) + k, h) * w for k in range(-1, 3)]
    total = np.zeros((*size, flat.shape[1]))
    for row, weight_y in zip(rows, wy, strict=True):
        line = np.zeros_like(total)
        for col, weight_x in zip(cols, wx, strict=True):
            line = line + weight_x[..., None] * flat[row + col]
        total = total + weight_y[..., None] * line
    return total


def warp_affine_linear(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sample ``image`` (H, W, C) float64 bilinearly at the source points of an output of
    ``size`` = (height, width) under ``matrix``; zero outside the image."""
    sx, sy = _source_points(matrix, size)
    x0, y0 = np.floor(sx), np.floor(sy)
    tx, ty = sx - x0, sy - y0
    h, w = image.shape[:2]
    flat = np.concatenate([image.reshape(h * w, -1), np.zeros((1, image.shape[2]))])
    outside = h * w  # the index of the zero row
    total = np.zeros((*size, flat.shape[1]))
    for dy, weight_y in ((0, 1.0 - ty), (1, ty)):
        yi = y0.astype(np.int64) + dy
        for dx, weight_x in ((0, 1.0 - tx), (1, tx)):
            xi = x0.astype(np.int64) + dx
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            index = np.where(inside, yi * w + xi, outside)
            total = total + (weight_y * weight_x)[..., None] * flat[index]
    return total


def yuv420_to_rgb(planes: np.ndarray) -> np.ndarray:
    """A decoded 8-bit 4:2:0 frame as FFmpeg lays it out, (3H/2, W) uint8 (Y rows, then the
    U and V planes), to (H, W, 3) uint8 RGB: BT.601 limited range, each chroma sample
    covering its 2x2 pixels, rounded half to even and clipped to [0, 255]."""
    height = planes.shape[0] * 2 // 3
    width = planes.shape[1]
    luma = planes[:height].astype(np.float64) - 16.0
    chroma = planes[height:].reshape(2, height // 2, width // 2).astype(np.float64) - 128.0
    cb, cr = (np.repeat(np.repeat(c, 2, axis=0), 2, axis=1) for c in chroma)
    y = _Y_SCALE * luma
    red = y + _CR_TO_R * cr
    green = (y - _CB_TO_G * cb) - _CR_TO_G * cr
    blue = y + _CB_TO_B * cb
    return to_uint8(np.stack([red, green, blue], axis=-1))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float64 code values (0-255 scale) rounded half to even and clipped, as uint8."""
    return np.clip(np.round(image), 0, 255).astype(np.uint8)
