"""Aggregation and formatting of leaderboards from run directories."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tgibench.leaderboard import (
    LeaderboardError,
    aggregate,
    is_smoke_test,
    leaderboard_csv,
    leaderboard_latex,
    leaderboard_markdown,
    leaderboard_tables,
    leaderboard_terminal,
    load_runs,
    pillar_ranks,
)
from tgibench.leaderboard.cases import coverage
from tgibench.leaderboard.formats import latex_escape, table_html
from tgibench.leaderboard.runs import expand_run_dirs
from tgibench.leaderboard.tables import Table


def _write_run(path, model, rows, fingerprint="f" * 64, metrics=None):
    path.mkdir(parents=True)
    metrics = metrics or {
        "psnr": {"pillar": "reconstruction", "higher_is_better": True},
        "lpips": {"pillar": "reconstruction", "higher_is_better": False},
    }
    record = {"model": model, "benchmark": {"fingerprint": fingerprint}, "metrics": metrics}
    (path / "run.json").write_text(json.dumps(record))
    (path / "results.jsonl").write_text(
        "".join(json.dumps({"model": model, **r}) + "\n" for r in rows)
    )
    return path


def _row(case_id, challenge, n, psnr=None, lpips=None, error=None, unavailable=None):
    row = {"case_id": case_id, "folder": case_id, "challenge": challenge, "num_frames": n}
    if error:
        row["error"] = error
    else:
        row.update(psnr=psnr, lpips=lpips)
    if unavailable:
        row["unavailable"] = unavailable
    return row


@pytest.fixture
def two_runs(tmp_path):
    a = _write_run(
        tmp_path / "a",
        "flow",
        [
            _row("x-25", "linear motion", 25, 20.0, 0.2),
            _row("y-25", "occlusion", 25, 10.0, 0.4),
            _row("z-33", "occlusion", 33, error="CaseError: broken"),
        ],
    )
    b = _write_run(
        tmp_path / "b",
        "hold",
        [
            _row(
                "x-25",
                "linear motion",
                25,
                12.0,
                None,
                unavailable={"lpips": "weights unavailable: LPIPS"},
            ),
            _row(
                "y-25",
                "occlusion",
                25,
                14.0,
                None,
                unavailable={"lpips": "weights unavailable: LPIPS"},
            ),
            _row(
                "z-33",
                "occlusion",
                33,
                16.0,
                None,
                unavailable={"lpips": "weights unavailable: LPIPS"},
            ),
        ],
    )
    return a, b


def test_means_compare_the_cases_every_model_scored(two_runs):
    """hold scored z-33, which flow failed: it is dropped from hold's means too."""
    runs = load_runs(two_runs)
    overall = aggregate(runs)
    assert overall.loc["flow", "psnr"] == 15.0 and overall.loc["flow", "cases"] == 2
    assert overall.loc["hold", "psnr"] == 13.0 and overall.loc["hold", "cases"] == 2
    assert overall.loc["flow", "failed"] == 1 and overall.loc["hold", "failed"] == 0
    assert (overall.loc["hold", "psnr_lo"], overall.loc["hold", "psnr_hi"]) == (12.0, 14.0)
    assert list(overall["runs"]) == [1, 1] and overall["psnr_seed_sd"].isna().all()
    per_challenge = aggregate(runs, "challenge")
    assert per_challenge.loc[("occlusion", "flow"), "psnr"] == 10.0
    assert per_challenge.loc[("occlusion", "hold"), "psnr"] == 14.0
    assert np.isnan(per_challenge.loc[("occlusion", "hold"), "psnr_lo"])  # one case: none
    per_length = aggregate(runs, "length")
    assert per_length.loc[(33, "hold"), "cases"] == 0
    assert np.isnan(per_length.loc[(33, "hold"), "psnr"])
    found = coverage(runs)
    assert found[["scored", "failed", "missing", "compared"]].values.tolist() == [
        [2, 1, 0, 2],
        [3, 0, 0, 2],
    ]


