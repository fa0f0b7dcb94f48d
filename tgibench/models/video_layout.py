"""Finding the videos of benchmark cases in a folder laid out any way.

People keep generated videos as ``<case_id>.mp4``, ``<N>/<folder>.mp4``,
``<folder>_<N>.mp4``, ``mymodel_<folder>_<N>.mp4`` or frame folders. A **pattern** says
where a case's video is, relative to the folder, with the fields

- ``{case_id}``: the case id, ``<folder>-<N>`` (e.g. ``coffee_pan_right-25``);
- ``{folder}``: the folder part of the case id;
- ``{num_frames}``: the case's length N (format specs work: ``{num_frames:03d}``).

A pattern ending in a video suffix (``.mp4``, ...) names that file; without one it names a
base: ``<base>.mp4`` (or another video suffix) or a frame folder ``<base>/`` holding
``00000.png``, ``00001.png``, ... (or .jpg). ``/`` separates folders.

:func:`resolve` matches every case of a benchmark against a pattern, or, without one,
tries the common layouts (:data:`LAYOUTS`, and each with a model prefix found in the file
names) and keeps the one that matches most cases; :class:`Resolution` says what matched,
what is missing and which files match no case. :func:`read_case_video` is the per-case
lookup of the ``folder`` model.
"""

from __future__ import annotations

import os
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

import torch

from tgibench.data.layout import LayoutError, list_frame_files
from tgibench.video import ReadLimits, VideoError, read_frames, read_video

#: File suffixes read as videos.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")
#: Fields a pattern may use.
FIELDS = ("case_id", "folder", "num_frames")
#: Where the folder model looks by default: ``<case_id>.mp4`` or ``<case_id>/``.
DEFAULT_PATTERN = "{case_id}"
#: Layouts tried when no pattern is given, in order of preference on a tie.
LAYOUTS = (
    "{case_id}",
    "{num_frames}/{folder}",
    "{num_frames}/{case_id}",
    "{folder}/{num_frames}",
    "{folder}_{num_frames}",
    "{num_frames}_{folder}",
    "{folder}",
)
#: How deep :func:`scan` looks for videos below the folder.
SCAN_DEPTH = 4
#: Names listed in a summary line before "... and N more".
LISTED = 8


class LayoutMismatchError(ValueError):
    """A pattern is malformed, or no layout (or several equally) fits a folder's videos."""


class CaseKey(Protocol):
    """What a pattern needs of a case: ``case.case_id`` and ``case.num_frames``."""

    @property
    def case_id(self) -> str: ...
    @property
    def num_frames(self) -> int: ...


def check_pattern(pattern: str) -> str:
    """``pattern`` if it is a usable pattern, else LayoutMismatchError saying what is wrong.

    It must use only :data:`FIELDS`, name ``{case_id}`` or ``{folder}`` (or every case
    would share a file), and stay inside the folder (relative, no ``..``).
    """
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise LayoutMismatchError(f"video pattern {pattern!r}: {exc}") from None
    unknown = sorted(names - set(FIELDS))
    if unknown:
        raise LayoutMismatchError(
            f"video pattern {pattern!r}: unknown field(s) {', '.join(unknown)}; "
            f"use {', '.join('{' + f + '}' for f in FIELDS)}"
        )
    if not names & {"case_id", "folder"}:
        raise LayoutMismatchError(
            f"video pattern {pattern!r} names no {{case_id}} or {{folder}}: every case "
            "would read the same file"
        )
    parts = PurePosixPath(pattern).parts
    if pattern.startswith("/") or ".." in parts or not parts:
        raise LayoutMismatchError(
            f"video pattern {pattern!r} must be a path relative to the videos folder"
        )
    return pattern


def case_fields(case_id: str, num_frames: int) -> dict[str, str | int]:
    """The pattern fields of a case: its id, the folder part of the id, its length."""
    suffix = f"-{num_frames}"
    folder = case_id[: -len(suffix)] if case_id.endswith(suffix) else case_id
    return {"case_id": case_id, "folder": folder, "num_frames": num_frames}


def case_target(pattern: str, case: CaseKey) -> str:
    """The relative path (posix) that ``pattern`` gives for ``case``."""
    return pattern.format(**case_fields(case.case_id, case.num_frames))


def _has_video_suffix(path: str) -> bool:
    return path.lower().endswith(VIDEO_SUFFIXES)


def is_frame_folder(path: Path) -> bool:
    """Whether ``path`` is a folder holding numbered frames (``00000.png``, ...); a folder
    with gaps in its numbering counts too (reading it says what is wrong)."""
    if not path.is_dir():
        return False
    try:
        return bool(list_frame_files(path))
    except LayoutError:
        return True


class _Lookup(Protocol):
    def video(self, rel: str) -> bool: ...
    def frames(self, rel: str) -> bool: ...


