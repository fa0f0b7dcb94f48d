"""The paper's numbers (leaderboard/reported.csv) against Table 1 and Table 2 of PAPER.md."""

from __future__ import annotations

import pytest

from tgibench.leaderboard import leaderboard_csv, leaderboard_markdown, load_reported, load_runs
from tgibench.leaderboard.reported import REPORTED_CSV

# Copied from PAPER.md ("Reported results"); columns 65 frames | 81 frames.
TABLE_1 = """
| TRF | 16.06 | .5662 | .5173 | 168.37 | .3379 | 8.117 | 16.08 | .5859 | .5136 | 169.46 | .3324 | 8.074 |
| ViBiDSampler | 15.45 | .5381 | .5211 | 160.74 | .3574 | 8.619 | 15.57 | .5533 | .5142 | 163.09 | .3482 | 8.759 |
| GI | 15.43 | .5473 | .5210 | 224.36 | .3693 | 7.971 | 15.59 | .5666 | .5166 | 219.80 | .3416 | 7.923 |
| FCVG | 16.77 | .5412 | .4412 | 98.02 | .2938 | 9.755 | 17.16 | .5698 | .4216 | 97.01 | .2607 | 9.899 |
| Wan | 16.75 | .5661 | .4172 | 82.42 | .3406 | 9.861 | 17.63 | .6179 | .3945 | 82.90 | .2769 | 9.904 |
| Ours (KAB+ReTRo) | 17.68 | .5903 | .4016 | 77.66 | .2820 | 9.924 | 18.17 | .6269 | .3818 | 77.59 | .2458 | 10.022 |
"""
TABLE_2 = """
| TRF | .2174 | .5720 | .1869 | .9669 | .2089 | .5465 | .1883 | .9647 | 1.60 | 1.53 | 2.10 |
| ViBiDSampler | .2249 | .4982 | .1782 | .9722 | .2186 | .5396 | .1751 | .9733 | 2.05 | 1.82 | 2.38 |
| GI | .2169 | .4901 | .1632 | .9742 | .2082 | .4545 | .1692 | .9735 | 1.70 | 1.55 | 1.89 |
| FCVG | .2256 | .6338 | .0792 | .9831 | .2222 | .6194 | .0613 | .9858 | 2.87 | 2.73 | 2.91 |
| Wan | .2326 | .6631 | .1334 | .9788 | .2262 | .6730 | .0959 | .9839 | 3.50 | 3.69 | 3.65 |
| Ours (KAB+ReTRo) | .2340 | .6692 | .1047 | .9855 | .2292 | .6752 | .0774 | .9881 | 4.38 | 4.27 | 4.34 |
"""
T1_METRICS = ["psnr", "ssim", "lpips", "fid", "fvd", "vbench"]
T2_METRICS = ["xclip_score", "vqa_score", "lpips_frames", "clipsim_frames"]
USER_STUDY = ["user_fc", "user_sf", "user_ps"]
MODEL = {"Ours (KAB+ReTRo)": "TGI (KAB+ReTRo)"}


def _paper() -> dict[tuple[str, int, str], str]:
    """(model, num_frames, metric) → the value as PAPER.md prints it."""
    values = {}
    for table, metrics, extra in ((TABLE_1, T1_METRICS, []), (TABLE_2, T2_METRICS, USER_STUDY)):
        for line in table.strip().splitlines():
            name, *cells = (c.strip() for c in line.strip("|").split("|"))
            model = MODEL.get(name, name)
            columns = [(n, m) for n in (65, 81) for m in metrics] + [(81, m) for m in extra]
            assert len(columns) == len(cells)
            for (n, metric), cell in zip(columns, cells, strict=True):
                values[(model, n, metric)] = cell
    return values