def test_markdown_shows_intervals_coverage_and_unavailable(two_runs):
    text = leaderboard_markdown(load_runs(two_runs))
    assert "| model | cases | failed | psnr ↑ | lpips ↓ |" in text
    # two cases: nothing is significant, both are in the top group
    assert "| flow | 2 | 1 | **15.00** [10.00, 20.00] | 0.3000 [0.2000, 0.4000] |" in text
    assert "| hold | 2 | 0 | **13.00** [12.00, 14.00] | — |" in text
    assert "lpips: unavailable: weights unavailable: LPIPS" in text
    assert "| occlusion | hold | 1 | 0 | **14.00** | — |" in text  # one case: no interval
    assert "(2000 resamples, seed 0)" in text
    assert "compared on the same 2 cases; scored/failed/missing cases per run:" in text
    assert f"{two_runs[1]} (hold) 3/0/0." in text
    assert "### Coverage" in text and "| flow | 2 | 1 | 0 | 2 |" in text


def test_runs_on_different_data_are_refused(tmp_path):
    a = _write_run(
        tmp_path / "a", "flow", [_row("x-25", "occlusion", 25, 1.0, 0.1)], fingerprint="a" * 64
    )
    b = _write_run(
        tmp_path / "b", "hold", [_row("x-25", "occlusion", 25, 1.0, 0.1)], fingerprint="b" * 64
    )
    with pytest.raises(LeaderboardError, match="different benchmark data"):
        load_runs([a, b])
    assert len(load_runs([a, b], allow_mixed=True).cases) == 2


def test_not_a_run_directory(tmp_path):
    with pytest.raises(LeaderboardError, match="no run.json"):
        load_runs([tmp_path])


def test_a_folder_of_runs_stands_for_the_runs_inside(tmp_path):
    rows = [_row("x-25", "occlusion", 25, 1.0, 0.1)]
    a = _write_run(tmp_path / "demo" / "a", "flow", rows)
    b = _write_run(tmp_path / "demo" / "b", "hold", rows)
    c = _write_run(tmp_path / "c", "crossfade", rows)
    assert expand_run_dirs([tmp_path / "demo", c, a]) == [a, b, c]
    assert len(load_runs([tmp_path / "demo", c]).cases) == 3


THREE_PILLARS = {
    "psnr": {"pillar": "reconstruction", "higher_is_better": True},
    "lpips": {"pillar": "reconstruction", "higher_is_better": False},
    "flicker": {"pillar": "consistency", "higher_is_better": False},
    "fid": {"pillar": "distribution", "higher_is_better": False, "run_level": True},
}


def _three_models(tmp_path):
    values = {"a": (20.0, 0.1, 0.3), "b": (15.0, 0.3, 0.1), "c": (10.0, 0.2, 0.2)}
    runs = []
    for model, (psnr, lpips, flicker) in values.items():
        rows = [
            {**_row(f"x-{n}", ch, n, psnr + k, lpips), "flicker": flicker}
            for k, (ch, n) in enumerate([("occlusion", 25), ("occlusion", 33), ("near-static", 25)])
        ]
        runs.append(_write_run(tmp_path / model, model, rows, metrics=THREE_PILLARS))
    return runs


def test_run_level_metrics_come_from_run_metrics_json(tmp_path):
    runs = _three_models(tmp_path)
    (runs[0] / "run_metrics.json").write_text(
        json.dumps(
            {
                "fid": {
                    "overall": 80.0,
                    "challenge": {"occlusion": 70.0, "near-static": 90.0},
                    "num_frames": {"25": 85.0, "33": 75.0},
                }
            }
        )
    )
    (runs[1] / "run_metrics.json").write_text(
        json.dumps({"fid": {"unavailable": "no I3D. Give it with --weights"}})
    )
    loaded = load_runs(runs)
    assert aggregate(loaded).loc["a", "fid"] == 80.0
    assert pd.isna(aggregate(loaded).loc["b", "fid"])
    assert aggregate(loaded, "challenge").loc[("near-static", "a"), "fid"] == 90.0
    assert aggregate(loaded, "length").loc[(33, "a"), "fid"] == 75.0
    text = leaderboard_markdown(loaded)
    assert "- fid: unavailable: no I3D\n" in text and "--weights" not in text  # first sentence
    assert loaded.unavailable["fid"].endswith("--weights")  # the API keeps the full reason


