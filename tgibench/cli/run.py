"""``tgibench evaluate`` and ``tgibench score``: make or find videos, score them, write a run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgibench.cli.app import (
    Challenges,
    Include,
    Lengths,
    app,
    fail,
    include_plugins,
    parse_lengths,
    parse_names,
)

if TYPE_CHECKING:
    from tgibench.eval.config import EvalConfig

Out = Annotated[
    Path, typer.Option("--out", "-o", help="Run directory (an existing run is resumed).")
]
Bench = Annotated[
    str, typer.Option("--bench", "-b", help='"mini", a directory, or a HF dataset id.')
]
FailFast = Annotated[bool, typer.Option(help="Stop at the first failing case.")]
Name = Annotated[
    str | None,
    typer.Option(
        "--name", help="The run's label in every table (default: the model spec, shortened)."
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Metrics = Annotated[
    list[str] | None,
    typer.Option(
        "--metrics",
        "-m",
        help="Metric or pillar names (default: the default set; see `tgibench metrics`).",
    ),
]

RetryFailed = Annotated[
    bool,
    typer.Option(help="Resuming: score again the cases that failed or had a metric fail."),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        help="Processes that generate and score cases at once (default: 2 on a CPU with 2 or "
        "more cores, 1 on a GPU or under torchrun). Values agree to float32 rounding.",
    ),
]
Profile = Annotated[
    bool,
    typer.Option(
        "--profile", help="At the end, print the seconds spent in each stage (docs/performance.md)."
    ),
]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Use no network: weights from local files and caches only, as HF_HUB_OFFLINE=1 "
        "(tgibench docs weights).",
    ),
]


def _set_offline(offline: bool) -> None:
    """``--offline``: HF_HUB_OFFLINE=1 for this process, before any hub library is imported."""
    if offline:
        from tgibench.weights import go_offline

        go_offline()


def _since_process_start() -> float:
    """Seconds since this process started (Linux's /proc; 0 where there is none)."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - int(stat[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _config(
    model: str,
    bench: str,
    out: Path,
    lengths: tuple[int, ...] | None,
    challenges: tuple[str, ...] | None,
    metrics: list[str] | None,
    **options: Any,
) -> EvalConfig:
    """The run's configuration, as ``evaluate`` and ``score`` both build it."""
    from tgibench.eval.config import EvalConfig

    return EvalConfig(
        model=model,
        bench=bench,
        out=out,
        lengths=lengths,
        challenges=challenges,
        metrics=parse_names(metrics),
        **options,
    )


def _tuple(values: list[Any] | None) -> tuple[Any, ...] | None:
    """A recorded list as a tuple (None when absent or empty)."""
    return tuple(values) if values else None


def _set_up(offline: bool, include: list[Path] | None, workers: int | None, device: str) -> int:
    """Before the command imports torch: ``--offline``, the plugins, and the number of
    worker processes; with more than one, their server starts now, importing torch and the
    scoring code in the background while this process does the same (tgibench.eval.workers).
    """
    from tgibench.eval.distributed import current_shard
    from tgibench.eval.workers import default_workers, start_worker_server

    _set_offline(offline)
    if workers is None:  # torchrun's ranks are the processes already
        workers = 1 if current_shard().distributed else default_workers(device)
    if workers > 1:
        start_worker_server()
    include_plugins(include)
    return workers


def _run(config: EvalConfig, quiet: bool, workers: int, profile: bool) -> None:
    from tgibench.data import BenchmarkError
    from tgibench.eval.distributed import current_shard
    from tgibench.eval.resume import RunError
    from tgibench.eval.runner import evaluate
    from tgibench.eval.timings import profile_table
    from tgibench.eval.workers import WorkerError
    from tgibench.spec import SpecError

    shard = current_shard()
    started = _since_process_start()  # Python and the imports of the command
    try:
        summary = evaluate(config, progress=not quiet, shard=shard, workers=workers)
    except (
        BenchmarkError,
        RunError,
        SpecError,
        WorkerError,
        KeyError,
        ValueError,
        FileNotFoundError,
    ) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        from tgibench.fileio import is_disk_full

        if not is_disk_full(exc):
            raise
        raise fail(
            f"the disk is full ({exc.filename or exc}). The run stopped: every row written is "
            "complete, no half-written video was kept and no case was recorded as failed "
            "because of it. Free some space and run the same command again to finish the run."
        ) from None
    if profile:
        summary.profile = {"start-up": started, **summary.profile}
        typer.echo(profile_table(summary), err=True, nl=False)
    if not shard.is_main:
        return  # rank 0 reports for the whole sharded run
    left = f", {summary.left} left" if summary.left else ""
    typer.echo(
        f"{summary.run_dir}: {summary.scored} scored, {len(summary.failed)} failed, "
        f"{summary.skipped} already done{left} (of {summary.total})"
    )
    if summary.stopped:
        typer.secho(f"  stopped: {summary.stopped}", err=True, fg=typer.colors.YELLOW)
    for case_id, error in summary.failed:
        typer.secho(f"  failed {case_id}: {error}", err=True, fg=typer.colors.YELLOW)
    for case_id, name, error in summary.metric_errors:
        typer.secho(
            f"  metric {name} failed on {case_id}: {error}", err=True, fg=typer.colors.YELLOW
        )
    if summary.failed or summary.metric_errors:
        typer.secho(
            "  (run the same command with --retry-failed to score those cases again)", err=True
        )
    from tgibench.metrics import select_metrics
    from tgibench.weights import missing_weights_lines

    lines = missing_weights_lines(summary.unavailable, select_metrics(config.metrics))
    for line in lines:
        typer.secho(f"  {line}", err=True)
    if any(line.startswith("weights missing") for line in lines):
        typer.secho("  (the full reasons are in results.jsonl, each row's 'unavailable')", err=True)
    if not summary.ok:
        raise typer.Exit(1)


