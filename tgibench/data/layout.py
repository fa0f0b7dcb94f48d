"""TGI-Bench's on-disk layout, and the one rule that says which frames make a case.

Layout (the published dataset; the bundled mini-bench uses the same)::

    ROOT/TGI-Dataset/<folder>/00000.jpg, 00001.jpg, ...
    ROOT/<N>_dataset_caption.json            for N in 25, 33, 65, 81

Each caption file is a JSON list of ``{folder, first_image_desc, last_image_desc,
challenge, caption}``. A case is (folder, N). Caption files are also looked for inside
``TGI-Dataset/``; frame files may be .jpg, .jpeg or .png named by their 0-based index.

Frame selection (the paper does not publish it; our reading, recorded in every manifest):
``first-n`` takes frames 0 .. N-1 of the folder, frame 0 and frame N-1 being the
keyframes. ``uniform`` is offered for experiments: N frames spread evenly over the folder.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LENGTHS: tuple[int, ...] = (25, 33, 65, 81)
FRAMES_DIR = "TGI-Dataset"
CAPTION_KEYS: tuple[str, ...] = (
    "folder",
    "first_image_desc",
    "last_image_desc",
    "challenge",
    "caption",
)
FRAME_RULES: dict[str, str] = {
    "first-n": "frames 0..N-1 of the folder; frame 0 and frame N-1 are the keyframes",
    "uniform": "N frames at indices round(i*(K-1)/(N-1)) of the folder's K frames",
}
DEFAULT_FRAME_RULE = "first-n"

_FRAME_FILE = re.compile(r"^(\d+)\.(jpg|jpeg|png)$", re.IGNORECASE)
_CAPTION_FILE = re.compile(r"^(\d+)_dataset_caption\.json$")


class LayoutError(ValueError):
    """The benchmark root or one of its files does not follow the TGI-Bench layout."""


def caption_files(root: Path) -> dict[int, Path]:
    """Map sequence length N → its caption file, searching ROOT and ROOT/TGI-Dataset."""
    found: dict[int, Path] = {}
    for directory in (root, root / FRAMES_DIR):
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                match = _CAPTION_FILE.match(path.name)
                if match:
                    found.setdefault(int(match.group(1)), path)
    return found


def frames_root(root: Path) -> Path:
    """The directory holding one sub-folder per clip (ROOT/TGI-Dataset)."""
    candidate = root / FRAMES_DIR
    if not candidate.is_dir():
        raise LayoutError(f"{root}: no {FRAMES_DIR}/ folder of frame folders found")
    return candidate


def read_caption_file(path: Path) -> list[Any]:
    """Parse one caption file into its raw list of entries; raise LayoutError if unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayoutError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise LayoutError(f"{path}: expected a JSON list of cases, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class CaptionRecord:
    """One validated entry of a caption file."""

    folder: str
    first_desc: str
    last_desc: str
    challenge: str
    caption: str


def parse_record(entry: Any, where: str) -> CaptionRecord:
    """Validate one caption-file entry; raise LayoutError naming ``where`` and the problem."""
    if not isinstance(entry, dict):
        raise LayoutError(f"{where}: expected an object, got {type(entry).__name__}")
    missing = [k for k in CAPTION_KEYS if k not in entry]
    if missing:
        raise LayoutError(f"{where}: missing key(s) {', '.join(missing)}")
    wrong = [k for k in CAPTION_KEYS if not isinstance(entry[k], str)]
    if wrong:
        raise LayoutError(f"{where}: key(s) {', '.join(wrong)} must be strings")
    if not entry["folder"].strip():
        raise LayoutError(f"{where}: empty folder name")
    return CaptionRecord(
        folder=entry["folder"],
        first_desc=entry["first_image_desc"],
        last_desc=entry["last_image_desc"],
        challenge=entry["challenge"],
        caption=entry["caption"],
    )


def safe_folder(frames_dir: Path, folder: str) -> Path:
    """Resolve ``folder`` inside ``frames_dir``; refuse names that escape it.

    Refused: absolute paths, ``..`` components, path separators and symlinks that
    resolve outside ``frames_dir``.
    """
    if folder != folder.strip() or folder in (".", "..") or "/" in folder or "\\" in folder:
        raise LayoutError(
            f"folder name {folder!r} is not a plain name inside {FRAMES_DIR}/ (refused)"
        )
    if "\x00" in folder or Path(folder).is_absolute():
        raise LayoutError(
            f"folder name {folder!r} is not a plain name inside {FRAMES_DIR}/ (refused)"
        )
    path = frames_dir / folder
    resolved = path.resolve()
    if not resolved.is_relative_to(frames_dir.resolve()):
        raise LayoutError(
            f"folder {folder!r} resolves outside {frames_dir} to {resolved} (refused)"
        )
    return path


def list_frame_files(folder_path: Path) -> list[Path]:
    """Frame files of a folder, ordered by index; raise LayoutError on gaps or duplicates.

    Symlinked frame files that resolve outside the folder are refused.
    """
    if not folder_path.is_dir():
        raise LayoutError(f"{folder_path}: frame folder not found")
    indexed: dict[int, Path] = {}
    real_folder = folder_path.resolve()
    with os.scandir(folder_path) as entries:
        for entry in entries:
            match = _FRAME_FILE.match(entry.name)
            if not match:
                continue
            path = folder_path / entry.name
            index = int(match.group(1))
            if index in indexed:
                raise LayoutError(
                    f"{folder_path}: two files for frame {index}: {indexed[index].name}, {path.name}"
                )
            # only a symlink can lead out of the folder (a plain entry is in it)
            if entry.is_symlink() and not path.resolve().is_relative_to(real_folder):
                raise LayoutError(f"{path}: symlink points outside its folder (refused)")
            indexed[index] = path
    ordered = [indexed[i] for i in sorted(indexed)]
    for expected, index in enumerate(sorted(indexed)):
        if index != expected:
            raise LayoutError(
                f"{folder_path}: frame {expected:05d} is missing (next is {index:05d})"
            )
    return ordered


def select_frames(files: list[Path], num_frames: int, rule: str = DEFAULT_FRAME_RULE) -> list[Path]:
    """The frames that make an N-frame case under ``rule`` (see FRAME_RULES)."""
    if rule not in FRAME_RULES:
        raise LayoutError(f"unknown frame rule {rule!r}; choose from {sorted(FRAME_RULES)}")
    if len(files) < num_frames:
        folder = files[0].parent if files else "folder"
        raise LayoutError(
            f"{folder}: has {len(files)} frames, the {num_frames}-frame case needs {num_frames}"
        )
    if rule == "first-n":
        return files[:num_frames]
    last = len(files) - 1
    return [files[round(i * last / (num_frames - 1))] for i in range(num_frames)]