def test_pillar_ranks_average_ranks_per_pillar(tmp_path):
    loaded = load_runs(_three_models(tmp_path))
    ranks = pillar_ranks(loaded)
    # psnr ranks a1 b2 c3, lpips ranks a1 c2 b3; flicker ranks b1 c2 a3
    assert ranks.loc["a", "reconstruction"] == 1.0
    assert ranks.loc["b", "reconstruction"] == 2.5 and ranks.loc["c", "reconstruction"] == 2.5
    assert list(ranks["consistency"]) == [3.0, 1.0, 2.0]
    assert ranks["distribution"].isna().all()  # fid missing everywhere: no rank, no error
    text = leaderboard_markdown(loaded)
    # distribution has no measured metric: no rank column for it
    assert "| model | reconstruction ↓ | consistency ↓ |" in text
    # the same order on every case: the ranks never move, but three cases prove nothing
    assert "| a | **1.00** [1, 1] | **3.00** [3, 3] |" in text
    assert ranks.loc["b", "reconstruction_lo"] == ranks.loc["b", "reconstruction_hi"] == 2.5


def test_unavailable_notes_group_metrics_with_the_same_reason(tmp_path):
    gone = {m: "weights unavailable: CLIP. Point TGI-Bench at them" for m in ("psnr", "lpips")}
    run = _write_run(tmp_path / "a", "a", [_row("x-25", "occlusion", 25, unavailable=gone)])
    text = leaderboard_markdown(load_runs([run]))
    assert (
        "- not measured: psnr, lpips (weights unavailable: CLIP); see `tgibench docs weights`.\n"
        in text
    )
    assert text.count("not measured") == 1  # once, under the overall table
    assert "| a | 1 | 0 |\n" in text  # their columns are gone


def test_metric_missing_from_every_row_is_dropped_and_noted(tmp_path):
    metrics = {**THREE_PILLARS, "ssim": {"pillar": "reconstruction", "higher_is_better": True}}
    run = _write_run(
        tmp_path / "a", "a", [_row("x-25", "occlusion", 25, 1.0, 0.1)], metrics=metrics
    )
    table = aggregate(load_runs([run]))
    assert pd.isna(table.loc["a", "ssim"])
    text = leaderboard_markdown(load_runs([run]))
    assert "| model | cases | failed | psnr ↑ | lpips ↓ |" in text
    assert "| a | 1 | 0 | 1.0000 | 0.1000 |" in text
    assert "- not measured: flicker, fid, ssim (no value in any run).\n" in text


def test_latex_and_html_mark_best_and_escape(two_runs):
    runs = load_runs(two_runs)
    latex = leaderboard_latex(runs)
    assert r"model & cases & failed & psnr $\uparrow$ & lpips $\downarrow$ \\" in latex
    assert (
        r"flow & 2 & 1 & \textbf{15.00} {\scriptsize [10.00, 20.00]} & "
        r"0.3000 {\scriptsize [0.2000, 0.4000]} \\"
    ) in latex
    assert r"linear motion & hold & 1 & 0 & \textbf{12.00} & --- \\" in latex
    assert r"weights unavailable: LPIPS" in latex and latex.count(r"\begin{table}") == 6
    assert latex_escape("a_b & 50% #1") == r"a\_b \& 50\% \#1"
    html = table_html(leaderboard_tables(runs)[0])
    assert '<td class="best"><strong>15.00</strong> <small>[10.00, 20.00]</small></td>' in html
    assert "<td>0.3000 <small>[0.2000, 0.4000]</small></td>" in html
    assert "<th>lpips ↓</th>" in html and "<li>lpips: unavailable" in html
    assert table_html(Table("<x>", ["m"], ["v"])).startswith("<table><caption>&lt;x&gt;")