@app.command()
def evaluate(
    model: Annotated[
        str, typer.Option("--model", help="Model spec name[:key=value,...], see `tgibench models`.")
    ],
    out: Out,
    bench: Bench = "mini",
    lengths: Lengths = None,
    challenges: Challenges = None,
    metrics: Metrics = None,
    seed: int = 0,
    device: str = "cpu",
    save_videos: Annotated[
        bool, typer.Option("--videos/--no-videos", help="Save videos/<case_id>.mp4.")
    ] = True,
    fail_fast: FailFast = False,
    retry_failed: RetryFailed = False,
    quiet: Quiet = False,
    include: Include = None,
    offline: Offline = False,
    workers: Workers = None,
    profile: Profile = False,
    name: Name = None,
) -> None:
    """Generate every case with a model, score it, and write the run directory."""
    workers = _set_up(offline, include, workers, device)
    config = _config(
        model,
        bench,
        out,
        parse_lengths(lengths),
        parse_names(challenges),
        metrics,
        seed=seed,
        device=device,
        save_videos=save_videos,
        fail_fast=fail_fast,
        retry_failed=retry_failed,
        name=name,
    )
    _run(config, quiet, workers, profile)


@app.command()
def score(
    videos: Annotated[
        Path,
        typer.Option(
            "--videos", help="Folder of videos or frame folders, laid out as --pattern says."
        ),
    ],
    out: Out,
    bench: Annotated[
        str | None,
        typer.Option(
            "--bench",
            "-b",
            help='"mini", a directory, or a HF dataset id (default: the export\'s, or "mini").',
        ),
    ] = None,
    lengths: Lengths = None,
    challenges: Challenges = None,
    metrics: Metrics = None,
    pattern: Annotated[
        str | None,
        typer.Option(
            help="Where a case's video is, e.g. '{num_frames}/{folder}.mp4' or "
            "'mymodel_{folder}_{num_frames}' (fields case_id, folder, num_frames; no suffix: "
            "any video suffix or a frame folder). Default: the common layout that fits most cases."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Stop before scoring if a case has no video or a video no case.")
    ] = False,
    device: str = "cpu",
    fail_fast: FailFast = False,
    retry_failed: RetryFailed = False,
    quiet: Quiet = False,
    include: Include = None,
    offline: Offline = False,
    workers: Workers = None,
    profile: Profile = False,
    name: Name = None,
) -> None:
    """Score videos made elsewhere (the `folder` model), found by a layout pattern; in a
    folder made by `tgibench data export`, at each case's `video` path."""
    workers = _set_up(offline, include, workers, device)
    from tgibench.data import BenchmarkError, load_benchmark
    from tgibench.data.export import VIDEOS_DIR, read_export
    from tgibench.data.manifest import benchmark_fingerprint
    from tgibench.models.video_layout import DEFAULT_PATTERN, LayoutMismatchError, resolve
    from tgibench.spec import format_spec

    chosen_lengths, chosen_challenges = parse_lengths(lengths), parse_names(challenges)
    if not videos.is_dir():
        raise fail(f"--videos {videos} is not a directory")
    try:
        export = read_export(videos)
        if export is not None:  # the export says which benchmark, cases and layout
            bench = bench or export["source"]
            chosen_lengths = chosen_lengths or _tuple(export.get("lengths"))
            chosen_challenges = chosen_challenges or _tuple(export.get("challenges"))
            pattern = pattern or f"{VIDEOS_DIR}/{{case_id}}"
        bench = bench or "mini"
        full = load_benchmark(bench)
        if export is not None and benchmark_fingerprint(full) != export["fingerprint"]:
            raise BenchmarkError(
                f"{videos} was exported from another copy of the benchmark than {bench} "
                f"(fingerprint {export['fingerprint'][:12]}, not "
                f"{benchmark_fingerprint(full)[:12]}): score against the one it came from"
            )
        selected = full.filter(lengths=chosen_lengths, challenges=chosen_challenges)
        chosen = {case.case_id for case in selected}
        layout = resolve(
            videos, list(selected), pattern, [c for c in full if c.case_id not in chosen]
        )
    except (BenchmarkError, LayoutMismatchError) as exc:
        raise fail(str(exc)) from None
    typer.echo(layout.summary())
    if strict and not layout.complete:
        raise fail("--strict: the videos and the cases do not match one to one (see above)", 1)
    options = {"path": str(videos.resolve())}
    if layout.pattern != DEFAULT_PATTERN:
        options["pattern"] = layout.pattern
    config = _config(
        format_spec("folder", options),
        bench,
        out,
        chosen_lengths,
        chosen_challenges,
        metrics,
        device=device,
        save_videos=False,
        fail_fast=fail_fast,
        retry_failed=retry_failed,
        name=name,
    )
    _run(config, quiet, workers, profile)
