"""Adapters for videos made elsewhere: ``folder`` (files already on disk) and ``command``.

This is how models with their own code (TRF, GI, ViBiDSampler, FCVG, ...) are scored:
either run them beforehand and point ``folder`` at the results, or let ``command`` call
them once per case.
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from pathlib import Path

import torch

from tgibench.data.layout import LayoutError, list_frame_files
from tgibench.models.base import GenerationRequest, ModelBase
from tgibench.models.registry import register_model
from tgibench.models.video_layout import (
    DEFAULT_PATTERN,
    VIDEO_SUFFIXES,
    check_pattern,
    read_case_video,
)
from tgibench.video import ReadLimits, VideoError, read_frames, read_video, write_image


def read_video_or_frames(base: Path, limits: ReadLimits | None = None) -> torch.Tensor:
    """Read ``base`` + a video suffix, or the frame folder ``base/`` (00000.png, ...).

    Returns uint8 (T, 3, H, W), as decoded: files hold 8-bit video, and the runner scores
    uint8 without a float copy of the whole video. Over ``limits``, refused before decoding.
    """
    for suffix in VIDEO_SUFFIXES:
        if base.with_name(base.name + suffix).is_file():
            return read_video(base.with_name(base.name + suffix), dtype=torch.uint8, limits=limits)
    if base.is_dir():
        try:
            return read_frames(list_frame_files(base), dtype=torch.uint8, limits=limits)
        except LayoutError as exc:
            raise VideoError(str(exc)) from None
    raise VideoError(
        f"no video {base.name}{{{','.join(VIDEO_SUFFIXES)}}} and no frame folder {base}/"
    )


@register_model("folder")
class Folder(ModelBase):
    """Videos generated elsewhere, found by a layout pattern (tgibench.models.video_layout).

    The default ``{case_id}``: ``<path>/<case_id>.mp4`` or a frame folder ``<path>/<case_id>/``;
    e.g. ``pattern="{num_frames}/{folder}.mp4"`` for ``<path>/25/<folder>.mp4``.
    """

    def __init__(self, path: str, pattern: str = DEFAULT_PATTERN) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise FileNotFoundError(f"folder model: {self.path} is not a directory")
        self.pattern = check_pattern(pattern)

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        case_id = request.context.case_id
        if case_id is None:
            raise ValueError(
                "the folder model needs the case id to find the video: pass "
                "context=CaseContext(case_id=...) to generate"
            )
        limits = ReadLimits.for_case(request.num_frames, request.size)
        return read_case_video(self.path, self.pattern, case_id, request.num_frames, limits)


@register_model("command")
class Command(ModelBase):
    """Runs a program per case: ``cmd`` with {first} {last} {prompt} {n} {seed} {out} filled in.

    ``{first}``/``{last}`` are PNG files of the keyframes; the program must write the video
    to ``{out}`` (an .mp4 path) or a frame folder at ``{out}`` without the suffix. The
    command is split like a shell line but run without a shell, so a prompt cannot inject
    commands. Example: ``command:cmd="python gen.py {first} {last} {prompt} {n} {out}"``.
    """

    def __init__(self, cmd: str, timeout: float = 3600.0) -> None:
        self.template = shlex.split(cmd)
        if not any("{out}" in part for part in self.template):
            raise ValueError(
                "command model: cmd must contain {out}, where the program writes the video"
            )
        self.timeout = timeout

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        with tempfile.TemporaryDirectory(prefix="tgibench-cmd-") as tmp:
            work = Path(tmp)
            write_image(work / "first.png", request.first)
            write_image(work / "last.png", request.last)
            fields = {
                "first": str(work / "first.png"),
                "last": str(work / "last.png"),
                "prompt": request.prompt,
                "n": str(request.num_frames),
                "seed": str(request.seed),
                "out": str(work / "out.mp4"),
                "case_id": request.context.case_id or "case",
            }
            argv = [part.format(**fields) for part in self.template]
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout, check=False
            )
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
                raise RuntimeError(f"command exited with {done.returncode}: {' | '.join(tail)}")
            limits = ReadLimits.for_case(request.num_frames, request.size)
            return read_video_or_frames(work / "out", limits)