def test_cli_writes_every_format_and_refuses_mixed(tmp_path, two_runs):
    from typer.testing import CliRunner

    from tgibench.cli import app

    runner = CliRunner()
    for fmt, marker in [("md", "### Per challenge"), ("csv", "origin,"), ("latex", r"\toprule")]:
        out = tmp_path / f"lb.{fmt}"
        result = runner.invoke(app, ["leaderboard", *map(str, two_runs), "-f", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert marker in out.read_text()
    result = runner.invoke(app, ["leaderboard", *map(str, two_runs), "-o", str(tmp_path / "t.tex")])
    assert result.exit_code == 0 and r"\toprule" in (tmp_path / "t.tex").read_text()
    result = runner.invoke(app, ["leaderboard", *map(str, two_runs), "--reported"])
    assert "Reported: paper Table 1" in result.output
    other = _write_run(
        tmp_path / "c", "c", [_row("x-25", "occlusion", 25, 1.0, 0.1)], fingerprint="c" * 64
    )
    result = runner.invoke(app, ["leaderboard", str(two_runs[0]), str(other)])
    assert result.exit_code == 2 and "--allow-mixed" in result.output
    result = runner.invoke(app, ["leaderboard", str(two_runs[0]), "-f", "pdf"])
    assert result.exit_code == 2 and "md, csv, latex, html" in result.output


def test_smoke_tests_are_labelled_not_ranked_and_never_best(tmp_path):
    runs = [
        _write_run(tmp_path / m, m, [_row("x-25", "occlusion", 25, psnr, lpips)])
        for m, psnr, lpips in [
            ("flow", 20.0, 0.3),
            ("tgi:preset=tiny", 30.0, 0.1),  # random weights with the "best" numbers
            ("hold", 10.0, 0.5),
        ]
    ]
    loaded = load_runs(runs)
    text = leaderboard_markdown(loaded)
    assert "| tgi:preset=tiny (smoke test: random weights) | 1 | 0 | 30.00 | 0.1000 |" in text
    assert "| flow | 1 | 0 | **20.00** | **0.3000** |" in text  # best among the real models
    ranks = pillar_ranks(loaded)["reconstruction"]
    assert ranks["flow"] == 1.0 and ranks["hold"] == 2.0 and np.isnan(ranks["tgi:preset=tiny"])
    assert "| tgi:preset=tiny (smoke test: random weights) | — |" in text
    assert text.count("- (smoke test: random weights): a tiny random-init preset") == 5
    csv = leaderboard_csv(loaded)
    assert "measured,runs (smoke test: random weights),overall,all,tgi:preset=tiny,psnr," in csv
    assert "measured,runs,overall,all,flow,psnr," in csv
    assert is_smoke_test("wan:preset=tiny,kab=off") and is_smoke_test("tgi:preset=TINY")
    assert not any(map(is_smoke_test, ["tgi", "flow:preset=tinyish", "tgi:preset=", ":bad"]))


def test_pillar_ranks_per_challenge(tmp_path):
    values = {  # model: (psnr, lpips) on occlusion, then on near-static
        "a": ((30.0, 0.25), (10.0, 0.75)),
        "b": ((20.0, 0.5), (20.0, 0.5)),
        "c": ((10.0, 0.75), (30.0, 0.25)),
    }
    runs = []
    for model, ((p1, l1), (p2, l2)) in values.items():
        rows = [_row("o-25", "occlusion", 25, p1, l1), _row("n-25", "near-static", 25, p2, l2)]
        runs.append(_write_run(tmp_path / model, model, rows))
    loaded = load_runs(runs)
    ranks = pillar_ranks(loaded, "challenge")["reconstruction"]
    assert ranks.loc["occlusion"].to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert ranks.loc["near-static"].to_dict() == {"a": 3.0, "b": 2.0, "c": 1.0}
    assert pillar_ranks(loaded)["reconstruction"].to_dict() == {
        "a": 1.0,
        "b": 1.0,
        "c": 1.0,
    }  # tied
    text = leaderboard_markdown(loaded)
    assert "### Rank per pillar, per challenge" in text
    assert "| occlusion | a | **1.00** |" in text and "| near-static | c | **1.00** |" in text
    assert "| occlusion | c | **3.00** |" in text  # one case per challenge separates nothing


def _demo_like_runs(tmp_path, models=("hold", "crossfade", "flow")):
    """Three runs with the real default metrics, as the demo measures them here: CLIP,
    X-CLIP, FID and FVD unavailable, the other eight with values of realistic size."""
    from tgibench.metrics import select_metrics

    metrics = {m.name: m.info() for m in select_metrics(None)}
    gone = {"clipsim_frames", "clip_score", "desc_trajectory", "xclip_score", "fid", "fvd"}
    scale = {"psnr": 20.0, "flicker": 0.0005, "lpips_frames": 0.01, "warping_error": 0.003}
    rng = np.random.default_rng(0)
    runs = []
    for model in models:
        rows = []
        for k, challenge in enumerate(["occlusion", "near-static", "linear motion"]):
            row = {"case_id": f"c{k}-25", "folder": f"c{k}", "challenge": challenge}
            row |= {"num_frames": 25, "unavailable": dict.fromkeys(gone, "weights unavailable: X")}
            row |= {m: float(rng.uniform(0.5, 1.5) * scale.get(m, 0.5)) for m in metrics}
            rows.append({k: v for k, v in row.items() if k not in gone})
        runs.append(_write_run(tmp_path / model.replace(":", "-"), model, rows, metrics=metrics))
    return runs


def test_terminal_table_fits_120_columns_grouped_by_pillar(tmp_path):
    loaded = load_runs(_demo_like_runs(tmp_path))
    text = leaderboard_terminal(loaded)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 120, "\n" + text
    header = lines[0].split()
    assert header == ["consistency"]  # measured pillars only, the widest alone
    assert lines[1].split()[:3] == ["model", "rank↓", "flicker↓"]  # no failed case: no column
    assert "means over the 3 cases every model scored" in " ".join(text.split())
    for name in ("flicker↓", "psnr↑", "ssim↑", "lpips↓", "stability↑", "adherence↓"):
        assert name in text
    rows = {}
    for line in lines:
        if line.startswith(("hold", "flow")):
            rows.setdefault(line.split()[0], []).extend(line.split()[1:])
    assert len(rows) == 2 and len(rows["flow"]) == 2 * (3 + 9)  # value and interval each
    table = aggregate(loaded)
    for model in ("hold", "flow"):  # 3 significant digits: 20.x ±y.y
        psnr, half = rows[model][-4], rows[model][-3]
        assert psnr == f"{table.loc[model, 'psnr']:.1f}"
        width = table.loc[model, "psnr_hi"] - table.loc[model, "psnr_lo"]
        assert half == f"±{width / 2:.1f}"
    rank, interval = rows["flow"][:2]
    ranks = pillar_ranks(loaded)
    assert rank == f"{ranks.loc['flow', 'consistency']:.2f}" and interval.startswith("[")
    assert "not measured: clipsim_frames, clip_score, desc_trajectory, xclip_score, fid, fvd" in (
        " ".join(text.split())
    )
    assert "clip_score" not in "\n".join(lines[:8])  # no column for it


def test_terminal_table_wraps_pillars_and_marks_smoke_tests(tmp_path):
    runs = _demo_like_runs(tmp_path, ("hold", "flow", "tgi:preset=tiny"))
    text = leaderboard_terminal(load_runs(runs), width=90)
    blocks = text.split("\n\n")
    assert all(len(line) <= 90 for line in text.splitlines()), text
    first_lines = [block.splitlines()[0].split()[:3] for block in blocks]
    assert first_lines == [
        ["consistency"],
        ["consistency", "(continued)"],  # too wide for one block next to the long label
        ["pace"],
        ["reconstruction"],
        ["rank↓:", "mean", "rank"],
    ]
    assert "tgi:preset=tiny (smoke test)" in text and "(smoke test): random weights" in text
    assert all(block.splitlines()[-1].startswith("tgi:preset=tiny") for block in blocks[:4])
    bold = leaderboard_terminal(load_runs(runs), color=True)
    assert "\033[1m" in bold and "\033[1m" not in text


def test_column_decimals_give_three_significant_digits():
    from tgibench.leaderboard.formats import column_decimals

    assert column_decimals([0.0123, 0.002]) == 4
    assert column_decimals([0.59, float("nan")]) == 3
    assert column_decimals([20.36, 9.1]) == 1
    assert column_decimals([123.0]) == 0 and column_decimals([0.0, 0.0]) == 3
    assert column_decimals([0.0008, 0.008], among=[True, False]) == 6  # a smoke test's 0.008


def test_cli_prints_the_compact_table_unless_full(two_runs):
    from typer.testing import CliRunner

    from tgibench.cli import app

    runner = CliRunner()
    compact = runner.invoke(app, ["leaderboard", *map(str, two_runs)])
    assert compact.exit_code == 0 and "rank↓" in compact.output and "###" not in compact.output
    assert "reconstruction" in compact.output.splitlines()[0]
    full = runner.invoke(app, ["leaderboard", *map(str, two_runs), "--full"])
    assert full.exit_code == 0 and "### Per challenge" in full.output
