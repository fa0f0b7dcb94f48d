"""results.jsonl: one JSON object per case, appended so that a crash never tears a row.

Each row is written with one ``write`` on a file opened for appending and fsynced. A run
killed in the middle of a write can leave at most a partial last line; opening the file
for resuming drops it (and only it) before anything else is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULTS_FILE = "results.jsonl"


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
    """Appends rows to results.jsonl, one complete line per write, fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        repair_tail(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, row: dict[str, Any]) -> None:
        line = (json.dumps(row, sort_keys=False, allow_nan=False) + "\n").encode()
        written = os.write(self._fd, line)
        if written != len(line):  # pragma: no cover - only on a full disk
            raise OSError(f"{self.path}: short write ({written} of {len(line)} bytes)")
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
