"""Aggregation and formatting of leaderboards from run directories."""

from __future__ import annotations

import json

import pytest

from tgibench.leaderboard import LeaderboardError, aggregate, leaderboard_markdown, load_runs


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


def test_means_exclude_and_count_failed_cases(two_runs):
    runs = load_runs(two_runs)
    overall = aggregate(runs)
    assert overall.loc["flow", "psnr"] == 15.0 and overall.loc["flow", "cases"] == 2
    assert overall.loc["flow", "failed"] == 1 and overall.loc["hold", "failed"] == 0
    assert overall.loc["hold", "psnr"] == 14.0
    per_challenge = aggregate(runs, "challenge")
    assert per_challenge.loc[("occlusion", "flow"), "psnr"] == 10.0
    assert per_challenge.loc[("occlusion", "hold"), "psnr"] == 15.0
    per_length = aggregate(runs, "length")
    assert per_length.loc[(33, "hold"), "psnr"] == 16.0


def test_markdown_marks_best_direction_and_unavailable(two_runs):
    text = leaderboard_markdown(load_runs(two_runs))
    assert "| model | cases | failed | psnr ↑ | lpips ↓ |" in text
    assert "| flow | 2 | 1 | **15.00** | 0.3000 |" in text
    assert "| hold | 3 | 0 | 14.00 | — |" in text
    assert "lpips: unavailable: weights unavailable: LPIPS" in text
    assert "| occlusion | hold | 2 | 0 | **15.00** | — |" in text


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
