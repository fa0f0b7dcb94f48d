"""The evaluation runner: cases → model → video → features → metrics → results.jsonl.

Runs resume by design: a case that has a row is skipped, so re-running the same command
after a crash finishes the run without writing any row twice.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tgibench import __version__
from tgibench.data import Case, load_benchmark
from tgibench.data.manifest import benchmark_fingerprint
from tgibench.eval.config import EvalConfig
from tgibench.eval.distributed import (
    Shard,
    all_rows,
    barrier,
    current_shard,
    init,
    merge_results,
    share_from_main,
)
from tgibench.eval.provenance import environment, now
from tgibench.eval.resume import RunError, locked, start_or_resume
from tgibench.eval.run_metrics import finalize_run_metrics, save_case_features
from tgibench.eval.scoring import score_video
from tgibench.eval.timings import timed
from tgibench.eval.workers import CaseWorkers, WorkerSetup, threads_per_worker
from tgibench.features.backbones import Backbones
from tgibench.features.store import ScoringInputs
from tgibench.fileio import is_disk_full
from tgibench.metrics.registry import MetricDef, select_metrics
from tgibench.models import (
    BatchGenerator,
    CaseContext,
    GenerationStopped,
    InbetweeningModel,
    build_model,
    canonical_spec,
    resolved_options,
)
from tgibench.plugins import included_files
from tgibench.rundir import TIMINGS_FILE, VIDEOS_DIR, ResultsWriter, failed
from tgibench.video import VideoError, check_video, to_float, to_uint8, write_video

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What a call to :func:`evaluate` did.

    ``profile``: seconds per stage (see :func:`evaluate`); ``workers``: the number of
    processes that generated and scored the cases. ``left``: cases a batch program did not
    reach before it stopped (``stopped`` says why); they are not failures.
    """

    run_dir: Path
    total: int
    skipped: int = 0
    scored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    metric_errors: list[tuple[str, str, str]] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    run_metrics: dict[str, Any] = field(default_factory=dict)
    stopped_early: bool = False
    left: int = 0
    stopped: str = ""
    workers: int = 1
    profile: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.metric_errors and not self.left


def _generate(
    model: InbetweeningModel, case: Case, first: torch.Tensor, last: torch.Tensor, seed: int
) -> torch.Tensor:
    """Call the model with the seed and the case's context (id, folder, challenge, texts)."""
    torch.manual_seed(seed)
    context = CaseContext.from_case(case)
    with torch.inference_mode():
        return model.generate(
            first, last, case.caption, case.num_frames, seed=seed, context=context
        )


def conform(
    video: torch.Tensor, case: Case, size: tuple[int, int], row: dict[str, Any]
) -> torch.Tensor:
    """Check a generated video, resize it to the ground truth's size and quantize to uint8.

    A wrong frame count is an error; a different resolution is resized (bilinear,
    antialiased) with a warning and recorded in the row as ``resized_from``. The result is
    uint8 (T, 3, H, W): what a saved file holds, at a quarter of float32's memory.
    """
    video = check_video(video.detach().cpu(), name=f"case {case.case_id}: model output")
    if video.shape[0] != case.num_frames:
        raise VideoError(
            f"case {case.case_id}: model returned {video.shape[0]} frames, {case.num_frames} expected"
        )
    if tuple(video.shape[-2:]) != size:
        row["resized_from"] = list(video.shape[-2:])
        log.warning(
            "case %s: resizing %s output to %s", case.case_id, tuple(video.shape[-2:]), size
        )
        video = F.interpolate(
            to_float(video), size=size, mode="bilinear", antialias=True, align_corners=False
        )
    return to_uint8(video)


def run_case(
    case: Case,
    model: InbetweeningModel,
    metrics: list[MetricDef],
    backbones: Backbones,
    config: EvalConfig,
    timings: dict[str, float],
    made: torch.Tensor | Exception | None = None,
) -> dict[str, Any]:
    """Generate and score one case; failures become the row's ``error``, never an exception.

    ``made``: the case's video (or the error that stands for it) when a batch generator
    made it already; None to call the model. ``timings`` receives the seconds of each stage: ``load`` (the ground truth), ``generate``,
    ``conform``, ``save_video``, ``score`` and, within it, ``score:<metric>`` per metric
    (with the shared features it is the first to read).
    """
    row: dict[str, Any] = {
        "case_id": case.case_id,
        "folder": case.folder,
        "challenge": case.challenge,
        "num_frames": case.num_frames,
        "model": model.spec,
    }
    try:
        with timed(timings, "load"):
            target = case.load_frames(torch.uint8)
        assert target is not None
        first, last = to_float(target[0]), to_float(target[-1])
        with timed(timings, "generate"):
            if isinstance(made, Exception):
                raise made
            video = _generate(model, case, first, last, config.seed) if made is None else made
        with timed(timings, "conform"):
            video = conform(video, case, (target.shape[-2], target.shape[-1]), row)
        if config.save_videos:
            with timed(timings, "save_video"):
                write_video(config.out / VIDEOS_DIR / f"{case.case_id}.mp4", video)
        inputs = ScoringInputs(
            video=video,
            target=target,
            first=first,
            last=last,
            caption=case.caption,
            first_desc=case.first_desc,
            last_desc=case.last_desc,
        )
        with timed(timings, "score"):
            scores = score_video(inputs, metrics, backbones, timings)
        for name, arrays in scores.run_features.items():
            save_case_features(config.out, name, case.case_id, arrays)
        row.update(scores.values)
        if scores.unavailable:
            row["unavailable"] = scores.unavailable
        if scores.errors:
            row["metric_errors"] = scores.errors
        if scores.notes:
            row["notes"] = scores.notes
        if scores.curves:
            row["curves"] = scores.curves
    except Exception as exc:  # a run records every failure per case and goes on
        if is_disk_full(exc):  # not the case's fault: the run stops, nothing recorded
            raise
        row["error"] = f"{type(exc).__name__}: {exc}"
    return row


