"""What an inbetweening model is: the protocol, the request it answers, and a template base.

A model turns two keyframes and a prompt into a video. Subclass :class:`ModelBase` and
implement one method, ``make_frames(request)``: the base checks the keyframes, computes
the time grid, hands everything over as one typed :class:`GenerationRequest` and checks
what comes back. The helpers it uses (:func:`check_keyframes`, :func:`frame_times`,
:func:`to_video_output`) are public for models that need them elsewhere.

>>> import torch
>>> class Fade(ModelBase):
...     def make_frames(self, request):
...         t = request.times.view(-1, 1, 1, 1)
...         return (1 - t) * request.first + t * request.last
>>> video = Fade().generate(torch.zeros(3, 4, 4), torch.ones(3, 4, 4), "a fade", 5)
>>> video.shape, [round(float(f.mean()), 2) for f in video]
(torch.Size([5, 3, 4, 4]), [0.0, 0.25, 0.5, 0.75, 1.0])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch

from tgibench.video import VideoError, check_image, check_video

if TYPE_CHECKING:
    from pathlib import Path

    from tgibench.data import Case


@dataclass(frozen=True)
class CaseContext:
    """What the benchmark knows about the case being generated, beyond the keyframes.

    Library calls may leave any of it empty; the runner fills all of it. Models that
    read files made elsewhere need ``case_id``; others may use the descriptions.

    Attributes:
        case_id: ``<folder>-<N>``, e.g. ``"aerobatics-81"``; None outside a benchmark.
        folder: the case's folder in TGI-Dataset/.
        challenge: canonical challenge name ("dynamic motion", "linear motion", ...).
        first_desc: description of the first keyframe.
        last_desc: description of the last keyframe.
    """

    case_id: str | None = None
    folder: str | None = None
    challenge: str | None = None
    first_desc: str = ""
    last_desc: str = ""

    @classmethod
    def from_case(cls, case: Case) -> CaseContext:
        """The context of a benchmark :class:`~tgibench.data.Case`."""
        return cls(case.case_id, case.folder, case.challenge, case.first_desc, case.last_desc)


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a model gets for one video, checked by :meth:`ModelBase.generate`.

    Attributes:
        first: first keyframe, (3, H, W) float32 in [0, 1].
        last: last keyframe, same shape.
        prompt: the text describing the motion between them.
        num_frames: N >= 2 frames to return, both keyframes included.
        seed: the seed to sample with (the runner's, 0 by default).
        context: the case being generated (:class:`CaseContext`, possibly empty).
        times: (N,) float32 normalised time of each frame, ``k / (N - 1)`` in [0, 1]
            (:func:`frame_times`), computed from ``num_frames``.
    """

    first: torch.Tensor
    last: torch.Tensor
    prompt: str
    num_frames: int
    seed: int = 0
    context: CaseContext = field(default_factory=CaseContext)
    times: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "times", frame_times(self.num_frames))

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the keyframes."""
        return int(self.first.shape[-2]), int(self.first.shape[-1])


def frame_times(num_frames: int) -> torch.Tensor:
    """Normalised time t_k = k / (num_frames - 1) of each frame, float32 of shape (num_frames,).

    Each value is the correctly rounded quotient (not ``torch.linspace``, whose vectorised
    and scalar paths differ in the last bit, so that a model's frames depended on the CPU).

    >>> frame_times(5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 2:
        raise ValueError(f"num_frames must be an integer of at least 2, got {num_frames!r}")
    return torch.tensor([k / (num_frames - 1) for k in range(num_frames)], dtype=torch.float32)


def check_keyframes(first: torch.Tensor, last: torch.Tensor) -> None:
    """Raise :class:`~tgibench.video.VideoError` unless both keyframes are (3, H, W) float
    images in [0, 1] of the same size."""
    check_image(first, name="first keyframe")
    check_image(last, name="last keyframe")
    if first.shape != last.shape:
        raise VideoError(f"keyframes differ in size: {tuple(first.shape)} vs {tuple(last.shape)}")


def to_video_output(
    frames: torch.Tensor | np.ndarray | Sequence[torch.Tensor | np.ndarray],
    *,
    channels_last: bool = False,
) -> torch.Tensor:
    """Frames in the output convention: (T, 3, H, W) on the CPU, contiguous, float32 in
    [0, 1] or uint8 (0..255, e.g. as decoded from a file).

    Accepts a tensor or numpy array, or a sequence of per-frame images (stacked);
    ``channels_last`` for (T, H, W, 3) input (numpy and PIL's layout). Floating input is
    cast to float32 (not rescaled: it must already lie in [0, 1]); other integer dtypes
    than uint8 are refused. A float32 CPU tensor in the convention is returned as is.
    Raises :class:`~tgibench.video.VideoError` when the result breaks the convention.
    """
    if isinstance(frames, Sequence) and not isinstance(frames, torch.Tensor | np.ndarray):
        if not frames:
            raise VideoError("model output: no frames")
        frames = torch.stack([torch.as_tensor(f) for f in frames])
    video = torch.as_tensor(frames).detach()
    if channels_last:
        video = video.permute(0, 3, 1, 2)
    if video.dtype != torch.uint8:
        if not video.is_floating_point():
            raise VideoError(
                f"model output: dtype {video.dtype}; expected float in [0, 1] or uint8"
            )
        video = video.float()
    return check_video(video.cpu().contiguous(), name="model output")


@runtime_checkable
class InbetweeningModel(Protocol):
    """Generates the frames between two keyframes.

    ``generate(first, last, prompt, num_frames, seed=0, context=None)`` takes two (3, H, W)
    float32 images in [0, 1] and returns a (num_frames, 3, H', W') video, float32 in
    [0, 1] or uint8, whose frame 0 and frame num_frames - 1 correspond to ``first`` and
    ``last``. ``context`` describes the benchmark case (:class:`CaseContext`); the runner
    always passes it. Models that generate at their own resolution may return another
    H', W'; the runner resizes for scoring.
    """

    spec: str

    def generate(
        self,
        first: torch.Tensor,
        last: torch.Tensor,
        prompt: str,
        num_frames: int,
        *,
        seed: int = 0,
        context: CaseContext | None = None,
    ) -> torch.Tensor: ...


class GenerationStopped(RuntimeError):
    """A batch generator ended before every case had a video; ``left`` cases remain. They
    are not failures: running the same command again continues with them."""

    def __init__(self, left: int, message: str) -> None:
        super().__init__(message)
        self.left = left


@runtime_checkable
class BatchGenerator(Protocol):
    """A model that generates many cases in one call (one program for a whole run).

    ``generate_batch(cases, work_dir, seed)`` yields each case with its video (uint8 or
    float (T, 3, H, W)) or the exception that stands for it, in any order, as soon as each
    is ready; ``work_dir`` is the run directory. It may end early by raising
    :class:`GenerationStopped` (with the number of cases not reached), which the runner
    reports without recording those cases as failed. The runner calls it from one process.
    """

    def generate_batch(
        self, cases: Sequence[Case], work_dir: Path, seed: int
    ) -> Iterator[tuple[Case, torch.Tensor | Exception]]: ...


class ModelBase:
    """Template for models: implement :meth:`make_frames`, register with ``@register_model``.

    Options are the constructor's keyword arguments (typed, with defaults), or the fields
    of a dataclass named by ``options_class``, whose instance the constructor receives;
    either way a spec ``name:key=value`` sets them (see :mod:`tgibench.models.registry`).
    """

    #: Canonical spec of the built model, set by ``build_model``.
    spec: str = ""
    #: A dataclass holding the model's options (None: the constructor's keywords are).
    options_class: ClassVar[type | None] = None

    def generate(
        self,
        first: torch.Tensor,
        last: torch.Tensor,
        prompt: str,
        num_frames: int,
        *,
        seed: int = 0,
        context: CaseContext | None = None,
    ) -> torch.Tensor:
        """Check the inputs, call :meth:`make_frames`, check and return its video.

        Returns (num_frames, 3, H', W'), float32 in [0, 1] or uint8, on the CPU.
        Raises :class:`~tgibench.video.VideoError` for bad keyframes or a video that
        breaks the convention or has another frame count, ValueError for num_frames < 2.
        """
        check_keyframes(first, last)
        request = GenerationRequest(first, last, prompt, num_frames, seed, context or CaseContext())
        video = to_video_output(self.make_frames(request))
        if video.shape[0] != num_frames:
            raise VideoError(
                f"{type(self).__name__}.make_frames returned {video.shape[0]} frames, "
                f"{num_frames} requested"
            )
        return video

    @classmethod
    def resolved_settings(cls, options: dict[str, Any]) -> dict[str, Any]:
        """The options a model runs with, from every option's value by name: options whose
        value is worked out when the model is built (a preset's size, a method's steps)
        filled in. run.json records the result; the base returns ``options`` unchanged."""
        return options

    def make_frames(self, request: GenerationRequest) -> Any:
        """The model's work: ``request.num_frames`` frames from ``request``, as a
        (T, 3, H, W) tensor (float in [0, 1] or uint8) or anything :func:`to_video_output`
        accepts."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_frames(request)")
