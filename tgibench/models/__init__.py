"""Inbetweening models: the template, the registry and ``build_model(spec)``.

A model subclasses :class:`ModelBase`, implements ``make_frames(request)`` and registers
itself with ``@register_model("name")``. Built-in models are the modules of this package,
found on first lookup: the classical CPU baselines (``hold``, ``crossfade``, ``flow``),
adapters for videos made elsewhere (``folder``, ``command``, ``batch``), diffusers
Wan2.1-FLF2V (``wan``) with the paper's method (``tgi``), the comparison set on Stable
Video Diffusion (``svd``, ``trf``, ``gi``, ``vibid``) and LTX-Video (``ltx``). Plugins
register theirs the same way
(:mod:`tgibench.plugins`, docs/extending.md).
"""

from tgibench.models.base import (
    BatchGenerator,
    CaseContext,
    GenerationRequest,
    GenerationStopped,
    InbetweeningModel,
    ModelBase,
    check_keyframes,
    frame_times,
    to_video_output,
)
from tgibench.models.registry import (
    MODELS,
    ModelOption,
    build_model,
    canonical_spec,
    describe_models,
    model_options,
    register_model,
    resolved_options,
)

__all__ = [
    "MODELS",
    "BatchGenerator",
    "CaseContext",
    "GenerationRequest",
    "GenerationStopped",
    "InbetweeningModel",
    "ModelBase",
    "ModelOption",
    "build_model",
    "canonical_spec",
    "check_keyframes",
    "describe_models",
    "frame_times",
    "model_options",
    "register_model",
    "resolved_options",
    "to_video_output",
]
