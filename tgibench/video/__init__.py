"""One tensor convention for videos, and reading/writing them.

A video is a ``torch.Tensor`` of shape ``(T, C, H, W)``, float32, RGB, values in ``[0, 1]``;
a batch adds a leading ``B``. Frame 0 and frame T-1 are the keyframes. An image is
``(C, H, W)`` with the same dtype and range. Readers can also return uint8 (0..255), which
the scoring pipeline holds to save memory and converts chunk by chunk (``to_float``).
"""

from tgibench.video.checks import (
    VideoError,
    check_image,
    check_video,
    frames_per_chunk,
    quantize,
    to_float,
    to_uint8,
)
from tgibench.video.io import (
    probe_video,
    read_frames,
    read_image,
    read_video,
    write_image,
    write_video,
)
from tgibench.video.limits import ReadLimits

__all__ = [
    "ReadLimits",
    "VideoError",
    "check_image",
    "check_video",
    "frames_per_chunk",
    "probe_video",
    "quantize",
    "read_frames",
    "read_image",
    "read_video",
    "to_float",
    "to_uint8",
    "write_image",
    "write_video",
]
