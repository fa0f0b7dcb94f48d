"""The model registry, model options, and ``build_model(spec)``.

Built-in models are the modules of this package (each registers itself with
``@register_model``); plugins add theirs the same way (:mod:`tgibench.plugins`).

A model's options, which a spec ``name:key=value,...`` sets, are either

- its constructor's keyword arguments, typed and with defaults (``Flow(levels=5, ...)``), or
- the fields of the dataclass named by its ``options_class`` (``wan`` and ``tgi``: one
  :class:`~tgibench.models.wan.WanOptions` instead of 16 keywords); the constructor then
  receives one instance. A field whose type is itself a dataclass is a group whose fields
  are options too, flattened (``tgi:kab=off`` sets ``TgiOptions.method.kab``); the group
  field's ``metadata={"hidden": (...)}`` leaves out fields that are not user options.

Spec values are coerced to the declared type: int → float, anything → str, and
``"25:2,33:3"`` → ``dict[int, int]``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import dataclass
from typing import Any

from tgibench.models.base import InbetweeningModel
from tgibench.registry import Registry
from tgibench.spec import SpecError, format_spec, parse_spec

MODELS: Registry[Any] = Registry("model", packages=("tgibench.models",))
register_model = MODELS.register

#: The default of an option that has none (it must be given in the spec).
REQUIRED: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class ModelOption:
    """One option of a model.

    Attributes:
        name: the key in a spec.
        annotation: the declared type (``int``, ``float | None``, ``dict[int, int]``, ...).
        default: the default value, or :data:`REQUIRED`.
        path: where the value goes: the field names from the options dataclass down (one
            name for a constructor keyword).
    """

    name: str
    annotation: Any
    default: Any = REQUIRED
    path: tuple[str, ...] = ()


def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return REQUIRED


def _dataclass_options(cls: type, path: tuple[str, ...] = ()) -> list[ModelOption]:
    hints = typing.get_type_hints(cls)
    options: list[ModelOption] = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if not f.init:
            continue
        if dataclasses.is_dataclass(kind):
            hidden = set(f.metadata.get("hidden", ()))
            group = _dataclass_options(kind, (*path, f.name))  # type: ignore[arg-type]
            options.extend(o for o in group if o.name not in hidden)
        else:
            options.append(ModelOption(f.name, kind, _field_default(f), (*path, f.name)))
    return options


def model_options(factory: Any) -> dict[str, ModelOption]:
    """The options a registered model accepts, in declaration order (module docstring)."""
    options_class = getattr(factory, "options_class", None)
    if options_class is not None:
        options = _dataclass_options(options_class)
    else:
        hints = typing.get_type_hints(factory.__init__ if inspect.isclass(factory) else factory)
        options = [
            ModelOption(k, hints.get(k, Any), p.default, (k,))
            for k, p in inspect.signature(factory).parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    by_name: dict[str, ModelOption] = {}
    for option in options:
        if option.name in by_name:
            raise TypeError(f"{factory.__name__}: option {option.name!r} is declared twice")
        by_name[option.name] = option
    return by_name


def _mapping(name: str, key: str, text: str, key_type: type, value_type: type) -> dict[Any, Any]:
    """Parse ``"25:2,33:3"`` into ``{25: 2, 33: 3}`` with the declared key and value types."""
    mapping = {}
    for item in text.replace(";", ",").split(","):
        if item.strip():
            k, sep, v = item.partition(":")
            try:
                if not sep:
                    raise ValueError(item)
                mapping[key_type(k.strip())] = value_type(v.strip())
            except ValueError:
                raise SpecError(
                    f"model {name!r}: option {key}={text!r} should be key:value pairs "
                    f"({key_type.__name__}:{value_type.__name__}) separated by commas, "
                    f'e.g. {key}="25:2,33:3"'
                ) from None
    return mapping


def _coerce(name: str, key: str, value: Any, annotation: Any) -> Any:
    """Accept spec values whose parsed type is narrower than the option's declared type."""
    if typing.get_origin(annotation) is dict and isinstance(value, str):
        return _mapping(name, key, value, *typing.get_args(annotation))
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


def _spec_text(value: Any) -> Any:
    """A value as a spec writes it: mappings as ``"k:v,..."``, anything else unchanged."""
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    return value


