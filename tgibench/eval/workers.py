"""Cases generated and scored in worker processes (``tgibench evaluate --workers N``).

Scoring a case is mostly single-threaded work between multi-threaded passes (decoding
frames, optical flow's bookkeeping, writing the video), so one process leaves cores idle;
N worker processes score N cases at once. Each worker takes the parent's environment
variables, imports the plugin files the parent included, builds the model, the metric
list and the backbones once, then generates and scores the cases it is sent, one at a
time, with :func:`tgibench.eval.runner.run_case`, exactly as a single process does.

Workers are forked from a server process (multiprocessing's ``forkserver``) that has
imported torch, OpenCV and the scoring code and run nothing: a fork is then safe (no
OpenMP pool to inherit; forking a process that has used one hangs the child's first
multi-threaded op) and ready in a fraction of a second, against the 1.5 s of importing
torch in a fresh process. ``tgibench evaluate`` starts that server first thing
(:func:`start_worker_server`), so its imports overlap the parent's own. Where there is no
forkserver (Windows), workers are fresh processes (``spawn``), as they were before.

A case is computed by the same code, with the same seed, whichever process computes it.
The parent's torch threads are shared out among the workers (:func:`threads_per_worker`:
2 workers on 2 cores run 1 thread each).
That is what makes workers pay: with each worker running the parent's 2 threads, 14
mini-bench cases took 19.5 s against 15.6 s (idle 2-core machine, docs/performance.md). The
thread count changes values only in their last float32 bits (a reduction's order):
tests/test_runner.py compares one process with 2 threads and 2 workers with 1 each (videos
byte for byte, values within 1e-6; lpips_frames moved by 7e-8 relative).

The parent alone writes ``results.jsonl``, in benchmark order (:meth:`CaseWorkers.results`
yields rows in the order of the cases, whatever order they finish in), so resume and crash
safety are those of a single process: a row is on disk, complete, or not at all. A worker
exits as soon as its parent is gone (even after SIGKILL), and the parent stops the workers
when the run ends or stops early (``--fail-fast``, an error, Ctrl-C).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import forkserver
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # this module imports no torch: the CLI starts the server before it does
    from tgibench.data import Case
    from tgibench.eval.config import EvalConfig

#: What the server that workers are forked from imports once (and no more: a module that
#: reads environment variables when imported, e.g. huggingface_hub, would keep the
#: server's values, while each worker takes the parent's environment of its own time).
SERVER_PRELOAD = ("torch", "cv2", "av", "tgibench.eval.runner")
#: Seconds a worker told to stop (SIGTERM) has to leave before it is killed.
STOP_GRACE_SECONDS = 10.0


def default_workers(device: str) -> int:
    """The number of worker processes ``tgibench evaluate`` uses when not told: one per
    core available to this process, at most 2 (beyond that each worker's torch threads
    compete for the same cores), and 1 on a GPU (one model per device; shard across GPUs
    with torchrun instead, docs/reliability.md)."""
    if device != "cpu":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def _context() -> multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext:
    """Where workers come from: a fork of the preloaded server, or a fresh process."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def start_worker_server() -> None:
    """Start the server that workers are forked from (see the module docstring), if this
    platform has one and it is not running yet; it imports in the background while this
    process goes on. Call it after the environment is settled (``--offline``)."""
    context = _context()
    if isinstance(context, multiprocessing.context.ForkServerContext):
        context.set_forkserver_preload(list(SERVER_PRELOAD))
        forkserver.ensure_running()