def test_reported_csv_reproduces_paper_tables_exactly():
    reported = load_reported()
    paper = _paper()
    assert len(reported) == len(paper) == 138
    for row in reported.itertuples():
        cell = paper[(row.model, row.num_frames, row.metric)]
        assert row.value == float(cell), (row.model, row.metric)
        assert row.text.lstrip("0") == cell.lstrip("0"), "digits as printed in the paper"
    assert set(reported["origin"]) == {"reported"}
    directions = dict(zip(reported["metric"], reported["direction"], strict=False))
    assert directions["fid"] == directions["lpips_frames"] == "lower"
    assert directions["clipsim_frames"] == directions["user_ps"] == "higher"
    names = dict(zip(reported["metric"], reported["paper_metric"], strict=False))
    assert names["lpips_frames"] == "LPIPS-frames" and names["xclip_score"] == "X-CLIP"


def _runs(tmp_path):
    from test_leaderboard import _row, _write_run

    run = _write_run(tmp_path / "a", "flow", [_row("x-25", "occlusion", 25, 20.0, 0.2)])
    return load_runs([run])


def test_reported_tables_print_paper_digits_apart_from_measured(tmp_path):
    text = leaderboard_markdown(_runs(tmp_path), load_reported())
    measured, reported = text.split("### Reported: paper Table 1", 1)
    assert "TRF" not in measured and "| flow |" not in reported
    assert (
        "| TGI (KAB+ReTRo) | 17.68 | 0.5903 | 0.4016 | 77.66 | 0.2820 | "
        "9.924 | 18.17 | 0.6269 | 0.3818 | 77.59 | 0.2458 | 10.022 |"
    ) in reported  # no best marks: the paper's differences cannot be tested
    assert "**" not in reported and "No best marks" in reported
    assert "| GI | 15.43 | 0.5473 | 0.5210 | 224.36 |" in reported  # trailing zeros kept
    assert "| FCVG | 0.2256 | 0.6338 | 0.0792 |" in reported
    assert "LPIPS-frames ↓ (65 fr.)" in reported
    assert "### Reported: paper Table 2, user study" in reported
    assert "in/out" not in reported  # no run of a reported method here


def test_reported_cells_say_whether_the_paper_lies_in_a_runs_interval(tmp_path):
    """A run of `tgi` (the paper's method) at 65 frames: PSNR 17.68 is inside its interval,
    LPIPS 0.4016 is not; a `tgi:kab=off` ablation is another method."""
    from test_leaderboard import _row, _write_run

    rows = [_row(f"c{k}-65", "occlusion", 65, 16.0 + k, 0.2 + 0.01 * k) for k in range(6)]
    run = _write_run(tmp_path / "tgi", "tgi", rows)
    ablation = _write_run(tmp_path / "ablation", "tgi:kab=off", rows)
    text = leaderboard_markdown(load_runs([run, ablation]), load_reported())
    reported = text.split("### Reported: paper Table 1", 1)[1]
    line = next(x for x in reported.splitlines() if x.startswith("| TGI (KAB+ReTRo) |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1].startswith("17.68 in tgi [") and cells[3].startswith("0.4016 out tgi [")
    assert cells[2] == "0.5903" and cells[7] == "18.17"  # no ssim measured; no 81-frame run
    assert "in/out [lo, hi]: the paper's value lies inside/outside" in reported
    assert "| Wan | 16.75 |" in reported


def test_csv_labels_origin(tmp_path):
    lines = leaderboard_csv(_runs(tmp_path), load_reported()).splitlines()
    assert lines[0] == (
        "origin,source,grouping,group,model,metric,paper_metric,value,value_lo,value_hi,"
        "seed_sd,cases,failed,runs,resamples,seed"
    )
    assert "measured,runs,overall,all,flow,psnr,,20,,,,1,0,1,2000,0" in lines  # one case
    assert "reported,paper Table 1,length,65,GI,fid,FID,224.36,,,,,,,," in lines
    assert sum(line.startswith("reported,") for line in lines) == 138


def test_malformed_reported_csv_is_refused(tmp_path):
    bad = tmp_path / "reported.csv"
    bad.write_text(REPORTED_CSV.read_text().replace(",lower,", ",down,", 1))
    with pytest.raises(ValueError, match="direction must be higher or lower, not down"):
        load_reported(bad)
    bad.write_text("model,value\nTRF,1\n")
    with pytest.raises(ValueError, match="missing column"):
        load_reported(bad)
    with pytest.raises(ValueError, match="not found"):
        load_reported(tmp_path / "nope.csv")