@dataclass
class _Disk:
    """Asks the file system (one case at a time, as the folder model does)."""

    root: Path

    def video(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def frames(self, rel: str) -> bool:
        return is_frame_folder(self.root / rel)


@dataclass
class Scan:
    """Every video file and frame folder below ``root`` (up to SCAN_DEPTH levels), as
    relative posix paths; hidden folders are skipped and frame folders not entered."""

    root: Path
    videos: set[str] = field(default_factory=set)
    frame_folders: set[str] = field(default_factory=set)

    def video(self, rel: str) -> bool:
        return rel in self.videos

    def frames(self, rel: str) -> bool:
        return rel in self.frame_folders

    @property
    def entries(self) -> set[str]:
        """All videos and frame folders."""
        return self.videos | self.frame_folders


def scan(root: str | os.PathLike[str]) -> Scan:
    """List the videos and frame folders below ``root`` (see :class:`Scan`)."""
    found = Scan(Path(root))
    for current, dirs, files in os.walk(found.root):
        here = Path(current)
        rel = here.relative_to(found.root)
        if rel.parts and is_frame_folder(here):
            found.frame_folders.add(rel.as_posix())
            dirs[:] = []
            continue
        dirs[:] = (
            sorted(d for d in dirs if not d.startswith(".")) if len(rel.parts) < SCAN_DEPTH else []
        )
        found.videos.update((rel / name).as_posix() for name in files if _has_video_suffix(name))
    return found


def candidates(where: _Lookup, target: str) -> list[str]:
    """The entries that ``target`` (a pattern filled in for one case) names: the file
    itself if it has a video suffix, else ``target`` + any video suffix and the frame
    folder ``target/``."""
    if _has_video_suffix(target):
        return [target] if where.video(target) else []
    found = [target + suffix for suffix in VIDEO_SUFFIXES if where.video(target + suffix)]
    return found + ([target] if where.frames(target) else [])


def _expected(target: str) -> str:
    """How a summary or error names what a target could be."""
    if _has_video_suffix(target):
        return target
    return f"{target}{{{','.join(VIDEO_SUFFIXES)}}} or {target}/"


def _one(root: Path, pattern: str, case_id: str, target: str, found: list[str]) -> Path:
    """The single entry found for a case, or VideoError naming what was expected/found."""
    if len(found) == 1:
        return root / found[0]
    if not found:
        raise VideoError(
            f"case {case_id}: no video {_expected(target)} in {root} (pattern {pattern!r}; "
            "`tgibench score --videos DIR` without --pattern shows which layout fits)"
        )
    raise VideoError(
        f"case {case_id}: several videos in {root} fit pattern {pattern!r}: "
        f"{', '.join(found)}; keep one, or give the suffix in the pattern"
    )


def find_case_video(root: Path, pattern: str, case_id: str, num_frames: int) -> Path:
    """The video file or frame folder of one case under ``root``; VideoError if there is
    none or more than one."""
    target = pattern.format(**case_fields(case_id, num_frames))
    return _one(root, pattern, case_id, target, candidates(_Disk(root), target))


def read_case_video(
    root: Path, pattern: str, case_id: str, num_frames: int, limits: ReadLimits | None = None
) -> torch.Tensor:
    """Read one case's video under ``root`` as uint8 (T, 3, H, W) (as decoded; a frame
    folder's images in order). VideoError names the case and the pattern if it is missing,
    ambiguous or unreadable, or over ``limits`` (checked before decoding)."""
    path = find_case_video(root, pattern, case_id, num_frames)
    if path.is_dir():
        try:
            return read_frames(list_frame_files(path), dtype=torch.uint8, limits=limits)
        except LayoutError as exc:
            raise VideoError(f"case {case_id}: {exc}") from None
    return read_video(path, dtype=torch.uint8, limits=limits)


@dataclass
class Resolution:
    """How the videos under ``root`` map to the selected cases with ``pattern``.

    ``matched``: case id → its video file or frame folder; ``missing``: case ids without
    one; ``ambiguous``: case id → the several entries that fit it; ``extra``: entries
    (relative paths) that fit no case of the benchmark; ``unselected``: entries that fit
    cases left out by the selection (lengths, challenges). ``tried``: when the layout was
    detected (``detected``), the number of cases each layout matched.
    """

    root: Path
    pattern: str
    total: int
    matched: dict[str, Path] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    unselected: list[str] = field(default_factory=list)
    detected: bool = False
    tried: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every case has exactly one video and every video belongs to a case."""
        return not (self.missing or self.ambiguous or self.extra)

    def summary(self) -> str:
        """A few lines for the terminal: layout, matched, missing, ambiguous, extra."""
        how = "given"
        if self.detected:
            others = [f"{p!r}: {n}" for p, n in self.tried.items() if p != self.pattern]
            how = "detected" + (f"; other layouts matched {', '.join(others)}" if others else "")
        lines = [
            f"videos in {self.root}: layout {self.pattern!r} ({how})",
            f"  matched: {len(self.matched)} of {_count(self.total, 'case')}",
        ]
        if self.missing:
            lines.append(
                f"  missing: {_count(len(self.missing), 'case')}: {_listing(self.missing)}"
            )
        if self.ambiguous:
            items = [f"{case} ({', '.join(hits)})" for case, hits in self.ambiguous.items()]
            lines.append(f"  several videos for {_count(len(items), 'case')}: {_listing(items)}")
        if self.extra:
            lines.append(f"  no case for {_count(len(self.extra), 'file')}: {_listing(self.extra)}")
        if self.unselected:
            lines.append(f"  ignored: {_count(len(self.unselected), 'file')} of cases not selected")
        return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f", ... and {len(items) - LISTED} more" if len(items) > LISTED else "")


def _distinguishes(pattern: str, cases: Sequence[CaseKey]) -> bool:
    return len({case_target(pattern, c) for c in cases}) == len(cases)


def _match(
    found: Scan, pattern: str, cases: Sequence[CaseKey], others: Iterable[CaseKey]
) -> Resolution:
    result = Resolution(found.root, pattern, total=len(cases))
    claimed: set[str] = set()
    for case in cases:
        hits = candidates(found, case_target(pattern, case))
        claimed.update(hits)
        if len(hits) == 1:
            result.matched[case.case_id] = found.root / hits[0]
        elif hits:
            result.ambiguous[case.case_id] = hits
        else:
            result.missing.append(case.case_id)
    outside = {hit for case in others for hit in candidates(found, case_target(pattern, case))}
    result.unselected = sorted(outside - claimed)
    result.extra = sorted(found.entries - claimed - outside)
    return result


def _stem(entry: str, found: Scan) -> str:
    """An entry's last path component without its video suffix."""
    name = entry.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if entry in found.videos else name


def _prefixed(layout: str, found: Scan, cases: Sequence[CaseKey]) -> str | None:
    """``layout`` with the model prefix most file names carry before its last component
    (``mymodel_{folder}_{num_frames}``), or None when no name has a prefix."""
    wanted: dict[str, set[str]] = {}
    for case in cases:
        parent, _, name = case_target(layout, case).rpartition("/")
        wanted.setdefault(parent, set()).add(name)
    prefixes: Counter[str] = Counter()
    for entry in found.entries:
        stem = _stem(entry, found)
        names = wanted.get(entry.rpartition("/")[0], set())
        prefixes.update(stem[:i] for i in range(1, len(stem)) if stem[i:] in names)
    if not prefixes:
        return None
    prefix = prefixes.most_common(1)[0][0].replace("{", "{{").replace("}", "}}")
    parent, slash, last = layout.rpartition("/")
    return f"{parent}{slash}{prefix}{last}"


def resolve(
    root: str | os.PathLike[str],
    cases: Sequence[CaseKey],
    pattern: str | None = None,
    unselected: Iterable[CaseKey] = (),
) -> Resolution:
    """Map the videos under ``root`` to ``cases`` with ``pattern``, or with the layout of
    :data:`LAYOUTS` that matches most cases (with the model prefix most file names carry,
    when that matches more).

    ``unselected``: the benchmark's other cases; their videos are not counted as extra.
    Raises LayoutMismatchError when the pattern is malformed or gives one file to two
    cases, when no layout matches any case, or when layouts that map the cases
    differently match equally many (then ``--pattern`` must choose).
    """
    found = scan(root)
    others = list(unselected)
    if pattern is not None:
        check_pattern(pattern)
        if not _distinguishes(pattern, cases):
            raise LayoutMismatchError(
                f"video pattern {pattern!r} gives the same file to several cases; "
                "add {num_frames} (or use {case_id})"
            )
        return _match(found, pattern, cases, others)
    plain = [_match(found, p, cases, others) for p in LAYOUTS if _distinguishes(p, cases)]
    prefixes = dict.fromkeys(_prefixed(layout, found, cases) for layout in LAYOUTS)
    prefixed = [_match(found, p, cases, others) for p in prefixes if p and _distinguishes(p, cases)]
    best = max((len(r.matched) for r in plain), default=0)
    # a name prefix is taken only when it explains more cases than every plain layout: a
    # folder name that ends another one's ("pan", "coffee_pan") is not a model prefix
    results = prefixed if any(len(r.matched) > best for r in prefixed) else plain
    best = max((len(r.matched) for r in results), default=0)
    if best == 0:
        raise LayoutMismatchError(
            f"no video in {root} fits a case: found {_listing(sorted(found.entries)) or 'nothing'}; "
            f"tried the layouts {', '.join(map(repr, LAYOUTS))} (and with a name prefix); "
            "give the layout with --pattern, e.g. --pattern '{num_frames}/{folder}.mp4'"
        )
    top = [r for r in results if len(r.matched) == best]
    if any(r.matched != top[0].matched for r in top[1:]):
        raise LayoutMismatchError(
            f"the videos in {root} fit several layouts equally well "
            f"({', '.join(repr(r.pattern) for r in top)}: {best} cases each); "
            "choose one with --pattern"
        )
    chosen = top[0]
    chosen.detected = True
    chosen.tried = {r.pattern: len(r.matched) for r in [*plain, *prefixed] if r.matched}
    return chosen