def _instantiate(
    cls: type, values: dict[tuple[str, ...], Any], prefix: tuple[str, ...] = ()
) -> Any:
    """An instance of the options dataclass ``cls`` with ``values`` (by path) set."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        path = (*prefix, f.name)
        if not f.init:
            continue
        if dataclasses.is_dataclass(hints[f.name]):
            inner = {p: v for p, v in values.items() if p[: len(path)] == path}
            if inner:
                kwargs[f.name] = _instantiate(hints[f.name], inner, path)
        elif path in values:
            kwargs[f.name] = values[path]
    return cls(**kwargs)


def _checked_options(spec: str) -> tuple[str, Any, dict[str, ModelOption], dict[str, Any]]:
    """(name, factory, accepted options, given values typed) of a spec, checked."""
    name, given = parse_spec(spec)
    factory = MODELS.get(name)
    accepted = model_options(factory)
    values: dict[str, Any] = {}
    for key, value in given.items():
        if key not in accepted:
            raise SpecError(
                f"model {name!r} has no option {key!r}; accepted: {', '.join(accepted) or 'none'}"
            )
        values[key] = _coerce(name, key, value, accepted[key].annotation)
    missing = [k for k, o in accepted.items() if o.default is REQUIRED and k not in values]
    if missing:
        raise SpecError(
            f"model {name!r} needs option(s) {', '.join(missing)}: e.g. {name}:{missing[0]}=..."
        )
    return name, factory, accepted, values


def canonical_spec(spec: str) -> str:
    """The canonical form of a model spec, its options checked as :func:`build_model`
    checks them, without building the model (no weights loaded).

    >>> canonical_spec("flow:winsize=31")
    'flow:winsize=31'
    """
    name, _, _, values = _checked_options(spec)
    return _formatted(name, values)


def resolved_options(spec: str) -> dict[str, Any]:
    """Every option of a spec's model with the value it runs with: the given one or the
    default (a default settled at build time, such as a preset's size, as the model's
    ``resolved_settings`` settles it), in declaration order, as a spec writes it. run.json
    records it, so a run says its settings even where the spec leaves the defaults.

    >>> resolved_options("flow:winsize=31")
    {'levels': 5, 'winsize': 31, 'iterations': 5, 'occlusion_px': 1.5}
    """
    _, factory, accepted, values = _checked_options(spec)
    options_class = getattr(factory, "options_class", None)
    if options_class is not None:  # its checks (choices, ranges) run as when building
        _instantiate(options_class, {accepted[k].path: v for k, v in values.items()})
    resolved = {key: values.get(key, option.default) for key, option in accepted.items()}
    settle = getattr(factory, "resolved_settings", None)
    if settle is not None:
        resolved = settle(resolved)
    return {key: _spec_text(value) for key, value in resolved.items()}


def _formatted(name: str, values: dict[str, Any]) -> str:
    return format_spec(name, {k: _spec_text(v) for k, v in values.items()})


def build_model(spec: str) -> InbetweeningModel:
    """Build a model from a spec string ``name[:key=value,...]``, e.g. ``"flow:levels=3"``.

    Unknown names suggest the closest registered ones; unknown, missing or mistyped
    options name the accepted ones. The returned model's ``spec`` attribute is the
    canonical spec (:func:`canonical_spec`).
    """
    name, factory, accepted, values = _checked_options(spec)
    options_class = getattr(factory, "options_class", None)
    if options_class is not None:
        model = factory(
            _instantiate(options_class, {accepted[k].path: v for k, v in values.items()})
        )
    else:
        model = factory(**values)
    model.spec = _formatted(name, values)
    return model


def describe_models() -> list[tuple[str, str, str]]:
    """(name, one-line description, options with defaults) for every registered model."""
    rows = []
    for name in MODELS.names():
        factory = MODELS.get(name)
        doc = (inspect.getdoc(factory) or "").strip().splitlines()
        options = ", ".join(
            f"{k}={_spec_text(o.default)!r}" if o.default is not REQUIRED else k
            for k, o in model_options(factory).items()
        )
        rows.append((name, doc[0] if doc else "", options))
    return rows
