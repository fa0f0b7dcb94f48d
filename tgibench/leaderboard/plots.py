"""Matplotlib figures of a leaderboard: per-challenge bars, pillar radar, pace curves, strips.

Every function returns a :class:`matplotlib.figure.Figure` (the Agg backend, no display);
:func:`figure_data_uri` turns one into an embeddable PNG. Bars and the radar read the
aggregated tables; pace curves and frame strips read videos (a run's ``videos/`` and the
ground truth), never a model. Needs the ``report`` extra (``pip install tgibench[report]``).
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np
import torch

from tgibench.features.motion import cached_motion_stats
from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.tables import (
    aggregate,
    arrow,
    measured_metrics,
    model_label,
    pillar_ranks,
    smoke_tests,
)
from tgibench.metrics.functional.pace import progress
from tgibench.video import to_float

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Frames shown per video in a strip: the first, evenly spaced middle ones, the last.
STRIP_FRAMES = 5


def _figure(width: float, height: float) -> Figure:
    """A new figure (inches) not attached to any GUI backend."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def figure_data_uri(figure: Figure, image_format: str = "png", dpi: int = 100) -> str:
    """The figure as a ``data:image/<format>;base64,...`` URI (no file, no external link).

    ``image_format``: "png" for charts (sharp lines), "jpeg" (quality 85) for photographs
    such as frame strips, ten times smaller than PNG.
    """
    buffer = io.BytesIO()
    if image_format == "jpeg":
        figure.savefig(buffer, format="jpeg", dpi=dpi, pil_kwargs={"quality": 85})
    else:
        figure.savefig(buffer, format=image_format, dpi=dpi, metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/{image_format};base64,{encoded}"


def challenge_bars(runs: Runs, pillar: str) -> Figure:
    """One panel per measured metric of ``pillar`` (three per row): the mean per challenge
    (x), one bar per model."""
    names = measured_metrics(runs, pillar)
    smoke = smoke_tests(runs)
    table = aggregate(runs, "challenge")
    challenges = list(dict.fromkeys(table.index.get_level_values(0)))
    models = list(dict.fromkeys(table.index.get_level_values(1)))
    columns = max(1, min(3, len(names)))
    rows = -(-len(names) // columns)
    figure = _figure(max(3.6, 0.9 * len(challenges)) * columns, 2.8 * rows + 0.4)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(challenges))
    for ax, name in zip(axes, names, strict=False):
        for k, model in enumerate(models):
            values = [table[name].get((challenge, model), np.nan) for challenge in challenges]
            label = model_label(model, smoke)
            ax.bar(x + (k - (len(models) - 1) / 2) * width, values, width, label=label)
        ax.set_xticks(x, challenges, rotation=20, ha="right", fontsize=8)
        ax.set_title(f"{name} {arrow(runs.metrics[name]['higher_is_better'])}", fontsize=10)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    figure.suptitle(f"{pillar} per challenge")
    return figure


def pillar_scores(runs: Runs) -> dict[str, dict[str, float]]:
    """Model → pillar → score in [0, 1] from the mean ranks: 1 = first, 0 = last (smoke
    tests are not ranked and have no score)."""
    ranks = pillar_ranks(runs)
    worst = max(len(ranks) - len(smoke_tests(runs) & set(ranks.index)) - 1, 1)
    scores = {
        str(model): {p: float(1 - (r - 1) / worst) for p, r in row.items() if not np.isnan(r)}
        for model, row in ranks.iterrows()
    }
    return {model: score for model, score in scores.items() if score}


def pillar_radar(runs: Runs) -> Figure:
    """A radar of the pillar scores (:func:`pillar_scores`) of each ranked model, over
    the pillars that have a measured metric."""
    scores = pillar_scores(runs)
    pillars = [p for p in pillar_ranks(runs) if any(p in score for score in scores.values())]
    angles = np.linspace(0, 2 * np.pi, len(pillars), endpoint=False).tolist()
    figure = _figure(4.5, 4.5)
    ax = figure.add_subplot(projection="polar")
    for model, score in scores.items():
        values = [score.get(p, 0.0) for p in pillars]
        ax.plot([*angles, angles[0]], [*values, values[0]], marker="o", label=model)
        ax.fill([*angles, angles[0]], [*values, values[0]], alpha=0.1)
    ax.set_xticks(angles, pillars)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.5, 1.0], ["", "best"], fontsize=7)
    if scores:
        ax.legend(loc="lower right", bbox_to_anchor=(1.25, -0.1), fontsize=7)
    ax.set_title("Pillar ranks (outer = better)", fontsize=10)
    return figure


def progress_curve(video: torch.Tensor) -> np.ndarray:
    """(T,) how far along its motion each frame of a (T, 3, H, W) video is, from 0 to 1
    (``tgibench.metrics.functional.pace.progress`` of the video's optical flow). The flow
    statistics come from the feature cache when the runner already computed them (a
    ground truth read as uint8 is the one the runner scored)."""
    return progress(cached_motion_stats(video)).numpy()


def pace_curves(case_id: str, curves: dict[str, np.ndarray]) -> Figure:
    """Progress over time of one case: one line per video (ground truth dashed)."""
    figure = _figure(4.8, 3.2)
    ax = figure.add_subplot()
    for label, curve in curves.items():
        truth = label == "ground truth"
        ax.plot(
            np.arange(len(curve)),
            curve,
            marker=".",
            label=label,
            color="black" if truth else None,
            linestyle="--" if truth else "-",
        )
    ax.set_xlabel("frame")
    ax.set_ylabel("progress (share of motion)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"Pace: {case_id}", fontsize=10)
    ax.legend(fontsize=7)
    return figure


def strip_indices(num_frames: int, count: int = STRIP_FRAMES) -> list[int]:
    """Indices of the first frame, ``count - 2`` evenly spaced middle ones and the last."""
    return sorted({round(i) for i in np.linspace(0, num_frames - 1, min(count, num_frames))})


def frame_strip(case_id: str, videos: dict[str, torch.Tensor]) -> Figure:
    """One row per video (label on the left), columns: the frames of :func:`strip_indices`."""
    first = next(iter(videos.values()))
    indices = strip_indices(first.shape[0])
    height, width = first.shape[-2:]
    scale = 1.6 / height
    figure = _figure(width * scale * len(indices) + 1.2, height * scale * len(videos) + 0.5)
    axes = figure.subplots(len(videos), len(indices), squeeze=False)
    for row, (label, video) in zip(axes, videos.items(), strict=True):
        for ax, index in zip(row, indices, strict=True):
            ax.imshow(to_float(video[index]).permute(1, 2, 0).clamp(0, 1).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(label, fontsize=8)
    for ax, index in zip(axes[0], indices, strict=True):
        ax.set_title(f"frame {index}", fontsize=8)
    figure.suptitle(case_id, fontsize=10)
    return figure
