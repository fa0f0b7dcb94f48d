"""Confidence in the leaderboard's tables: top groups follow significance, repeats (seeds)
make one row, intervals are reproducible and independent of the order runs are given."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_leaderboard import _write_run

from tgibench.leaderboard import aggregate, leaderboard_csv, leaderboard_markdown, load_runs
from tgibench.leaderboard.summary import summaries

METRICS = {"psnr": {"pillar": "reconstruction", "higher_is_better": True}}


def _runs(tmp_path, psnr_by_model, seeds=None):
    """One run per model (or per (model, seed)) on len(values) cases of one challenge."""
    dirs = []
    for name, values in psnr_by_model.items():
        model = name.split("@")[0]
        rows = [
            {"case_id": f"c{k:02d}-25", "folder": f"c{k:02d}", "challenge": "occlusion"}
            | {"num_frames": 25, "psnr": float(v)}
            for k, v in enumerate(values)
        ]
        path = _write_run(tmp_path / name.replace(":", "-"), model, rows, metrics=METRICS)
        if seeds:
            record = json.loads((path / "run.json").read_text())
            (path / "run.json").write_text(json.dumps({**record, "seed": seeds[name]}))
        dirs.append(path)
    return dirs


def test_a_model_better_on_every_case_is_alone_in_bold(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.normal(20, 3, size=12)
    runs = load_runs(_runs(tmp_path, {"a": base + 2, "b": base, "c": base - 1}))
    text = leaderboard_markdown(runs)
    overall = text.split("### Coverage")[0]
    assert overall.count("**") == 2 and "| a | 12 | 0 | **22." in overall
    summary = summaries(runs)["all"]
    assert summary.top[:, 0].tolist() == [True, False, False]


def test_models_within_noise_share_the_top_group(tmp_path):
    rng = np.random.default_rng(1)
    base = rng.normal(20, 3, size=12)
    noise = rng.normal(0, 1, size=(2, 12))
    runs = load_runs(_runs(tmp_path, {"a": base + noise[0], "b": base + noise[1], "c": base - 3}))
    summary = summaries(runs)["all"]
    assert summary.top[:, 0].tolist() == [True, True, False]  # a and b tied, c behind
    assert summary.rank_top[:, 0].tolist() == [True, True, False]


def test_seed_repeats_make_one_row_with_their_spread(tmp_path):
    rng = np.random.default_rng(2)
    base = rng.normal(20, 3, size=10)
    values = {"flow@0": base + 1, "flow@1": base + 1.5, "flow@2": base + 2, "hold": base}
    dirs = _runs(tmp_path, values, seeds={"flow@0": 0, "flow@1": 1, "flow@2": 2, "hold": 0})
    runs = load_runs(dirs)
    table = aggregate(runs)
    assert list(table.index) == ["flow", "hold"] and table.loc["flow", "runs"] == 3
    assert table.loc["flow", "psnr"] == pytest.approx(base.mean() + 1.5)
    assert table.loc["flow", "psnr_seed_sd"] == pytest.approx(0.5)  # sd of +1, +1.5, +2
    assert np.isnan(table.loc["hold", "psnr_seed_sd"])
    text = leaderboard_markdown(runs)
    assert "s±0.5000 |" in text
    assert "flow: 3 runs (seeds 0, 1, 2) averaged per case" in text


def test_tables_are_reproducible_and_ignore_the_order_of_runs(tmp_path):
    rng = np.random.default_rng(3)
    dirs = _runs(tmp_path, {m: rng.normal(20, 3, size=15) for m in ("a", "b", "c")})
    first = leaderboard_csv(load_runs(dirs))
    assert leaderboard_csv(load_runs(dirs)) == first
    assert leaderboard_csv(load_runs(dirs[::-1])) == first
    header, row = first.splitlines()[0].split(","), first.splitlines()[1].split(",")
    found = dict(zip(header, row, strict=True))
    assert float(found["value_lo"]) < float(found["value"]) < float(found["value_hi"])
    assert (found["resamples"], found["seed"]) == ("2000", "0")
