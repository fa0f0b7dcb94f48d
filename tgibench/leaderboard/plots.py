"""Pictures of a leaderboard: per-challenge bars, pillar radar, pace curves, animations.

The figure functions return a :class:`matplotlib.figure.Figure` (the Agg backend, no
display); :func:`figure_data_uri` turns one into an embeddable PNG. Bars and the radar read
the aggregated tables, pace curves the curves the runner stored in the rows, animations the
videos (a run's ``videos/`` and the ground truth): never a model, a feature or a metric. :func:`animated_webp` and :func:`still_webp` make the case browser's
downsized animations and keyframes (Pillow). Needs the ``report`` extra
(``pip install tgibench[report]``).
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.summary import aggregate, pillar_ranks
from tgibench.leaderboard.tables import (
    arrow,
    measured_metrics,
    model_label,
    pillars,
    smoke_tests,
)
from tgibench.video import to_uint8

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Height in pixels of the report's animations and keyframe stills (width keeps the aspect).
ANIMATION_HEIGHT = 80
#: At most this many frames per animation: a longer video shows every k-th frame (and the last).
ANIMATION_FRAMES = 41
#: Milliseconds each animation frame is shown; the last frame stays longer, so the loop shows.
FRAME_MS, LAST_FRAME_MS = 100, 700
#: WebP quality (0-100) of animations and stills.
WEBP_QUALITY = 50


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
    (x), one bar per model, its interval as an error bar."""
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
            rows = table.reindex([(challenge, model) for challenge in challenges])
            values = rows[name].to_numpy()
            spread = [
                values - rows[f"{name}_lo"].to_numpy(),
                rows[f"{name}_hi"].to_numpy() - values,
            ]
            label = model_label(model, smoke)
            offset = x + (k - (len(models) - 1) / 2) * width
            ax.bar(offset, values, width, yerr=np.nan_to_num(spread), label=label, capsize=2)
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
    ranks = pillar_ranks(runs)[pillars(runs)]
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
    shown = [p for p in pillars(runs) if any(p in score for score in scores.values())]
    angles = np.linspace(0, 2 * np.pi, len(shown), endpoint=False).tolist()
    figure = _figure(4.5, 4.5)
    ax = figure.add_subplot(projection="polar")
    for model, score in scores.items():
        values = [score.get(p, 0.0) for p in shown]
        ax.plot([*angles, angles[0]], [*values, values[0]], marker="o", label=model)
        ax.fill([*angles, angles[0]], [*values, values[0]], alpha=0.1)
    ax.set_xticks(angles, shown)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.5, 1.0], ["", "best"], fontsize=7)
    if scores:
        ax.legend(loc="lower right", bbox_to_anchor=(1.25, -0.1), fontsize=7)
    ax.set_title("Pillar ranks (outer = better)", fontsize=10)
    return figure


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


def animation_indices(num_frames: int, limit: int = ANIMATION_FRAMES) -> list[int]:
    """Frames an animation shows: every k-th with the smallest k that keeps at most
    ``limit`` frames (k = 1 up to ``limit`` frames), and always the last one."""
    step = max(1, math.ceil((num_frames - 1) / max(limit - 1, 1)))
    indices = list(range(0, num_frames, step))
    return indices if indices[-1] == num_frames - 1 else [*indices, num_frames - 1]


def _pictures(frames: torch.Tensor, height: int) -> list[Image.Image]:
    """(T, 3, H, W) frames (uint8, or float in [0, 1]) as RGB images ``height`` pixels high
    (never enlarged: smaller frames keep their size)."""
    pixels = to_uint8(frames).permute(0, 2, 3, 1).numpy()
    height = min(height, pixels.shape[1])
    width = max(1, round(pixels.shape[2] * height / pixels.shape[1]))
    return [
        Image.fromarray(frame).resize((width, height), Image.Resampling.LANCZOS) for frame in pixels
    ]


def animated_webp(video: torch.Tensor, height: int = ANIMATION_HEIGHT) -> bytes:
    """A looping animated WebP of a (T, 3, H, W) video, at most ``height`` pixels high, showing the
    frames of :func:`animation_indices` for FRAME_MS each (the last for LAST_FRAME_MS)."""
    indices = animation_indices(video.shape[0])
    frames = _pictures(video[indices], height)
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="WEBP",
        save_all=True,
        append_images=frames[1:],
        duration=[FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS],
        loop=0,
        quality=WEBP_QUALITY,
        method=4,
    )
    return buffer.getvalue()


def still_webp(image: torch.Tensor, height: int = ANIMATION_HEIGHT) -> bytes:
    """A (3, H, W) image as a WebP at most ``height`` pixels high."""
    buffer = io.BytesIO()
    _pictures(image[None], height)[0].save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def webp_data_uri(data: bytes) -> str:
    """``data:image/webp;base64,...`` for embedding in a page."""
    return "data:image/webp;base64," + base64.b64encode(data).decode("ascii")
