"""A benchmark's cases as plain files, for a model that runs in its own environment.

An export folder holds, for every case, the two keyframes as lossless PNG (exactly the
pixels of the case's frames 0 and N-1) and one line of ``cases.jsonl`` with the case's
texts and paths, relative to the folder:

``case_id``, ``folder``, ``challenge``, ``num_frames``, ``caption``, ``first_desc``,
``last_desc``, ``first`` (``keyframes/<case_id>/first.png``), ``last``
(``keyframes/<case_id>/last.png``) and ``video`` (``videos/<case_id>.mp4``): where the
model writes its video, and where ``tgibench score --videos DIR`` looks for it.

``export.json`` records which benchmark (name, source, fingerprint) and which cases were
exported; ``README.txt`` states the contract for whoever writes the model's script.
Exporting again is idempotent (files whose bytes would not change are not rewritten), and
exporting into a folder that holds another benchmark's export is refused.

A batch model (:mod:`tgibench.models.batch`) gets the same lines with absolute paths.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from tgibench import __version__
from tgibench.data.benchmark import Benchmark, BenchmarkError, Case
from tgibench.fileio import atomic_path, write_json_atomic, write_text_atomic

CASES_FILE = "cases.jsonl"
EXPORT_FILE = "export.json"
README_FILE = "README.txt"
KEYFRAMES_DIR = "keyframes"
VIDEOS_DIR = "videos"
#: The keys of every cases.jsonl line, in order.
CASE_KEYS = (
    "case_id",
    "folder",
    "challenge",
    "num_frames",
    "caption",
    "first_desc",
    "last_desc",
    "first",
    "last",
    "video",
)

README = """\
TGI-Bench cases exported for a model that runs elsewhere ({name}, {count} cases).

cases.jsonl has one JSON object per line, one per case:
  case_id     "<folder>-<N>", unique
  folder      the case's folder in the benchmark
  challenge   dynamic motion | linear motion | occlusion | near-static
  num_frames  N: the video has exactly N frames; frame 0 is the first keyframe and
              frame N-1 the last (the model generates the N-2 frames between them)
  caption     the text prompt describing the motion
  first_desc  a description of the first keyframe
  last_desc   a description of the last keyframe
  first       path of the first keyframe, a lossless PNG (relative to this folder)
  last        path of the last keyframe, a lossless PNG
  video       path where the model writes the case's video (relative to this folder)

