"""What each metric is: its pillar, direction, range, inputs, features and weights.

The runner scores a case by computing, for every selected metric, ``compute(store)`` on a
shared :class:`~tgibench.features.store.FeatureStore`; the definitions here are also what
``tgibench metrics`` lists and what ``run.json`` records for the leaderboard.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tgibench.features.store import FEATURES, FeatureStore
from tgibench.registry import Registry

if TYPE_CHECKING:
    from torchmetrics import Metric

#: The pillars a metric belongs to, in the order tables show them.
PILLARS: tuple[str, ...] = ("consistency", "semantic", "pace", "reconstruction", "distribution")

#: Optional inputs a metric may need (see ScoringInputs.available).
INPUTS: tuple[str, ...] = ("target", "keyframes", "caption", "descriptions")


@dataclass(frozen=True)
class MetricDef:
    """One metric, scored per case or over the whole run.

    Per-case metrics: ``compute(store)`` returns the case's value as a float.
    Run-level metrics (FID, FVD; ``finalize`` is set): ``compute(store)`` returns the
    case's feature arrays (``dict[str, Tensor]``), which the runner keeps per case, and
    ``finalize(list of those dicts)`` returns one value for a set of cases (the run, a
    challenge, a length). ``needs`` lists the optional inputs it requires; ``features``
    the shared features it reads. ``version`` changes whenever the values a metric gives
    change (a new definition, a new flow, a bug fix): runs record it, and values of two
    versions are never compared in one column. ``reference`` says what the metric follows
    or was validated against (a paper, a package, docs/metrics.md).
    """

    name: str
    pillar: str
    higher_is_better: bool
    value_range: tuple[float, float]
    needs: tuple[str, ...]
    features: tuple[str, ...]
    compute: Callable[[FeatureStore], Any]
    summary: str
    default: bool = True
    finalize: Callable[[list[dict[str, Any]]], float] | None = None
    version: int = 1
    reference: str = ""

    @property
    def run_level(self) -> bool:
        """True for metrics computed over a set of cases (FID, FVD), not per case."""
        return self.finalize is not None

    @property
    def backbones(self) -> tuple[str, ...]:
        """Backbones (weights) this metric loads, through its features."""
        names: list[str] = []
        for feature in self.features:
            names.extend(b for b in FEATURES.get(feature).backbones if b not in names)
        return tuple(names)

    def info(self) -> dict[str, Any]:
        """JSON-ready description, recorded in run.json for the leaderboard (an unbounded
        end of the range is null: JSON has no infinity)."""
        return {
            "pillar": self.pillar,
            "higher_is_better": self.higher_is_better,
            "range": [v if math.isfinite(v) else None for v in self.value_range],
            "needs": list(self.needs),
            "backbones": list(self.backbones),
            "summary": self.summary,
            "run_level": self.run_level,
            "version": self.version,
            "reference": self.reference,
        }


#: Built-in metrics: every module of tgibench.metrics that registers some (found on first
#: lookup, no list to edit), then installed plugins.
METRICS: Registry[MetricDef] = Registry("metric", packages=("tgibench.metrics",))


def register_metric(
    name: str,
    *,
    pillar: str,
    higher_is_better: bool,
    value_range: tuple[float, float],
    needs: tuple[str, ...] = (),
    features: tuple[str, ...] = (),
    default: bool = True,
    finalize: Callable[[list[dict[str, Any]]], float] | None = None,
    version: int = 1,
    reference: str = "",
) -> Callable[[Callable[[FeatureStore], Any]], Callable[[FeatureStore], Any]]:
    """Decorator registering ``compute(store)`` as the metric ``name``.

    ``compute`` returns a float (per-case metric) or, with ``finalize`` given, the case's
    feature arrays for a run-level metric (see MetricDef). The first line of the
    function's docstring is the metric's one-line summary. Bump ``version`` whenever the
    values change (see MetricDef).
    """
    if version < 1:
        raise ValueError(f"metric {name}: version must be >= 1, got {version}")
    if pillar not in PILLARS:
        raise ValueError(f"metric {name}: unknown pillar {pillar!r}")
    unknown = set(needs) - set(INPUTS)
    if unknown:
        raise ValueError(f"metric {name}: unknown inputs {sorted(unknown)}")

    def decorate(compute: Callable[[FeatureStore], Any]) -> Callable[[FeatureStore], Any]:
        summary = (compute.__doc__ or "").strip().splitlines()[0] if compute.__doc__ else ""
        METRICS.register(name, source=compute.__module__)(
            MetricDef(
                name,
                pillar,
                higher_is_better,
                value_range,
                needs,
                features,
                compute,
                summary,
                default,
                finalize,
                version,
                reference,
            )
        )
        return compute

    return decorate


class DefinedMetric:
    """Mixin for the ``torchmetrics.Metric`` classes: a class declared with
    ``class PSNR(MeanOverVideos, metric="psnr")`` takes its direction, range and version
    from the registered definition, so they are written once (in ``register_metric``).

    The definition must be registered before the class (same module, above it).
    """

    definition: ClassVar[MetricDef]
    higher_is_better: ClassVar[bool | None]
    plot_lower_bound: ClassVar[float | None]
    plot_upper_bound: ClassVar[float | None]

    def __init_subclass__(cls, metric: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if metric is None:
            return
        definition = METRICS.registered(metric)
        low, high = definition.value_range
        cls.definition = definition
        cls.higher_is_better = definition.higher_is_better
        cls.plot_lower_bound = low if math.isfinite(low) else None
        cls.plot_upper_bound = high if math.isfinite(high) else None


def select_metrics(names: Iterable[str] | None = None) -> list[MetricDef]:
    """Metric definitions for names or pillar names ("pace", "reconstruction", ...).

    ``None`` or ``["default"]`` selects every metric marked default; ``["all"]`` every one.
    Order follows PILLARS, then registration; duplicates are dropped.
    """
    every = [METRICS.get(n) for n in METRICS.names()]
    wanted = list(names) if names is not None else ["default"]
    chosen: list[MetricDef] = []
    for name in wanted:
        if name == "all":
            group = every
        elif name == "default":
            group = [m for m in every if m.default]
        elif name in PILLARS:
            group = [m for m in every if m.pillar == name]
        else:
            group = [METRICS.get(name)]
        chosen.extend(m for m in group if m not in chosen)
    return sorted(chosen, key=lambda m: PILLARS.index(m.pillar))


def lazy_metric_classes(
    module: str, build: Callable[[], list[type[Metric]]]
) -> Callable[[str], type[Metric]]:
    """A module ``__getattr__`` (PEP 562) giving the metric classes that ``build()``
    defines, built on the first access to any of them.

    The classes subclass ``torchmetrics.Metric``, and importing torchmetrics takes seconds
    (it imports transformers, torchvision and scipy), while the per-case definitions that
    the runner and ``tgibench metrics`` use need none of it. So a pillar module registers
    its definitions when imported, keeps its classes in the same file inside ``build``,
    and ends with ``__getattr__ = lazy_metric_classes(__name__, _classes)``:
    ``from tgibench.metrics.reconstruction import PSNR`` builds them then. Each class is
    given the module as its home (``__module__``, ``__qualname__``), so it pickles.
    """
    built: dict[str, type[Metric]] = {}

    def __getattr__(name: str) -> type[Metric]:
        if not name.startswith("__") and not built:
            for cls in build():
                cls.__module__, cls.__qualname__ = module, cls.__name__
                built[cls.__name__] = cls
        if name in built:
            return built[name]
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