def _run_record(
    config: EvalConfig, model_spec: str, metrics: list[MetricDef], bench_info: dict[str, Any]
) -> dict[str, Any]:
    return {
        "tgibench_version": __version__,
        "created": now(),
        "config": config.to_json(),
        "model": model_spec,
        "model_options": resolved_options(model_spec),
        "seed": config.seed,
        "benchmark": bench_info,
        "metrics": {m.name: m.info() for m in metrics},
        "environment": environment(config.device),
    }


def _case_results(
    cases: list[Case],
    model: InbetweeningModel | None,
    metrics: list[MetricDef],
    config: EvalConfig,
    workers: int,
    profile: dict[str, float],
) -> Generator[tuple[Case, dict[str, Any], dict[str, float]], None, None]:
    """(case, row, timings) of each case: in order, computed here (with ``model``, built
    now if None) or by ``workers`` processes; or in the order a batch generator makes the
    videos."""
    if isinstance(model, BatchGenerator):
        backbones = Backbones(config.device, config.backbone_options)
        for case, made in model.generate_batch(cases, config.out, config.seed):
            timings: dict[str, float] = {}
            row = run_case(case, model, metrics, backbones, config, timings, made)
            yield case, row, timings
        return
    if workers <= 1:
        if model is None:  # workers were asked for, but one case is left
            with timed(profile, "model and metrics"):
                model = build_model(config.model)
        backbones = Backbones(config.device, config.backbone_options)
        for case in cases:
            timings = {}
            yield case, run_case(case, model, metrics, backbones, config, timings), timings
        return
    setup = WorkerSetup(config, tuple(included_files()), threads_per_worker(workers))
    with CaseWorkers(setup, workers) as pool:
        try:
            for case, (row, timings) in zip(cases, pool.results(cases), strict=True):
                yield case, row, timings
        finally:
            profile["workers start-up (slowest)"] = max(pool.startup_seconds, default=0.0)


