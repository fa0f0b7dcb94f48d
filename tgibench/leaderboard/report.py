"""The HTML report: one self-contained file (tables, plots, frame strips, provenance).

Plots are embedded as base64 PNGs and the style sheet is inline, so the file opens
offline and refers to nothing outside itself. Pace curves and frame strips read the videos
the runs saved and the ground truth of their benchmark; a missing video or benchmark is
noted in the report, never an error.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from tgibench.leaderboard.formats import table_html
from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.tables import leaderboard_tables

#: Cases shown with pace curves and frame strips when none are chosen: one per challenge.
DEFAULT_CASES = 3

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:1rem 0 .3rem;font-size:.85rem;display:block;overflow-x:auto}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap}
th[scope=row],thead th{text-align:left}thead th{background:#f3f3f5}
tbody tr:nth-child(even){background:#fafafa}td.best{background:#e7f5e9}
ul.notes{font-size:.8rem;color:#555;margin-top:0}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}
figcaption{font-size:.8rem;color:#555}.grid{display:flex;flex-wrap:wrap;gap:1rem}
.note{color:#8a5a00}details{margin:.5rem 0}code{font-size:.85em}
"""


def _labels(runs: Runs) -> dict[str, str]:
    """Run dir → display label: the model spec, plus the dir name when specs repeat."""
    models = [record["model"] for record in runs.records.values()]
    return {
        run: record["model"]
        if models.count(record["model"]) == 1
        else f"{record['model']} ({Path(run).name})"
        for run, record in runs.records.items()
    }


def default_cases(runs: Runs, count: int = DEFAULT_CASES) -> list[str]:
    """Up to ``count`` case ids, one per challenge, that every run scored."""
    scored = runs.cases[runs.cases["error"].isna()]
    every = scored.groupby("case_id")["run"].nunique() == len(runs.records)
    common = scored[scored["case_id"].isin(every[every].index)]
    first = common.sort_values("case_id").groupby("challenge", sort=True)["case_id"].first()
    return list(first)[:count]


def _ground_truth(runs: Runs, source: str | None, notes: list[str]) -> Any:
    """The runs' benchmark (or ``source``), or None with a note when it cannot be loaded."""
    from tgibench.data import load_benchmark

    records = list(runs.records.values())
    source = source or (records[0]["benchmark"].get("source") if records else None)
    if source is None:
        return None
    try:
        return load_benchmark(source)
    except Exception as exc:  # any loader failure only removes the ground-truth rows
        notes.append(f"ground truth not shown: benchmark {source!r}: {exc}")
        return None


def _case_videos(runs: Runs, case_id: str, bench: Any, notes: list[str]) -> dict[str, torch.Tensor]:
    """Ground truth (if available) and each run's saved video of one case, by label, as
    uint8 (T, 3, H, W), as the runner scored them."""
    from tgibench.video import read_video

    videos: dict[str, torch.Tensor] = {}
    if bench is not None:
        try:
            frames = bench.get(case_id).load_frames(torch.uint8)
            if frames is not None:
                videos["ground truth"] = frames
        except (KeyError, ValueError) as exc:
            notes.append(f"{case_id}: no ground truth ({exc})")
    for run, label in _labels(runs).items():
        path = runs.video_path(run, case_id)
        if path is None:
            notes.append(f"{case_id}: {label} saved no video (run with --videos)")
            continue
        try:
            videos[label] = read_video(path, dtype=torch.uint8)
        except ValueError as exc:
            notes.append(f"{case_id}: {label}: {exc}")
    return videos


