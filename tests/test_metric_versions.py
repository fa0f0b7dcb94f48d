"""Versioned metrics: runs record each metric's version, the leaderboard never puts two
versions in one column unless asked, a run scored with an older version is not resumed,
and the failed cases of a run are scored again with --retry-failed."""

from __future__ import annotations

import json

import pytest

from tgibench.eval.config import EvalConfig
from tgibench.eval.resume import RunError
from tgibench.eval.runner import evaluate
from tgibench.leaderboard import LeaderboardError, leaderboard_markdown, load_runs
from tgibench.metrics.registry import METRICS, register_metric
from tgibench.rundir import RESULTS_FILE, RUN_FILE, read_rows


def _config(root, out, model, **kw) -> EvalConfig:
    return EvalConfig(model=model, bench=str(root), out=out, lengths=(25,), **kw)


def _rewrite_version(run_dir, metric: str, version: int) -> None:
    record = json.loads((run_dir / RUN_FILE).read_text())
    record["metrics"][metric]["version"] = version
    (run_dir / RUN_FILE).write_text(json.dumps(record))


def test_runs_record_versions_and_the_leaderboard_refuses_mixed_ones(tgi_root, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for out, model in ((old, "hold"), (new, "crossfade")):
        evaluate(_config(tgi_root, out, model, metrics=("psnr", "pace_stability")), progress=False)
    record = json.loads((new / RUN_FILE).read_text())
    assert record["metrics"]["pace_stability"]["version"] == 4
    assert record["metrics"]["psnr"]["version"] == 1
    _rewrite_version(old, "pace_stability", 1)  # as a run scored before pace v2 to v4
    with pytest.raises(LeaderboardError) as refused:
        load_runs([old, new])
    message = str(refused.value)
    assert "pace_stability" in message and str(old) in message and "tgibench score" in message
    assert str(new) not in message.split("older in", 1)[1].split(";")[0]
    mixed = load_runs([old, new], allow_mixed=True)
    assert mixed.metrics["pace_stability"]["mixed_versions"] == [1, 4]
    assert "mixed_versions" not in mixed.metrics["psnr"]
    text = leaderboard_markdown(mixed)
    assert "pace_stability: runs scored with versions 1, 4 (--allow-mixed)" in text


def test_a_run_of_an_older_version_is_not_resumed(tgi_root, tmp_path):
    config = _config(tgi_root, tmp_path / "run", "hold", metrics=("pace_stability",))
    evaluate(config, progress=False)
    _rewrite_version(config.out, "pace_stability", 1)
    with pytest.raises(RunError, match="pace_stability is version 4 now, the run has version 1"):
        evaluate(config, progress=False)


def test_retry_failed_scores_failed_cases_again_and_replaces_their_rows(tgi_root, tmp_path):
    calls: list[int] = []

    @register_metric(
        "flaky_once",
        pillar="consistency",
        higher_is_better=True,
        value_range=(0.0, 1.0),
        default=False,
    )
    def _flaky(store) -> float:
        """Fails on the first two videos it sees, then works (a metric bug, since fixed)."""
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError("could not infer output dtype")
        return 0.5

    try:
        config = _config(tgi_root, tmp_path / "run", "hold", metrics=("psnr", "flaky_once"))
        first = evaluate(config, progress=False)
        assert len(first.metric_errors) == 2 and not first.failed
        assert {name for _, name, _ in first.metric_errors} == {"flaky_once"}
        rows = read_rows(config.out / RESULTS_FILE)
        assert sum("metric_errors" in r for r in rows) == 2
        assert all(r["psnr"] is not None for r in rows)  # the other metric kept its values
        again = evaluate(config, progress=False)  # a plain resume skips every case
        assert again.scored == 0 and again.skipped == first.total
        retried = evaluate(
            _config(
                tgi_root,
                tmp_path / "run",
                "hold",
                metrics=("psnr", "flaky_once"),
                retry_failed=True,
            ),
            progress=False,
        )
        assert retried.scored == 2 and retried.ok
        rows = read_rows(config.out / RESULTS_FILE)
        assert len(rows) == first.total  # one row per case: the new rows replaced the old
        assert all(r["flaky_once"] == 0.5 and "metric_errors" not in r for r in rows)
    finally:
        METRICS._entries.pop("flaky_once")
        METRICS._sources.pop("flaky_once")
