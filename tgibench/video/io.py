"""Reading and writing images, frame folders and video files.

Video files are written losslessly (H.264 RGB, CRF 0) by PyAV and read by decord (or PyAV),
so a saved video decodes to exactly the 8-bit frames that were scored. Writes are atomic:
a file is written beside its destination and renamed into place.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from tgibench.fileio import atomic_path
from tgibench.video.checks import VideoError, check_video, to_float, to_uint8
from tgibench.video.limits import ReadLimits

DEFAULT_FPS = 15  # the paper saves its videos at 15 fps


def _to_tensor(array: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(..., H, W, 3) uint8 → (..., 3, H, W): float32 in [0, 1], or uint8 with ``dtype``."""
    frames = torch.from_numpy(np.ascontiguousarray(array)).movedim(-1, -3).contiguous()
    return frames if dtype == torch.uint8 else to_float(frames)


def _to_uint8(video: torch.Tensor) -> np.ndarray:
    """(..., 3, H, W) float in [0, 1] or uint8 → (..., H, W, 3) uint8."""
    return to_uint8(video.detach().cpu()).movedim(-3, -1).numpy()


def read_image(
    path: str | os.PathLike[str],
    dtype: torch.dtype = torch.float32,
    limits: ReadLimits | None = None,
) -> torch.Tensor:
    """Read an image file as (3, H, W) float32 RGB in [0, 1] (uint8 with ``dtype``).

    Grayscale images are repeated to three channels; RGBA and palette images are
    composited on black (the alpha channel is dropped, as video has none). An image over
    Pillow's ``Image.MAX_IMAGE_PIXELS`` or ``limits`` is refused from its header, before
    it is decoded.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():  # refused below, with the reason, not warned about
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            width, height = img.size
            if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
                raise VideoError(
                    f"{path}: {width}x{height} pixels, over Pillow's limit of "
                    f"{Image.MAX_IMAGE_PIXELS} (PIL.Image.MAX_IMAGE_PIXELS); refused without "
                    "decoding"
                )
            if limits is not None:
                limits.check(str(path), None, height, width)
            img.load()
            converted: Image.Image = img
            if img.mode in ("RGBA", "LA", "P", "PA"):
                background = Image.new("RGBA", img.size, (0, 0, 0, 255))
                converted = Image.alpha_composite(background, img.convert("RGBA"))
            rgb = np.array(converted.convert("RGB"))  # a writable copy
    except FileNotFoundError:
        raise VideoError(f"{path}: image file not found") from None
    except Image.DecompressionBombError as exc:  # over twice the limit: refused by Pillow
        raise VideoError(f"{path}: {exc}; refused without decoding") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise VideoError(f"{path}: not a readable image ({exc})") from None
    return _to_tensor(rgb, dtype)


def read_frames(
    paths: Sequence[str | os.PathLike[str]],
    dtype: torch.dtype = torch.float32,
    limits: ReadLimits | None = None,
) -> torch.Tensor:
    """Read image files as one (T, 3, H, W) video (float32, or uint8 with ``dtype``);
    all frames must share one size. Over ``limits``, refused before decoding."""
    if limits is not None and paths:
        limits.check(f"{Path(paths[0]).parent}/", len(paths), 0, 0)
    frames = [read_image(p, dtype, limits) for p in paths]
    if not frames:
        raise VideoError("no frame files given")
    size = frames[0].shape
    for path, frame in zip(paths, frames, strict=True):
        if frame.shape != size:
            raise VideoError(
                f"{path}: frame size {tuple(frame.shape[1:])} differs from the first frame's "
                f"{tuple(size[1:])}"
            )
    return torch.stack(frames)


def write_image(path: str | os.PathLike[str], image: torch.Tensor, quality: int = 92) -> None:
    """Write a (3, H, W) image in [0, 1]; the format follows the suffix (.jpg, .png)."""
    array = _to_uint8(image)
    kwargs = {"quality": quality} if Path(path).suffix.lower() in (".jpg", ".jpeg") else {}
    image_format = Image.registered_extensions().get(Path(path).suffix.lower())
    if image_format is None:
        raise VideoError(f"{path}: unknown image suffix (use .jpg or .png)")
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format=image_format, **kwargs)


def _read_decord(path: Path) -> torch.Tensor:
    import decord

    reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
    frames = reader.get_batch(list(range(len(reader)))).asnumpy()
    return torch.from_numpy(frames).movedim(-1, -3).contiguous()


def _read_pyav(path: Path) -> torch.Tensor:
    """Decode into one preallocated (T, 3, H, W) uint8 tensor when the stream states its
    frame count (peak memory: the video once), else stack per-frame tensors (twice)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame and slice threads
        count = stream.frames
        out = torch.empty((count, 3, stream.height, stream.width), dtype=torch.uint8)
        extra: list[torch.Tensor] = []
        decoded = 0
        for frame in container.decode(stream):
            image = torch.from_numpy(frame.to_ndarray(format="rgb24")).movedim(-1, 0)
            if decoded < count and image.shape == out.shape[1:]:
                out[decoded] = image
            else:
                extra.append(image.contiguous())
            decoded += 1
    if not extra:
        return out[:decoded]
    return torch.stack([*out[: min(decoded, count)], *extra])