def _img(uri: str, caption: str) -> str:
    return (
        f'<figure><img src="{uri}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _plots(runs: Runs) -> list[str]:
    from tgibench.leaderboard.plots import (
        challenge_bars,
        figure_data_uri,
        measured_metrics,
        pillar_radar,
    )

    pillars = list(dict.fromkeys(info["pillar"] for info in runs.metrics.values()))
    parts = [_img(figure_data_uri(pillar_radar(runs)), "Mean rank per pillar, as a radar.")]
    parts += [
        _img(figure_data_uri(challenge_bars(runs, p)), f"{p}: mean per challenge and model.")
        for p in pillars
        if measured_metrics(runs, p)
    ]
    return parts


def _cases(runs: Runs, case_ids: list[str], source: str | None, notes: list[str]) -> list[str]:
    from tgibench.leaderboard.plots import (
        figure_data_uri,
        frame_strip,
        pace_curves,
        progress_curve,
    )

    bench = _ground_truth(runs, source, notes)
    parts = []
    for case_id in case_ids:
        videos = _case_videos(runs, case_id, bench, notes)
        if not videos:
            continue
        lengths = {v.shape[0] for v in videos.values()}
        if len(lengths) > 1:
            notes.append(f"{case_id}: videos differ in length {sorted(lengths)}; not shown")
            continue
        curves = {label: progress_curve(video) for label, video in videos.items()}
        parts.append(f"<h3>{html.escape(case_id)}</h3><div class='grid'>")
        parts.append(
            _img(
                figure_data_uri(pace_curves(case_id, curves)),
                "Progress over time: cumulative share of optical-flow magnitude.",
            )
        )
        parts.append(
            _img(
                figure_data_uri(frame_strip(case_id, videos), "jpeg"),
                "First, middle and last frames of each video.",
            )
        )
        parts.append("</div>")
    return parts


def _provenance(runs: Runs) -> str:
    """A table of where each run's numbers came from, and its package versions."""
    rows = []
    for run, record in runs.records.items():
        env = record.get("environment", {})
        bench = record.get("benchmark", {})
        cells = [
            run,
            record.get("model", ""),
            record.get("created", ""),
            record.get("tgibench_version", ""),
            str(env.get("git_revision", "")),
            f"{bench.get('name', '')} ({str(bench.get('fingerprint', ''))[:12]}, "
            f"{bench.get('num_cases', '?')} cases)",
            str(record.get("seed", "")),
            f"{env.get('device', '')}, Python {env.get('python', '')}",
        ]
        packages = ", ".join(
            f"{name} {version}" for name, version in env.get("packages", {}).items() if version
        )
        rows.append(
            "<tr>"
            + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            + f"<td><details><summary>versions</summary>{html.escape(packages)}</details></td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "run",
            "model",
            "created",
            "tgibench",
            "git revision",
            "benchmark",
            "seed",
            "device",
            "packages",
        )
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _unavailable(runs: Runs) -> str:
    """The full reason of each unavailable metric (how to provide what is missing)."""
    if not runs.unavailable:
        return ""
    items = "".join(
        f"<li><code>{html.escape(name)}</code>: {html.escape(reason)}</li>"
        for name, reason in runs.unavailable.items()
    )
    return (
        f"<details><summary>Unavailable metrics: full reasons</summary><ul>{items}</ul></details>"
    )


def render_report(
    runs: Runs,
    reported: pd.DataFrame | None = None,
    *,
    cases: list[str] | None = None,
    bench: str | None = None,
) -> str:
    """The HTML report of ``runs`` as one self-contained page.

    ``cases``: case ids shown with pace curves and frame strips (default:
    :func:`default_cases`); ``bench``: where the ground truth is (default: the source the
    runs recorded). ``reported``: the paper's numbers, shown in tables of their own.
    """
    notes: list[str] = []
    case_ids = default_cases(runs) if cases is None else cases
    tables = "".join(table_html(t) for t in leaderboard_tables(runs, reported))
    case_parts = _cases(runs, case_ids, bench, notes) if case_ids else []
    names = sorted({str(r["benchmark"].get("name", "")) for r in runs.records.values()})
    body = [
        "<h1>TGI-Bench leaderboard</h1>",
        f"<p>Benchmark: {html.escape(', '.join(names))}; models: "
        f"{html.escape(', '.join(_labels(runs).values()))}. Means over scored cases; failed "
        "cases are excluded and counted; ↑/↓ says which direction is better; the best value "
        "of each column is highlighted.</p>",
        "<h2>Tables</h2>",
        tables,
        "<h2>Plots</h2>",
        *_plots(runs),
        "<h2>Cases: pace and frames</h2>",
        *case_parts,
        *(f"<p class='note'>{html.escape(n)}</p>" for n in notes),
        "<h2>Provenance</h2>",
        _provenance(runs),
        _unavailable(runs),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>TGI-Bench leaderboard</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
