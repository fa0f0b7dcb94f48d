"""The HTML report: one self-contained file (tables, plots, pace curves, a case browser,
provenance).

Plots are embedded as base64 PNGs, the case browser's animations and keyframes as base64
WebP, and the style sheet is inline, so the file opens offline, refers to nothing outside
itself and runs no script. Pace curves and the case browser read the videos the runs saved
and the ground truth of their benchmark; a missing video or benchmark is noted in the
report, never an error. The browser embeds cases until :data:`BROWSER_BUDGET` bytes are
spent (unless the cases are chosen).
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from tgibench.leaderboard.formats import column_decimals, table_html
from tgibench.leaderboard.runs import Runs
from tgibench.leaderboard.tables import (
    MISSING,
    SMOKE_NOTE,
    Row,
    Table,
    arrow,
    best_of,
    is_smoke_test,
    leaderboard_tables,
    measured_metrics,
    model_label,
    pillars,
    smoke_tests,
)

#: Cases shown with pace curves when none are chosen: one per challenge.
DEFAULT_CASES = 3
#: Bytes of animations and stills the case browser embeds when no cases are chosen (the
#: committed mini-bench report of five models stays under 5 MB with it).
BROWSER_BUDGET = 3_500_000

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


def _labels(runs: Runs) -> dict[str, str]:
    """Run dir → display label: the model spec, plus the dir name when specs repeat, and
    the smoke-test mark for random weights."""
    models = [record["model"] for record in runs.records.values()]
    smoke = smoke_tests(runs)
    labels = {}
    for run, record in runs.records.items():
        label = model_label(record["model"], smoke)
        labels[run] = label if models.count(record["model"]) == 1 else f"{label} ({Path(run).name})"
    return labels


def _common_cases(runs: Runs) -> pd.DataFrame:
    """One row (case_id, folder, challenge, num_frames) per case every run scored."""
    scored = runs.cases[runs.cases["error"].isna()]
    every = scored.groupby("case_id")["run"].nunique() == len(runs.records)
    common = scored[scored["case_id"].isin(every[every].index)]
    return common.drop_duplicates("case_id")[["case_id", "folder", "challenge", "num_frames"]]


def default_cases(runs: Runs, count: int = DEFAULT_CASES) -> list[str]:
    """Up to ``count`` case ids, one per challenge, that every run scored."""
    common = _common_cases(runs)
    first = common.sort_values("case_id").groupby("challenge", sort=True)["case_id"].first()
    return list(first)[:count]


def browser_cases(runs: Runs) -> list[str]:
    """Every case that every run scored, in the order the browser embeds them while its
    budget lasts: one per folder first (its shortest), then the others (shortest first)."""
    common = _common_cases(runs).sort_values(["num_frames", "case_id"])
    first = common.drop_duplicates("folder")
    rest = common[~common["case_id"].isin(first["case_id"])]
    return [*first["case_id"], *rest["case_id"]]


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
    uint8 (T, 3, H, W), as the runner scored them; a video that is missing or unreadable
    gets a note instead."""
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


def challenge_anchor(challenge: str) -> str:
    """The id of a challenge's section in the case browser."""
    return "cases-" + (re.sub(r"[^a-z0-9]+", "-", challenge.lower()).strip("-") or "other")


def _case_metrics(runs: Runs, case_id: str, labels: dict[str, str]) -> str:
    """The case's per-case metric values, one row per run, best (not smoke tests) bold."""
    rows = runs.cases[runs.cases["case_id"] == case_id].set_index("run")
    names = [m for m in measured_metrics(runs) if not runs.metrics[m].get("run_level")]
    table = Table(
        f"{case_id}: metrics",
        labels=["model"],
        columns=[f"{m} {arrow(runs.metrics[m]['higher_is_better'])}" for m in names],
    )
    smoke = {run for run, record in runs.records.items() if is_smoke_test(record["model"])}
    values = rows.reindex(list(labels))
    real = [run not in smoke for run in labels]
    decimals = {m: column_decimals(list(values[m].astype(float)), among=real) for m in names}
    best = {m: best_of(values[m], runs.metrics[m]["higher_is_better"], smoke) for m in names}
    for run, label in labels.items():
        cells = [
            MISSING if math.isnan(v) else f"{v:.{decimals[m]}f}"
            for m, v in ((m, float(values.loc[run, m])) for m in names)
        ]
        table.rows.append(Row([label], cells, [run in best[m] for m in names]))
    return table_html(table)


def _figure(uri: str, caption: str, kind: str) -> str:
    alt = html.escape(caption)
    return (
        f'<figure class="{kind}"><img class="{kind}" src="{uri}" alt="{alt}" title="{alt}">'
        f"<figcaption>{alt}</figcaption></figure>"
    )