_READERS = {"decord": _read_decord, "pyav": _read_pyav}
#: Reader order of ``backend="auto"``: the faster first (benchmarks/run.py measures both);
#: the other is tried when the first fails (decord mis-sizes some small RGB frames).
AUTO_ORDER = ("pyav", "decord")


def probe_video(path: str | os.PathLike[str]) -> tuple[int, int, int]:
    """(frames, height, width) of a video file's first video stream, from its header and
    packets, without decoding a frame; VideoError if it has none or cannot be opened."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: no video stream")
            stream = container.streams.video[0]
            frames = stream.frames or sum(1 for p in container.demux(stream) if p.size)
            return frames, stream.height, stream.width
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({str(exc).strip()[:200]})") from None


def read_video(
    path: str | os.PathLike[str],
    backend: str = "auto",
    dtype: torch.dtype = torch.float32,
    limits: ReadLimits | None = None,
) -> torch.Tensor:
    """Read a video file as (T, 3, H, W) float32 RGB in [0, 1]; raise VideoError if unreadable.

    ``backend`` is "decord", "pyav" or "auto" (both, in ``AUTO_ORDER``); ``dtype=torch.uint8``
    returns the decoded 0..255 values without conversion (a quarter of the memory). With
    ``limits``, the header is read first (:func:`probe_video`) and a video over them is
    refused before any frame is decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: video file not found")
    if limits is not None:
        limits.check(str(path), *probe_video(path))
    if backend != "auto" and backend not in _READERS:
        raise VideoError(
            f"unknown video reader {backend!r}; choose from auto, {', '.join(sorted(_READERS))}"
        )
    failures = []
    for name in AUTO_ORDER if backend == "auto" else (backend,):
        try:
            frames = _READERS[name](path)
        except Exception as exc:  # decoders raise their own types (DECORDError, av.FFmpegError)
            failures.append(f"{name}: {type(exc).__name__}: {str(exc).strip()[:200]}")
            continue
        if frames.ndim == 4 and frames.shape[0] > 0:
            return frames if dtype == torch.uint8 else to_float(frames)
        failures.append(f"{name}: no decodable frames")
    raise VideoError(f"{path}: not a readable video ({'; '.join(failures)})")


def write_video(path: str | os.PathLike[str], video: torch.Tensor, fps: int = DEFAULT_FPS) -> None:
    """Write a (T, 3, H, W) video in [0, 1] as a lossless H.264 RGB mp4, atomically.

    Height and width must be even (a constraint of H.264).
    """
    import av

    check_video(video, name=str(path), min_frames=1)
    frames = _to_uint8(video)
    _, height, width, _ = frames.shape
    if height % 2 or width % 2:
        raise VideoError(f"{path}: H.264 needs an even height and width, got {height}x{width}")
    with atomic_path(path) as tmp, av.open(tmp, "w", format="mp4") as container:
        stream = container.add_stream("libx264rgb", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        stream.options = {"crf": "0", "preset": "ultrafast"}  # lossless; fastest to decode
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