def threads_per_worker(workers: int) -> int:
    """The torch threads of each of ``workers`` processes: this process's threads shared
    out among them, at least 1 (more threads than cores make every one of them wait)."""
    import torch

    return max(1, torch.get_num_threads() // workers)


class WorkerError(RuntimeError):
    """A worker process could not start, or died while it was generating or scoring a case."""


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to work as the parent would: the run's config, the plugin files
    the parent included (``--include``), its number of torch threads, and the parent's
    environment variables (the server it is forked from has those of its own start)."""

    config: EvalConfig
    plugin_files: tuple[Path, ...]
    torch_threads: int
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    case: int | None = None  # index of the case it is working on


def _stop(signum: int, frame: object) -> None:
    """SIGTERM: leave through SystemExit, so that a file being written is cleaned up
    (``tgibench.fileio.atomic_path`` removes its temporary file)."""
    raise SystemExit(1)


def _exit_with_parent() -> None:
    """End this process when the parent is gone (a SIGKILLed parent cannot stop us)."""
    parent = multiprocessing.parent_process()
    assert parent is not None, "a worker runs in a child process"

    def watch() -> None:
        parent.join()  # returns when the parent has exited
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(STOP_GRACE_SECONDS)  # stuck in a long computation: no more waiting
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve(conn: Connection, setup: WorkerSetup) -> None:
    """A worker's life: set up once, then (index, case) in, (index, row, timings) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, _stop)
    _exit_with_parent()
    os.environ.clear()
    os.environ.update(setup.environ)
    try:
        import torch

        from tgibench.eval.runner import run_case
        from tgibench.features.backbones import Backbones
        from tgibench.metrics.registry import select_metrics
        from tgibench.models import build_model
        from tgibench.plugins import include

        torch.set_num_threads(setup.torch_threads)
        include(setup.plugin_files)
        config = setup.config
        model = build_model(config.model)
        metrics = select_metrics(config.metrics)
        backbones = Backbones(config.device, config.backbone_options)
    except Exception as exc:  # reported by the parent, which raises it
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent closed the pipe
            return
        if message is None:
            return
        index, case = message
        timings: dict[str, float] = {}
        try:
            row = run_case(case, model, metrics, backbones, config, timings)
        except OSError as exc:  # only a full disk escapes run_case: the parent stops
            conn.send(("disk full", exc.errno, str(exc)))
            return
        conn.send((index, row, timings))


class CaseWorkers:
    """``count`` worker processes that generate and score cases (see the module docstring).

    Use as a context manager: leaving it stops every worker, finished or not.
    ``startup_seconds`` holds, for each worker ready so far, the seconds from its start to
    ready (Python, imports, model, metric list).
    """

    def __init__(self, setup: WorkerSetup, count: int) -> None:
        if count < 1:
            raise ValueError(f"workers must be >= 1, got {count}")
        start_worker_server()
        context = _context()
        self._started = time.perf_counter()
        self.startup_seconds: list[float] = []
        self._workers: list[_Worker] = []
        for _ in range(count):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_serve, args=(child_end, setup), name="tgibench-worker", daemon=True
            )
            process.start()
            child_end.close()
            self._workers.append(_Worker(process, parent_end))

    def results(self, cases: Sequence[Case]) -> Iterator[tuple[dict[str, Any], dict[str, float]]]:
        """(row, timings) of each case, in the order of ``cases``, as workers finish them.

        Raises :class:`WorkerError` when a worker cannot start (e.g. a model it cannot
        build) or dies (e.g. killed for memory) while working on a case.
        """
        todo = iter(enumerate(cases))
        finished: dict[int, tuple[dict[str, Any], dict[str, float]]] = {}
        next_index = 0
        while next_index < len(cases):
            ready = wait(
                [w.conn for w in self._workers] + [w.process.sentinel for w in self._workers]
            )
            for worker in self._workers:
                if worker.conn.poll():  # a message, or the end of a dead worker's pipe
                    try:
                        message = worker.conn.recv()
                    except EOFError:
                        raise self._died(worker, cases) from None
                    self._receive(worker, message, finished)
                    self._give_next(worker, todo)
                elif worker.process.sentinel in ready:
                    raise self._died(worker, cases)
            while next_index in finished:
                yield finished.pop(next_index)
                next_index += 1

    def _receive(
        self,
        worker: _Worker,
        message: tuple[Any, ...],
        finished: dict[int, tuple[dict[str, Any], dict[str, float]]],
    ) -> None:
        if message[0] == "failed":
            raise WorkerError(f"a worker process could not start: {message[1]}")
        if message[0] == "disk full":
            raise OSError(message[1], message[2])
        if message[0] == "ready":
            worker.ready = True
            self.startup_seconds.append(time.perf_counter() - self._started)
        else:
            index, row, timings = message
            finished[index] = (row, timings)
            worker.case = None

    def _give_next(self, worker: _Worker, todo: Iterator[tuple[int, Case]]) -> None:
        item = next(todo, None)
        if item is not None:
            worker.case = item[0]
            worker.conn.send(item)

    def _died(self, worker: _Worker, cases: Sequence[Case]) -> WorkerError:
        code = worker.process.exitcode
        doing = (
            f"while generating or scoring case {cases[worker.case].case_id}"
            if worker.case is not None
            else "before it was ready"
        )
        return WorkerError(
            f"a worker process died (exit code {code}) {doing}: out of memory? The rows "
            "written so far are kept; run the same command again to resume (with "
            "--workers 1 to see the error of that case)"
        )

    def close(self) -> None:
        """Stop every worker: idle ones are told to; busy or starting ones get SIGTERM
        (they leave without a half-written file), then SIGKILL if still there."""
        for worker in self._workers:
            if not worker.process.is_alive():
                continue
            if worker.ready and worker.case is None:
                try:
                    worker.conn.send(None)
                except OSError:
                    worker.process.terminate()
            else:
                worker.process.terminate()
        for worker in self._workers:
            worker.process.join(timeout=STOP_GRACE_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()

    def __enter__(self) -> CaseWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