def _case_article(runs: Runs, case_id: str, bench: Any) -> tuple[str, list[str]] | None:
    """One case of the browser (texts, keyframes, the ground truth and every model
    animated, metric values) and the labels of the runs without a video of it; None if
    the runs did not score the case or no video of it can be read."""
    from tgibench.leaderboard.plots import animated_webp, still_webp, webp_data_uri

    rows = runs.cases[runs.cases["case_id"] == case_id]
    videos = _case_videos(runs, case_id, bench, []) if len(rows) else {}
    if not videos:
        return None
    labels = _labels(runs)
    row = rows.iloc[0]
    case = _bench_case(bench, case_id)
    head = (
        f"<h4>{html.escape(case_id)} <small>{html.escape(str(row['challenge']))}, "
        f"{int(row['num_frames'])} frames</small></h4>"
    )
    texts = []
    if case is not None:
        texts.append(f"<p>{html.escape(case.caption)}</p>")
        texts.append(
            f"<p class='desc'>first: {html.escape(case.first_desc)}<br>"
            f"last: {html.escape(case.last_desc)}</p>"
        )
    figures = []
    truth = videos.get("ground truth")
    if truth is not None:
        figures.append(_figure(webp_data_uri(still_webp(truth[0])), "first keyframe", "key"))
    for label, video in videos.items():
        figures.append(_figure(webp_data_uri(animated_webp(video)), label, "anim"))
    missing = [label for label in labels.values() if label not in videos]
    figures += [
        f'<figure class="missing"><div>no video</div><figcaption>{html.escape(label)}'
        "</figcaption></figure>"
        for label in missing
    ]
    if truth is not None:
        figures.append(_figure(webp_data_uri(still_webp(truth[-1])), "last keyframe", "key"))
    article = (
        f'<article class="case" id="case-{html.escape(case_id)}">{head}{"".join(texts)}'
        f'<div class="frames">{"".join(figures)}</div>{_case_metrics(runs, case_id, labels)}'
        "</article>"
    )
    return article, missing


def _bench_case(bench: Any, case_id: str) -> Any:
    """The benchmark's case (texts), or None."""
    if bench is None:
        return None
    try:
        return bench.get(case_id)
    except KeyError:
        return None


def _browser(
    runs: Runs, case_ids: list[str] | None, bench: Any, budget: int
) -> tuple[list[str], dict[str, str]]:
    """The case browser's HTML, grouped by challenge, and challenge → link for the tables.

    ``case_ids`` None: :func:`browser_cases` while ``budget`` bytes last; else those cases.
    """
    order = browser_cases(runs) if case_ids is None else case_ids
    articles: dict[str, str] = {}
    missing: dict[str, int] = {}
    spent, left_out = 0, 0
    for index, case_id in enumerate(order):
        made = _case_article(runs, case_id, bench)
        if made is None:
            continue
        article, without_video = made
        if case_ids is None and spent + len(article) > budget:
            left_out = len(order) - index  # the order is the priority: stop at the first
            break
        spent += len(article)
        articles[case_id] = article
        for label in without_video:
            missing[label] = missing.get(label, 0) + 1
    info = runs.cases.drop_duplicates("case_id").set_index("case_id")
    shown = sorted(articles, key=lambda c: (str(info.loc[c, "challenge"]), c))
    challenges = list(dict.fromkeys(str(info.loc[c, "challenge"]) for c in shown))
    links = {c: "#" + challenge_anchor(c) for c in challenges}
    parts = [
        "<p>Each case: its prompt and keyframe descriptions, the first keyframe, the ground "
        "truth and every model's frames as looping animations (downsized; long videos show "
        "every other frame or fewer), the last keyframe, and the case's metric values. "
        + (
            f"{len(articles)} of {len(order)} cases, {spent / 1e6:.2f} MB of the "
            f"{budget / 1e6:.2f} MB budget: one case per folder first; choose cases with "
            "--cases.</p>"
            if case_ids is None
            else f"{len(articles)} chosen cases ({spent / 1e6:.2f} MB).</p>"
        ),
        "<nav class='challenges'>"
        + "".join(f'<a href="{links[c]}">{html.escape(c)}</a>' for c in challenges)
        + "</nav>",
    ]
    for challenge in challenges:
        parts.append(
            f'<section id="{challenge_anchor(challenge)}"><h3>{html.escape(challenge)}</h3>'
        )
        parts += [articles[c] for c in shown if str(info.loc[c, "challenge"]) == challenge]
        parts.append("</section>")
    parts += [
        f"<p class='note'>{html.escape(label)}: no saved video for {count} of the cases shown "
        "(runs with --no-videos, or `tgibench score`, keep none).</p>"
        for label, count in missing.items()
    ]
    if left_out:
        parts.append(f"<p class='note'>{left_out} cases left out to keep the size budget.</p>")
    return parts, links


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
    pace = _pace(runs, pace_ids, _labels(runs), notes) if pace_ids else []
    browser, links = _browser(runs, cases, truth, budget)
    tables = "".join(table_html(t, links) for t in leaderboard_tables(runs, reported))
    names = sorted({str(r["benchmark"].get("name", "")) for r in runs.records.values()})
    smoke = [f"<p class='note'>{html.escape(SMOKE_NOTE)}</p>"] if smoke_tests(runs) else []
    body = [
        "<h1>TGI-Bench leaderboard</h1>",
        f"<p>Benchmark: {html.escape(', '.join(names))}; models: "
        f"{html.escape(', '.join(_labels(runs).values()))}. Means over scored cases; failed "
        "cases are excluded and counted; ↑/↓ says which direction is better; the best value "
        "of each column is highlighted. <a href='#cases'>Case browser</a>.</p>",
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
