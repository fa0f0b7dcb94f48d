"""Sharding a run across processes started by ``torchrun`` (one GPU or CPU slot per rank).

``torchrun --nproc-per-node N -m tgibench evaluate ...`` sets RANK, WORLD_SIZE and
LOCAL_RANK; case i of the benchmark goes to rank i mod N. Each rank appends its rows to its
own part file ``results.rank<r>.jsonl``; when every rank is done, rank 0 merges the parts
into ``results.jsonl`` in benchmark order, so the merged file equals a single-process run.
A gloo process group is used only for barriers and to share rank 0's start-up verdict.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tgibench.fileio import write_text_atomic
from tgibench.rundir import RESULTS_FILE, read_rows

PART_PATTERN = "results.rank*.jsonl"


@dataclass(frozen=True)
class Shard:
    """This process's place in a (possibly) multi-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def owns(self, index: int) -> bool:
        """Whether case number ``index`` (in benchmark order) is this rank's."""
        return index % self.world_size == self.rank

    def device(self, device: str) -> str:
        """``cuda`` becomes ``cuda:<local rank>`` so that each rank uses its own GPU."""
        return f"cuda:{self.local_rank}" if device == "cuda" and self.distributed else device

    def results_path(self, run_dir: Path) -> Path:
        """Where this rank appends rows: results.jsonl alone, else its own part file."""
        return run_dir / (f"results.rank{self.rank}.jsonl" if self.distributed else RESULTS_FILE)


def current_shard() -> Shard:
    """The shard described by torchrun's environment variables (one shard if absent)."""
    return Shard(
        rank=int(os.environ.get("RANK", 0)),
        world_size=int(os.environ.get("WORLD_SIZE", 1)),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
    )


def init(shard: Shard) -> None:
    """Join the process group (gloo: barriers only) when running under torchrun."""
    import torch.distributed as dist  # here: reading the shard imports no torch

    if shard.distributed and not dist.is_initialized():
        dist.init_process_group("gloo", rank=shard.rank, world_size=shard.world_size)


def barrier(shard: Shard) -> None:
    if shard.distributed:
        import torch.distributed as dist

        dist.barrier()


def share_from_main(shard: Shard, value: Any) -> Any:
    """Rank 0's ``value`` on every rank (e.g. an error that must stop all ranks)."""
    if not shard.distributed:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_rows(run_dir: Path) -> list[dict[str, Any]]:
    """Rows of results.jsonl and of every rank's part file (complete rows only)."""
    rows = read_rows(run_dir / RESULTS_FILE)
    for part in sorted(run_dir.glob(PART_PATTERN)):
        rows.extend(read_rows(part))
    return rows


def merge_results(run_dir: Path, case_order: list[str]) -> list[dict[str, Any]]:
    """Write results.jsonl with one row per case in benchmark order; remove part files.

    When a case has several rows (it was retried), the last one written wins. Rows of
    cases outside ``case_order`` keep their relative order at the end. The file is
    replaced atomically and only when its content changes.
    """
    position = {case_id: i for i, case_id in enumerate(case_order)}
    unique: dict[str, dict[str, Any]] = {}
    for row in all_rows(run_dir):
        unique[row["case_id"]] = row
    rows = sorted(unique.values(), key=lambda r: position.get(r["case_id"], len(position)))
    text = "".join(json.dumps(row, allow_nan=False) + "\n" for row in rows)
    target = run_dir / RESULTS_FILE
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        write_text_atomic(target, text)
    for part in run_dir.glob(PART_PATTERN):
        part.unlink()
    return rows
