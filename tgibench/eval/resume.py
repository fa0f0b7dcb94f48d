"""Writing a run directory: its lock, and the rule for resuming it (the layout and the
file formats are in :mod:`tgibench.rundir`)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tgibench.eval.config import EvalConfig
from tgibench.fileio import remove_orphaned_temporaries, write_json_atomic
from tgibench.rundir import RUN_FILE, metric_version_changes, model_option_changes, read_run


class RunError(RuntimeError):
    """A run directory cannot be used (locked by another run, or a different config)."""


@contextmanager
def locked(run_dir: Path, rank: int = 0) -> Iterator[None]:
    """Hold an exclusive lock on ``run_dir`` (released even if the process is killed).

    Rank 0 (a single-process run) holds ``.lock``; other ranks of a sharded run their own.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(
        run_dir / (".lock" if rank == 0 else f".lock.rank{rank}"), os.O_RDWR | os.O_CREAT, 0o644
    )
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise RunError(
                f"{run_dir} is being written by another run (pid {holder}); wait for it or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def start_or_resume(run_dir: Path, config: EvalConfig, record: dict[str, Any]) -> bool:
    """Write run.json for a new run, or check that ``config`` may resume the existing one.

    Returns True when resuming. Refuses (RunError) a different config or benchmark,
    saying what differs. A resume removes the temporary files that a killed run left.
    """
    previous = read_run(run_dir)
    if previous is None:
        write_json_atomic(run_dir / RUN_FILE, record)
        return False
    differences = config.differences(EvalConfig.from_json(previous["config"]))
    old_data = previous.get("benchmark", {}).get("fingerprint")
    if old_data != record["benchmark"]["fingerprint"]:
        differences.append("benchmark data: the files or cases changed since the run started")
    differences += metric_version_changes(previous.get("metrics", {}), record["metrics"])
    differences += model_option_changes(previous.get("model_options"), record["model_options"])
    if differences:
        raise RunError(
            f"cannot resume {run_dir}: "
            + "; ".join(differences)
            + ". Use another --out for a new run."
        )
    remove_orphaned_temporaries(run_dir)
    if config.name is not None:  # a new label for the same run
        previous["config"]["name"] = config.name
    previous.setdefault("resumed", []).append(record["created"])
    write_json_atomic(run_dir / RUN_FILE, previous)
    return True
