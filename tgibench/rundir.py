"""A run directory: what it holds, and how its files are read and appended.

Layout: ``run.json`` (config, provenance, metric definitions with their versions),
``results.jsonl`` (one row per case), ``timings.jsonl`` (seconds per case, kept apart so
that results are reproducible byte for byte), ``run_metrics.json`` (FID/FVD over the run),
``videos/<case_id>.mp4``, ``features/`` (what run-level metrics need), and ``.lock``
while a process writes the run.

Both the runner (which writes runs) and the leaderboard (which reads them) use this
module; neither reaches into the other.

results.jsonl rows are appended so that a crash never tears a row: each row is written
with one ``write`` on a file opened for appending and fsynced. A run killed in the middle
of a write can leave at most a partial last line; opening the file for resuming drops it
(and only it) before anything else is written.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
TIMINGS_FILE = "timings.jsonl"
VIDEOS_DIR = "videos"
RUN_METRICS_FILE = "run_metrics.json"


def read_run(run_dir: Path) -> dict[str, Any] | None:
    """The run's run.json, or None if the directory holds no run yet."""
    path = run_dir / RUN_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def video_path(run_dir: Path, case_id: str) -> Path | None:
    """The video a run saved for a case (``videos/<case_id>.*``), or None."""
    found = sorted((run_dir / VIDEOS_DIR).glob(f"{case_id}.*"))
    return found[0] if found else None


def metric_version(info: dict[str, Any]) -> int:
    """The version of a metric as a run recorded it (runs before versions existed: 1)."""
    return int(info.get("version", 1))


def metric_version_changes(
    recorded: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[str]:
    """Human-readable changes of metric versions between a run's run.json and now."""
    return [
        f"metric {name} is version {metric_version(current[name])} now, the run has "
        f"version {metric_version(info)}; re-score its videos into a new run "
        f"(`tgibench score --videos RUN/videos --bench ... --out NEW_RUN`)"
        for name, info in recorded.items()
        if name in current and metric_version(info) != metric_version(current[name])
    ]


def model_option_changes(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Options whose value a resumed run would change: the run's ``model_options`` (its
    model's every option, defaults included) against the same spec's now (a default changed
    since). None for runs written before run.json recorded them."""
    if recorded is None:
        return []
    return [
        f"model option {key}: {recorded[key]!r} in the run, {current.get(key)!r} now"
        for key in recorded
        if recorded[key] != current.get(key)
    ]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Complete rows of a results file (a torn last line is ignored)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # only a torn last line can be incomplete; see repair_tail
    return rows


def failed(row: dict[str, Any]) -> bool:
    """True for a case that failed, or one of whose metrics failed (``--retry-failed``)."""
    return "error" in row or bool(row.get("metric_errors"))


def repair_tail(path: Path) -> int:
    """Truncate a partial last line left by a killed writer; return bytes dropped."""
    if not path.is_file():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    with open(path, "r+b") as handle:
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    return len(data) - keep


class ResultsWriter:
    """Appends rows to a JSON-lines file (results.jsonl, timings.jsonl), one complete line
    per write, fsynced. A write that fails (a full disk) is undone before the error is
    raised: the file never keeps part of a row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        repair_tail(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, row: dict[str, Any]) -> None:
        line = (json.dumps(row, sort_keys=False, allow_nan=False) + "\n").encode()
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, line)
            if written != len(line):  # only on a full disk
                raise OSError(errno.ENOSPC, f"short write ({written} of {len(line)} bytes)")
            os.fsync(self._fd)
        except OSError as exc:
            os.ftruncate(self._fd, size)
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
