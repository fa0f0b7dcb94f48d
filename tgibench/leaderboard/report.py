"""The HTML report: one self-contained file (tables, plots, pace curves, a case browser,
provenance).

Plots are embedded as base64 PNGs, the case browser's animations and keyframes as base64
WebP, and the style sheet is inline, so the file opens offline, refers to nothing outside
itself and runs no script. Pace curves and the case browser read the videos the runs saved
and the ground truth of their benchmark; a missing video or benchmark is noted in the
report, never an error. The case browser is :mod:`tgibench.leaderboard.browser`.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from tgibench.leaderboard.board import leaderboard_tables
from tgibench.leaderboard.browser import BROWSER_BUDGET, case_browser, common_cases, run_labels
from tgibench.leaderboard.formats import table_html
from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.tables import SMOKE_NOTE, pillars, smoke_tests

#: Cases shown with pace curves when none are chosen: one per challenge.
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
article.case{border-top:1px solid #e5e5e5;padding:.4rem 0 .8rem}
article.case h4{margin:.4rem 0 .2rem}article.case p{margin:.2rem 0;font-size:.9rem}
.frames{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-start}
.frames figure{margin:.3rem 0;text-align:center}
.frames img{height:120px;width:auto;max-width:none;border:1px solid #ddd}
.frames figure.missing div{height:120px;width:200px;
background:#f3f3f5;color:#777;font-size:.8rem;display:flex;align-items:center;
justify-content:center}.desc{color:#555}nav.challenges a{margin-right:1rem}
"""


def default_cases(runs: Runs, count: int = DEFAULT_CASES) -> list[str]:
    """Up to ``count`` case ids, one per challenge, that every run scored."""
    common = common_cases(runs)
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


def _img(uri: str, caption: str) -> str:
    return (
        f'<figure><img src="{uri}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _plots(runs: Runs) -> list[str]:
    from tgibench.leaderboard.plots import challenge_bars, figure_data_uri, pillar_radar

    parts = [_img(figure_data_uri(pillar_radar(runs)), "Mean rank per pillar, as a radar.")]
    parts += [
        _img(figure_data_uri(challenge_bars(runs, p)), f"{p}: mean per challenge and model.")
        for p in pillars(runs, measured=True)
    ]
    return parts


def _pace(runs: Runs, case_ids: list[str], labels: dict[str, str], notes: list[str]) -> list[str]:
    """Pace curves (progress over time) of each case, as the runner stored them: the
    ground truth's and every run's."""
    from tgibench.leaderboard.plots import figure_data_uri, pace_curves

    parts = []
    missing = []
    for case_id in case_ids:
        stored = {run: runs.curves.get((run, case_id), {}) for run in runs.records}
        curves = {
            labels[run]: np.asarray(c["progress"]) for run, c in stored.items() if "progress" in c
        }
        truth = next(
            (c["target_progress"] for c in stored.values() if "target_progress" in c), None
        )
        if truth is not None:
            curves = {"ground truth": np.asarray(truth), **curves}
        if not curves:
            missing.append(case_id)
            continue
        parts.append(
            _img(
                figure_data_uri(pace_curves(case_id, curves)),
                f"{case_id}: progress over time, cumulative share of the pixel change.",
            )
        )
    if missing:
        notes.append(
            f"no pace curves stored for {', '.join(missing)} (runs scored before pace "
            "stability v2, or without a pace metric: re-score them to see the curves)"
        )
    return ["<div class='grid'>", *parts, "</div>"] if parts else []


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
    budget: int = BROWSER_BUDGET,
) -> str:
    """The HTML report of ``runs`` as one self-contained page.

    ``cases``: case ids shown in the case browser and with pace curves (default: the
    browser shows :func:`browser_cases` while ``budget`` bytes of pictures last, pace
    curves :func:`default_cases`); ``bench``: where the ground truth is (default: the
    source the runs recorded). ``reported``: the paper's numbers, in tables of their own.
    """
    notes: list[str] = []
    truth = _ground_truth(runs, bench, notes)
    pace_ids = default_cases(runs) if cases is None else cases
    pace = _pace(runs, pace_ids, run_labels(runs), notes) if pace_ids else []
    browser, links = case_browser(runs, cases, truth, budget)
    tables = "".join(table_html(t, links) for t in leaderboard_tables(runs, reported))
    names = sorted({str(r["benchmark"].get("name", "")) for r in runs.records.values()})
    smoke = [f"<p class='note'>{html.escape(SMOKE_NOTE)}</p>"] if smoke_tests(runs) else []
    body = [
        "<h1>TGI-Bench leaderboard</h1>",
        f"<p>Benchmark: {html.escape(', '.join(names))}; models: "
        f"{html.escape(', '.join(run_labels(runs).values()))}. Means over the cases every "
        "model scored, each with its 95% interval; failed cases are excluded and counted; ↑/↓ "
        "says which direction is better; each column's top group (the best and the models not "
        "significantly different from it) is highlighted. <a href='#cases'>Case browser</a>.</p>",
        *smoke,
        "<h2>Tables</h2>",
        tables,
        "<h2>Plots</h2>",
        *_plots(runs),
        "<h2>Pace curves</h2>",
        *pace,
        *(f"<p class='note'>{html.escape(n)}</p>" for n in notes),
        "<h2 id='cases'>Cases</h2>",
        *browser,
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
