"""How much a video file, frame folder or image may hold before tgibench decodes it.

A video made elsewhere can be far larger than its case: 10,000 frames, 16k x 16k frames, a
PNG that inflates to gigabytes. Decoding it first would cost the memory and minutes it
claims; these limits are checked on what a file's header says, before any pixel is
decoded, and a file over a limit is refused with an error naming it and the limit.

- Frames: a video or frame folder may hold at most :data:`FRAMES_FACTOR` times the case's
  frames (``TGIBENCH_MAX_FRAMES_FACTOR`` overrides; 0: no limit).
- Frame size: at most :data:`PIXELS_FACTOR` times the case's pixels per frame
  (``TGIBENCH_MAX_PIXELS_FACTOR``; 0: no limit): 16 admits 4x the width and height.
- Images (keyframes, ground truth, frame folders): at most Pillow's
  ``Image.MAX_IMAGE_PIXELS`` (89.5 million by default), always.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FRAMES_FACTOR = 4.0
PIXELS_FACTOR = 16.0
FRAMES_ENV = "TGIBENCH_MAX_FRAMES_FACTOR"
PIXELS_ENV = "TGIBENCH_MAX_PIXELS_FACTOR"


def _factor(name: str, default: float) -> float:
    text = os.environ.get(name, "")
    try:
        return float(text) if text else default
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None


@dataclass(frozen=True)
class ReadLimits:
    """Most frames and most pixels (height x width) per frame a read accepts (None: any);
    ``frames_rule`` and ``pixels_rule`` say where each comes from, for the error."""

    max_frames: int | None = None
    max_pixels: int | None = None
    frames_rule: str = ""
    pixels_rule: str = ""

    @classmethod
    def for_case(cls, num_frames: int, size: tuple[int, int] | None = None) -> ReadLimits:
        """The limits for a case of ``num_frames`` frames of ``size`` (height, width); no
        pixel limit without a size."""
        frames = _factor(FRAMES_ENV, FRAMES_FACTOR)
        pixels = _factor(PIXELS_ENV, PIXELS_FACTOR) if size else 0.0
        height, width = size or (0, 0)
        return cls(
            max_frames=int(frames * num_frames) if frames > 0 else None,
            max_pixels=int(pixels * height * width) if pixels > 0 else None,
            frames_rule=f"{frames:g}x the case's {num_frames} frames; {FRAMES_ENV} sets it",
            pixels_rule=f"{pixels:g}x the case's {width}x{height}; {PIXELS_ENV} sets it",
        )

    def check(self, what: str, frames: int | None, height: int, width: int) -> None:
        """Raise VideoError when ``frames`` (None: unknown) or height x width is over."""
        from tgibench.video.checks import VideoError

        if self.max_frames is not None and frames is not None and frames > self.max_frames:
            raise VideoError(
                f"{what}: {frames} frames, over the limit of {self.max_frames} "
                f"({self.frames_rule}); refused without decoding"
            )
        if self.max_pixels is not None and height * width > self.max_pixels:
            raise VideoError(
                f"{what}: {width}x{height} frames, over the limit of {self.max_pixels} pixels "
                f"({self.pixels_rule}); refused without decoding"
            )
