"""What each metric is: its pillar, direction, range, inputs, features and weights.

The runner scores a case by computing, for every selected metric, ``compute(store)`` on a
shared :class:`~tgibench.features.store.FeatureStore`; the definitions here are also what
``tgibench metrics`` lists and what ``run.json`` records for the leaderboard.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from tgibench.features.store import FEATURES, FeatureStore
from tgibench.registry import Registry

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


def register_parts(
    prefix: str,
    parts: dict[str, str],
    compute_parts: Callable[[FeatureStore], Any],
    **declaration: Any,
) -> None:
    """Register each part of a composite metric as an opt-in metric ``<prefix>_<part>``.

    ``parts`` maps attribute names of ``compute_parts(store)`` to their one-line summaries;
    ``declaration`` holds the other ``register_metric`` arguments (pillar, direction, ...),
    shared by every part.
    """
    for part, summary in parts.items():

        def compute(store: FeatureStore, part: str = part) -> float:
            return float(getattr(compute_parts(store), part))

        compute.__doc__ = summary
        compute.__module__ = compute_parts.__module__
        register_metric(f"{prefix}_{part}", default=False, **declaration)(compute)


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