Write each video to its `video` path: an mp4 (or another container FFmpeg reads) of
exactly num_frames frames, at any size (tgibench resizes to the ground truth's).
Write it under another name first and rename it when it is complete.

Then score:   tgibench score --videos {folder} --out RUN_DIR
"""


@dataclass
class ExportSummary:
    """What :func:`export_cases` did: cases listed, keyframe files written or unchanged,
    and the defective cases it left out (case_id -> reason)."""

    folder: Path
    cases: int = 0
    written: int = 0
    unchanged: int = 0
    skipped: dict[str, str] = field(default_factory=dict)


def case_paths(case_id: str) -> dict[str, str]:
    """The ``first``, ``last`` and ``video`` paths of a case, relative to an export folder."""
    return {
        "first": f"{KEYFRAMES_DIR}/{case_id}/first.png",
        "last": f"{KEYFRAMES_DIR}/{case_id}/last.png",
        "video": f"{VIDEOS_DIR}/{case_id}.mp4",
    }


#: The keys of a cases.jsonl line that describe the case (the others are paths).
TEXT_KEYS = CASE_KEYS[:7]


def case_texts(case: Case) -> dict[str, Any]:
    """A case's :data:`TEXT_KEYS` values."""
    return {key: getattr(case, key) for key in TEXT_KEYS}


def case_record(texts: Mapping[str, Any], paths: Mapping[str, str]) -> dict[str, Any]:
    """A cases.jsonl object: the case's ``texts`` (:data:`TEXT_KEYS`) and its ``first``,
    ``last`` and ``video`` paths, in :data:`CASE_KEYS` order."""
    merged = {**texts, **paths}
    return {key: merged[key] for key in CASE_KEYS}


def _png_bytes(pixels: Any) -> bytes:
    """(3, H, W) uint8 tensor as PNG file bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels.permute(1, 2, 0).numpy()).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly that; True
    when it wrote."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return True


def write_keyframes(case: Case, first: Path, last: Path) -> int:
    """Write a case's keyframes as PNG (exactly frames 0 and N-1); the number written."""
    import torch

    frames = case.keyframes(torch.uint8)
    return sum(
        _write_if_changed(p, _png_bytes(f)) for p, f in zip((first, last), frames, strict=True)
    )


def read_export(folder: Path) -> dict[str, Any] | None:
    """The folder's export.json, or None when it holds no export."""
    path = folder / EXPORT_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{path}: not a readable export record ({exc})") from None
    if not isinstance(record, dict) or "fingerprint" not in record:
        raise BenchmarkError(f"{path}: not an export record of tgibench")
    return record


def read_cases(path: Path) -> list[dict[str, Any]]:
    """The objects of a cases.jsonl file, checked for the keys of :data:`CASE_KEYS`."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise BenchmarkError(f"{path}:{number}: not JSON ({exc})") from None
        missing = [k for k in CASE_KEYS if k not in record]
        if missing:
            raise BenchmarkError(f"{path}:{number}: missing {', '.join(missing)}")
        cases.append(record)
    return cases


def export_cases(
    bench: Benchmark,
    fingerprint: str,
    source: str,
    out: str | os.PathLike[str],
    selection: Mapping[str, Any] | None = None,
    on_case: Callable[[Case], None] | None = None,
) -> ExportSummary:
    """Export ``bench``'s usable cases to ``out`` (see the module docstring).

    ``fingerprint`` and ``source`` identify the whole benchmark the cases come from (its
    manifest fingerprint and how it was named), ``selection`` how they were chosen from it
    (``{"lengths": [...] or None, "challenges": [...] or None}``, what ``tgibench score``
    selects by default); an ``out`` that holds an export of another benchmark is refused
    with BenchmarkError. ``on_case`` is called after each case (a progress bar).
    """
    folder = Path(out)
    previous = read_export(folder)
    if previous is not None and previous["fingerprint"] != fingerprint:
        raise BenchmarkError(
            f"{folder} holds an export of {previous.get('benchmark')!r} "
            f"(fingerprint {str(previous['fingerprint'])[:12]}), not of {bench.name!r} "
            f"({fingerprint[:12]}): export into another folder"
        )
    if previous is None and (folder / CASES_FILE).exists():
        raise BenchmarkError(f"{folder} holds a {CASES_FILE} that tgibench did not export")
    summary = ExportSummary(folder)
    lines = []
    for case in bench:
        if case.defect is not None:
            summary.skipped[case.case_id] = case.defect
            continue
        paths = case_paths(case.case_id)
        written = write_keyframes(case, folder / paths["first"], folder / paths["last"])
        summary.written += written
        summary.unchanged += 2 - written
        lines.append(json.dumps(case_record(case_texts(case), paths), ensure_ascii=False))
        if on_case is not None:
            on_case(case)
    summary.cases = len(lines)
    (folder / VIDEOS_DIR).mkdir(parents=True, exist_ok=True)
    _write_if_changed(folder / CASES_FILE, "".join(f"{line}\n" for line in lines).encode())
    readme = README.format(name=bench.name, count=len(lines), folder=folder)
    _write_if_changed(folder / README_FILE, readme.encode())
    record = {
        "benchmark": bench.name,
        "source": source,
        "fingerprint": fingerprint,
        "frame_rule": bench.frame_rule,
        "lengths": (selection or {}).get("lengths"),
        "challenges": (selection or {}).get("challenges"),
        "cases": len(lines),
        "defects": summary.skipped,
        "tgibench_version": __version__,
    }
    if previous != record:
        write_json_atomic(folder / EXPORT_FILE, record)
    return summary


def absolute_records(
    cases: Iterable[Case], inputs: Path, videos: Path, extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """cases.jsonl objects with absolute paths: keyframes under ``inputs`` (written there
    if missing or changed), videos under ``videos``; ``extra`` keys appended to each."""
    records = []
    for case in cases:
        relative = case_paths(case.case_id)
        first, last = inputs / relative["first"], inputs / relative["last"]
        write_keyframes(case, first, last)
        paths = {
            "first": str(first),
            "last": str(last),
            "video": str(videos / f"{case.case_id}.mp4"),
        }
        records.append(case_record(case_texts(case), paths) | (extra or {}))
    return records


def write_records(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Write cases.jsonl objects to ``path`` atomically, one per line."""
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
