"""Inbetweening models: the protocol, the registry and ``build_model(spec)``.

Built-in models register themselves on first lookup: the classical CPU baselines
(``hold``, ``crossfade``, ``flow``), adapters for videos made elsewhere (``folder``,
``command``) and diffusers Wan2.1-FLF2V (``wan``) with the paper's method (``tgi``).
"""

from tgibench.models.base import (
    MODELS,
    InbetweeningModel,
    ModelBase,
    build_model,
    describe_models,
    register_model,
)

__all__ = [
    "MODELS",
    "InbetweeningModel",
    "ModelBase",
    "build_model",
    "describe_models",
    "register_model",
]
