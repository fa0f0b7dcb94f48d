"""The interface every inbetweening model implements, and the model registry."""

from __future__ import annotations

import inspect
import typing
from typing import Any, Protocol, runtime_checkable

import torch

from tgibench.registry import Registry
from tgibench.spec import SpecError, format_spec, parse_spec


@runtime_checkable
class InbetweeningModel(Protocol):
    """Generates the frames between two keyframes.

    ``generate(first, last, prompt, num_frames, seed=0)`` takes two (3, H, W) float32 images
    in [0, 1] and returns a (num_frames, 3, H', W') float32 video in [0, 1] (or uint8,
    0..255, as models that read video files return it) whose frame 0
    and frame num_frames - 1 correspond to ``first`` and ``last``. Models that generate at
    their own resolution may return a different H', W'; the runner resizes for scoring.
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
    ) -> torch.Tensor: ...


MODELS: Registry[Any] = Registry(
    "model",
    builtin_modules=(
        "tgibench.models.classical",
        "tgibench.models.external",
        "tgibench.models.wan",
    ),
)
register_model = MODELS.register


def _coerce(name: str, key: str, value: Any, annotation: Any) -> Any:
    """Accept spec values whose parsed type is narrower than the option's declared type."""
    allowed = typing.get_args(annotation) or (annotation,)
    if (
        value is None
        or annotation is Any
        or any(isinstance(a, type) and isinstance(value, a) for a in allowed)
    ):
        return value
    if str in allowed:
        return str(value)
    if float in allowed and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise SpecError(
        f"model {name!r}: option {key}={value!r} should be of type "
        f"{getattr(annotation, '__name__', annotation)}"
    )


def model_options(factory: Any) -> dict[str, inspect.Parameter]:
    """The keyword options a registered model accepts, from its constructor signature."""
    params = inspect.signature(factory).parameters
    return {
        k: p
        for k, p in params.items()
        if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD
    }


def build_model(spec: str) -> InbetweeningModel:
    """Build a model from a spec string ``name[:key=value,...]``, e.g. ``"flow:levels=3"``.

    Unknown names suggest the closest registered ones; unknown or mistyped options name the
    accepted ones. The returned model's ``spec`` attribute is the canonical spec.
    """
    name, options = parse_spec(spec)
    factory = MODELS.get(name)
    accepted = model_options(factory)
    hints = typing.get_type_hints(factory.__init__ if inspect.isclass(factory) else factory)
    for key, value in list(options.items()):
        if key not in accepted:
            raise SpecError(
                f"model {name!r} has no option {key!r}; accepted: {', '.join(accepted) or 'none'}"
            )
        options[key] = _coerce(name, key, value, hints.get(key, Any))
    model = factory(**options)
    model.spec = format_spec(name, options)
    return model


def describe_models() -> list[tuple[str, str, str]]:
    """(name, one-line description, options with defaults) for every registered model."""
    rows = []
    for name in MODELS.names():
        factory = MODELS.get(name)
        doc = (inspect.getdoc(factory) or "").strip().splitlines()
        options = ", ".join(
            f"{k}={p.default!r}" if p.default is not p.empty else k
            for k, p in model_options(factory).items()
        )
        rows.append((name, doc[0] if doc else "", options))
    return rows


class ModelBase:
    """Convenience base: stores the canonical spec; subclasses implement ``generate``."""

    spec: str = ""