def _run_cases(
    cases: list[Case],
    model: InbetweeningModel | None,
    metrics: list[MetricDef],
    config: EvalConfig,
    results_path: Path,
    summary: RunSummary,
    progress: bool,
    label: str,
) -> None:
    """Generate and score ``cases``, appending one row each to ``results_path`` in their
    order (with ``summary.workers`` processes); per-stage seconds add up in
    ``summary.profile``."""
    from tqdm import tqdm

    bar = tqdm(
        total=len(cases),
        desc=label,
        unit="case",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    profile = summary.profile
    results = _case_results(cases, model, metrics, config, summary.workers, profile)
    with (
        bar,
        closing(results),
        ResultsWriter(results_path) as writer,
        ResultsWriter(config.out / TIMINGS_FILE) as timing_log,
    ):
        for case, row, timings in _until_stopped(results, summary):
            with timed(profile, "write rows"):
                writer.append(row)
                timing_log.append({"case_id": case.case_id, **timings})
            for stage, seconds in timings.items():
                profile[stage] = profile.get(stage, 0.0) + seconds
            bar.set_postfix_str(case.case_id)
            bar.update()
            _count(row, summary)
            if "error" in row and config.fail_fast:
                summary.stopped_early = True
                return


def _until_stopped(
    results: Generator[tuple[Case, dict[str, Any], dict[str, float]], None, None],
    summary: RunSummary,
) -> Generator[tuple[Case, dict[str, Any], dict[str, float]], None, None]:
    """``results`` until they end, or until a batch generator stops early (recorded in
    ``summary.left`` and ``summary.stopped``: those cases get no row)."""
    try:
        yield from results
    except GenerationStopped as stopped:
        summary.left, summary.stopped = stopped.left, str(stopped)


def evaluate(
    config: EvalConfig,
    *,
    progress: bool = True,
    shard: Shard | None = None,
    workers: int = 1,
) -> RunSummary:
    """Run (or resume) an evaluation; see :class:`EvalConfig` for the options.

    Under torchrun (or with an explicit ``shard``) each rank scores its share of the cases;
    rank 0 merges the rows into results.jsonl and computes run-level metrics. ``workers``
    processes generate and score this process's cases at once (:mod:`tgibench.eval.
    workers`; ``tgibench evaluate`` chooses it with ``default_workers``), each building
    its own model (this process then builds none); values agree to float32 rounding. A
    model or metric registered outside a module that a worker imports (in an interactive
    session) needs ``workers=1``.

    The summary's ``profile`` holds the seconds of each stage: start-up (``benchmark``,
    ``model and metrics``, ``run directory``, ``workers start-up (slowest)``), the per-case
    stages of :func:`run_case` summed over the cases (with several workers they overlap, so
    their sum exceeds the wall time), ``write rows``, ``run-level metrics`` and ``total``.
    """
    started = time.perf_counter()
    profile: dict[str, float] = {}
    shard = shard or current_shard()
    config = replace(config, device=shard.device(config.device))
    with timed(profile, "benchmark"):
        full = load_benchmark(config.bench, frame_rule=config.frame_rule)
        bench = full.filter(lengths=config.lengths, challenges=config.challenges)
        fingerprint = benchmark_fingerprint(full)
    with timed(profile, "model and metrics"):
        metrics = select_metrics(config.metrics)
        # worker processes build their own model: here only when this process generates
        model = build_model(config.model) if workers <= 1 or _is_batch(config.model) else None
        if isinstance(model, BatchGenerator):
            workers = 1  # the batch program generates; this process scores
        spec = model.spec if model is not None else canonical_spec(config.model)
    case_ids = [c.case_id for c in bench]
    bench_info: dict[str, Any] = {
        "source": config.bench,
        "name": full.name,
        "frame_rule": full.frame_rule,
        "fingerprint": fingerprint,
        "num_cases": len(bench),
        "case_ids": case_ids,
    }
    run_dir = config.out
    summary = RunSummary(run_dir=run_dir, total=len(bench), profile=profile)
    init(shard)
    with locked(run_dir, shard.rank):
        start = time.perf_counter()
        verdict: str | None = None
        done: set[str] = set()
        if shard.is_main:  # before any other rank writes a row: `done` is the run's start
            try:
                start_or_resume(run_dir, config, _run_record(config, spec, metrics, bench_info))
                done = _done_cases(run_dir, config.retry_failed)
            except RunError as exc:
                verdict = str(exc)
        verdict, done = share_from_main(shard, (verdict, done))
        if verdict:
            raise RunError(verdict)
        mine = [c for i, c in enumerate(bench) if shard.owns(i) and c.case_id not in done]
        summary.skipped = sum(1 for i, c in enumerate(bench) if shard.owns(i)) - len(mine)
        summary.workers = max(1, min(workers, len(mine)))
        label = f"{spec} on {full.name}" + (
            f" [rank {shard.rank}/{shard.world_size}]" if shard.distributed else ""
        )
        profile["run directory"] = time.perf_counter() - start
        _run_cases(
            mine, model, metrics, config, shard.results_path(run_dir), summary, progress, label
        )
        barrier(shard)
        with timed(profile, "run-level metrics"):
            if shard.is_main:
                rows = merge_results(run_dir, case_ids)
                if shard.distributed:
                    summary = summarize(run_dir, rows, case_ids, done)
                    summary.profile = profile
                if {r["case_id"] for r in rows} >= set(case_ids):
                    summary.run_metrics = finalize_run_metrics(run_dir, metrics, rows)
    profile["total"] = time.perf_counter() - started
    return summary


def _is_batch(spec: str) -> bool:
    """True when ``spec`` names a model that generates a whole run at once."""
    from tgibench.models import MODELS
    from tgibench.spec import parse_spec

    name, _ = parse_spec(spec)
    entry = MODELS.get(name)
    return isinstance(entry, type) and issubclass(entry, BatchGenerator)


def _done_cases(run_dir: Path, retry_failed: bool) -> set[str]:
    """Cases that already have a row in the run (all ranks' files), which this invocation
    skips; with ``retry_failed``, not those whose row is a failure (a new row replaces it)."""
    latest = {row["case_id"]: row for row in all_rows(run_dir)}  # the last row wins
    done = set(latest)
    if retry_failed:
        done -= {case_id for case_id, row in latest.items() if failed(row)}
    return done


def summarize(
    run_dir: Path, rows: list[dict[str, Any]], case_ids: list[str], done: set[str]
) -> RunSummary:
    """A summary of this invocation of a sharded run (rank 0), from the merged ``rows``:
    the cases of ``case_ids`` in ``done`` (which had a row when it started) are skipped,
    the others counted as scored or failed."""
    skipped = sum(1 for case_id in case_ids if case_id in done)
    summary = RunSummary(run_dir=run_dir, total=len(case_ids), skipped=skipped)
    wanted = set(case_ids) - done
    for row in rows:
        if row["case_id"] in wanted:
            _count(row, summary)
    return summary


def _count(row: dict[str, Any], summary: RunSummary) -> None:
    """Add one case's row to the summary: scored or failed, metric errors, unavailable."""
    if "error" in row:
        summary.failed.append((row["case_id"], row["error"]))
    else:
        summary.scored += 1
    for name, error in row.get("metric_errors", {}).items():
        summary.metric_errors.append((row["case_id"], name, error))
    summary.unavailable.update(row.get("unavailable", {}))
