"""The report's case browser: for each case, every model's frames next to the ground truth.

Each case shows its prompt and keyframe descriptions, the first and last keyframes as
stills, the ground truth and every run's saved video as looping animated WebP (inline
base64), and the case's metric values. Without chosen cases the browser embeds cases until
:data:`BROWSER_BUDGET` bytes are spent, one per folder first.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from tgibench.leaderboard.formats import column_decimals, table_html
from tgibench.leaderboard.runs import Runs, run_label
from tgibench.leaderboard.tables import (
    MISSING,
    Row,
    Table,
    arrow,
    best_of,
    is_smoke_test,
    measured_metrics,
    model_label,
    smoke_tests,
)

#: Bytes of animations and stills the case browser embeds when no cases are chosen (the
#: committed mini-bench report of five models stays under 5 MB with it).
BROWSER_BUDGET = 3_500_000


def run_labels(runs: Runs) -> dict[str, str]:
    """Run dir → display label: the model spec, plus the dir name when specs repeat, and
    the smoke-test mark for random weights."""
    models = [run_label(record) for record in runs.records.values()]
    smoke = smoke_tests(runs)
    labels = {}
    for run, record in runs.records.items():
        model = run_label(record)
        label = model_label(model, smoke)
        labels[run] = label if models.count(model) == 1 else f"{label} ({Path(run).name})"
    return labels


def common_cases(runs: Runs) -> pd.DataFrame:
    """One row (case_id, folder, challenge, num_frames) per case every run scored."""
    scored = runs.cases[runs.cases["error"].isna()]
    every = scored.groupby("case_id")["run"].nunique() == len(runs.records)
    common = scored[scored["case_id"].isin(every[every].index)]
    return common.drop_duplicates("case_id")[["case_id", "folder", "challenge", "num_frames"]]


def browser_cases(runs: Runs) -> list[str]:
    """Every case that every run scored, in the order the browser embeds them while its
    budget lasts: one per folder first (its shortest), then the others (shortest first)."""
    common = common_cases(runs).sort_values(["num_frames", "case_id"])
    first = common.drop_duplicates("folder")
    rest = common[~common["case_id"].isin(first["case_id"])]
    return [*first["case_id"], *rest["case_id"]]


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
    for run, label in run_labels(runs).items():
        path = runs.video_path(run, case_id)
        if path is None:
            notes.append(f"{case_id}: {label} saved no video (run with --videos)")
            continue
        try:
            videos[label] = read_video(path, dtype=torch.uint8)
        except ValueError as exc:
            notes.append(f"{case_id}: {label}: {exc}")
    return videos


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
    labels = run_labels(runs)
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


def case_browser(
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
