"""The one configuration object that flows from the CLI to the Python API of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tgibench.data.layout import DEFAULT_FRAME_RULE


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and where to write it.

    Args:
        model: model spec, e.g. ``"flow"`` or ``"tgi:steps=50"`` (``tgibench models``).
        bench: benchmark source: ``"mini"``, a directory, or a HF dataset id.
        out: run directory (created; an existing run there is resumed); a str is
            converted to a Path, as lists of lengths, challenges or metrics to tuples.
        lengths: sequence lengths to keep (None: all).
        challenges: challenges to keep (None: all).
        metrics: metric or pillar names (None: the default set; ``tgibench metrics``).
        seed: generation seed, the same for every case (the paper uses 0).
        device: torch device for models and feature networks.
        frame_rule: which frames make a case (``tgibench.data.layout.FRAME_RULES``).
        save_videos: write ``videos/<case_id>.mp4`` (lossless) for every case.
        fail_fast: stop at the first failing case instead of recording it and going on.
        retry_failed: when resuming, run again the cases that failed or had a metric fail;
            their new rows replace the old ones.
        backbone_options: per-backbone loader options (weights paths, model tags).
        name: the run's label in every table (None: the model spec, shortened for videos
            made elsewhere; see ``tgibench.leaderboard.runs.run_label``).
    """

    model: str
    bench: str = "mini"
    out: Path = Path("runs/latest")
    lengths: tuple[int, ...] | None = None
    challenges: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    seed: int = 0
    device: str = "cpu"
    frame_rule: str = DEFAULT_FRAME_RULE
    save_videos: bool = True
    fail_fast: bool = False
    retry_failed: bool = False
    backbone_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    name: str | None = None

    #: Fields that may change when a run is resumed (they do not change any result).
    RESUMABLE_CHANGES = ("out", "fail_fast", "device", "retry_failed", "name")

    def __post_init__(self) -> None:
        """Accept what a caller naturally writes: ``out="runs/x"``, ``lengths=[25]``."""
        object.__setattr__(self, "out", Path(self.out))
        for key in ("lengths", "challenges", "metrics"):
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, tuple(value))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        for key in ("lengths", "challenges", "metrics"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def differences(self, other: EvalConfig) -> list[str]:
        """Human-readable differences that forbid resuming ``other`` as this config."""
        mine, theirs = self.to_json(), other.to_json()
        return [
            f"{key}: {theirs[key]!r} in the run, {mine[key]!r} now"
            for key in mine
            if key not in self.RESUMABLE_CHANGES and mine[key] != theirs[key]
        ]
