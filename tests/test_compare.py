"""`tgibench compare` and tgibench.leaderboard.paired.compare: paired comparison of runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from test_leaderboard import _write_run
from typer.testing import CliRunner

from tgibench.cli import app
from tgibench.leaderboard import LeaderboardError
from tgibench.leaderboard.paired import COMPARE_COLUMNS, compare

METRICS = {
    "psnr": {"pillar": "reconstruction", "higher_is_better": True},
    "lpips": {"pillar": "reconstruction", "higher_is_better": False},
    "fid": {"pillar": "distribution", "higher_is_better": False, "run_level": True},
}


def _run(tmp_path, name, model, psnr, lpips, seed=0, skip=()):
    rows = [
        {"case_id": f"c{k:02d}-{25 if k % 2 else 33}", "folder": f"c{k:02d}"}
        | {"challenge": "occlusion" if k < 10 else "near-static", "num_frames": 25 if k % 2 else 33}
        | {"psnr": float(p), "lpips": float(q)}
        for k, (p, q) in enumerate(zip(psnr, lpips, strict=True))
        if k not in skip
    ]
    path = _write_run(tmp_path / name, model, rows, metrics=METRICS)
    record = json.loads((path / "run.json").read_text())
    (path / "run.json").write_text(json.dumps({**record, "seed": seed}))
    return path


@pytest.fixture
def pair(tmp_path):
    """A better on psnr on every one of 20 cases; lpips equal up to noise."""
    rng = np.random.default_rng(0)
    psnr, lpips = rng.normal(20, 3, 20), rng.uniform(0.1, 0.5, 20)
    a = _run(
        tmp_path, "a", "flow", psnr + 1 + rng.uniform(0, 0.5, 20), lpips + rng.normal(0, 0.02, 20)
    )
    b = _run(tmp_path, "b", "crossfade", psnr, lpips, skip=(19,))
    return a, b


def test_compare_reads_direction_and_ties(pair):
    a, b = pair
    table = compare([a], [b])
    assert list(table.columns) == list(COMPARE_COLUMNS)
    rows = table.set_index("metric")
    assert list(rows.index) == ["psnr", "lpips"]  # fid is run-level: not per case
    assert rows.loc["psnr", "n"] == 19 and table.attrs["only_a"] == 1 and table.attrs["only_b"] == 0
    assert rows.loc["psnr", "verdict"] == "a" and rows.loc["psnr", "p"] < 0.001
    assert rows.loc["psnr", "diff"] == pytest.approx(
        rows.loc["psnr", "mean_a"] - rows.loc["psnr", "mean_b"]
    )
    assert (
        1.0
        < rows.loc["psnr", "diff_lo"]
        < rows.loc["psnr", "diff"]
        < rows.loc["psnr", "diff_hi"]
        < 1.5
    )
    assert rows.loc["lpips", "verdict"] == "tied" and rows.loc["lpips", "p"] > 0.05
    flipped = compare([b], [a]).set_index("metric")
    assert flipped.loc["psnr", "verdict"] == "b" and flipped.loc["psnr", "diff"] < 0
    assert table.attrs["model_a"] == "flow" and table.attrs["resamples"] == 2000


def test_a_run_against_a_copy_of_itself_is_tied_with_diff_zero(pair, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(pair[0], copy)
    table = compare([pair[0]], [copy])
    assert (table["diff"] == 0).all() and (table["diff_lo"] == 0).all()
    assert (table["diff_hi"] == 0).all() and (table["p"] == 1).all()
    assert set(table["verdict"]) == {"tied"}
    with pytest.raises(LeaderboardError, match="on both sides"):
        compare([pair[0]], [pair[0]])


def test_compare_by_group_and_seed_repeats(pair, tmp_path):
    a, b = pair
    rng = np.random.default_rng(1)
    other_seed = _run(
        tmp_path, "a1", "flow", rng.normal(21, 3, 20), rng.uniform(0.1, 0.5, 20), seed=1
    )
    by_length = compare([a, other_seed], [b], by="length", metrics=["psnr"])
    assert list(by_length.columns) == ["group", *COMPARE_COLUMNS]
    assert list(by_length["group"]) == [25, 33] and list(by_length["n"]) == [9, 10]
    assert by_length.attrs["runs_a"] == [str(a), str(other_seed)]
    single = compare([a], [b], by="length", metrics=["psnr"])
    assert not np.allclose(single["mean_a"], by_length["mean_a"])  # the repeats are averaged
    hold = _run(tmp_path, "h", "hold", rng.normal(20, 3, 20), rng.uniform(0.1, 0.5, 20))
    with pytest.raises(LeaderboardError, match="side a mixes models"):
        compare([a, hold], [b])
    with pytest.raises(LeaderboardError, match="cannot compare fid"):
        compare([a], [b], metrics=["fid"])
    with pytest.raises(LeaderboardError, match="challenge or length"):
        compare([a], [b], by="model")


def test_cli_prints_json_lines_with_exact_keys_and_a_table(pair):
    a, b = pair
    runner = CliRunner()
    result = runner.invoke(
        app, ["compare", str(a), str(b), "--format", "json", "--by", "challenge"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and all(list(line) == ["group", *COMPARE_COLUMNS] for line in lines)
    assert "1 only in a, 0 only in b" in result.stderr
    result = runner.invoke(app, ["compare", str(a), f"{b}", "--metrics", "psnr"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"a: flow ({a})\nb: crossfade ({b})\nmetric")
    assert "psnr" in result.stdout and "(2000 resamples, seed 0)" in result.stdout
    result = runner.invoke(app, ["compare", str(a), str(b), "--format", "csv"])
    assert result.exit_code == 2 and "table, json" in result.output
