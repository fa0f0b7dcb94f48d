"""Emulate other CPUs on this one, and measure what changes: the mini-bench's bytes and scores.

    python benchmarks/cross_cpu.py variants                 # what each variant restricts
    python benchmarks/cross_cpu.py build [--variants ...]   # rebuild + verify per variant
    python benchmarks/cross_cpu.py scores [--models hold crossfade flow] [--out DIR]

OpenCV, NumPy, glibc's libm, libjpeg-turbo, FFmpeg and torch (its own kernels, oneDNN's
convolutions, MKL's matrix products) each choose kernels for the CPU at run time (AVX-512,
AVX2 with FMA, SSE4, plain C). A *variant* restricts that choice the way another CPU would:
through the libraries' own switches (``OPENCV_CPU_DISABLE``, ``NPY_DISABLE_CPU_FEATURES``,
``GLIBC_TUNABLES``, ``JSIMD_FORCENONE``, ``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``,
``MKL_ENABLE_INSTRUCTIONS``) or in the process (``cv2.setUseOptimized(False)``, FFmpeg's
``av_force_cpu_flags``). Every variant runs in its own process, one thread, one worker.

``build`` rebuilds the mini-bench under each variant and verifies it against
data_manifests/mini.json (differences must be none). ``scores`` evaluates each model on the
mini-bench under each variant and compares every case's every metric with the default
run: the largest absolute and relative difference per metric, and how many table cells
(means per model, challenge and length, printed as the leaderboard prints them) change.
docs/reliability.md records the figures; tests/test_cross_cpu.py holds them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The largest difference (absolute, per case) each metric may show between any two x86-64
#: CPUs, as docs/reliability.md states and tests/test_cross_cpu.py holds under the most
#: restricted variant. 0: bit for bit. The LPIPS metrics run convolutions through oneDNN,
#: whose kernels follow the CPU: measured at most 6.0e-8, stated with a margin.
CROSS_CPU_TOLERANCE: dict[str, float] = {
    "psnr": 0.0,
    "ssim": 0.0,
    "lpips": 1e-6,
    "lpips_frames": 1e-6,
    "keyframe_adherence": 1e-6,
    "warping_error": 0.0,
    "flicker": 0.0,
    "motion_reach": 0.0,
    "pace_stability": 0.0,
}
#: FFmpeg's flag that makes av_force_cpu_flags(flags) take ``flags`` (here: none) literally.
AV_CPU_FLAG_FORCE = 0x80000000


@dataclass(frozen=True)
class CpuVariant:
    """One emulated CPU: environment variables set before the process starts, and
    restrictions applied in it before anything runs."""

    name: str
    summary: str
    env: dict[str, str] = field(default_factory=dict)
    opencv_optimized: bool = True
    ffmpeg_simd: bool = True
    uses_torch: bool = False  # only the scores depend on torch's kernels


def _opencv_dispatched() -> list[str]:
    """The OpenCV build's dispatched CPU features (``*`` in its features line)."""
    import cv2

    return [t.strip("*?") for t in cv2.getCPUFeaturesLine().split() if t.startswith("*")]


def _torch_capabilities() -> list[str]:
    """``ATEN_CPU_CAPABILITY`` values this CPU can run other than the one torch picks."""
    import torch

    chosen = torch.backends.cpu.get_cpu_capability().lower()
    order = ["default", "avx2", "avx512"]
    if chosen not in order:
        return ["default"]
    return [c for c in order[: order.index(chosen) + 1] if c != chosen]


def machine_variants() -> list[CpuVariant]:
    """The variants this machine can emulate, "default" (no restriction) first."""
    from numpy._core._multiarray_umath import __cpu_dispatch__

    opencv = _opencv_dispatched()
    avx512 = [f for f in opencv if f.startswith("AVX512")]
    avx2 = [*avx512, "AVX2", "FMA3", "AVX_VNNI"]
    sse3 = sorted({*opencv, *avx2, "POPCNT"})
    libm = "glibc.cpu.hwcaps=-AVX512F,-AVX2,-FMA,-AVX2_Usable,-FMA_Usable,-AVX512F_Usable"
    numpy = " ".join(__cpu_dispatch__)
    variants = [
        CpuVariant("default", "no restriction"),
        CpuVariant(
            "opencv-avx2", "OpenCV without AVX-512", {"OPENCV_CPU_DISABLE": ",".join(avx512)}
        ),
        CpuVariant("opencv-avx", "OpenCV without AVX2/FMA", {"OPENCV_CPU_DISABLE": ",".join(avx2)}),
        CpuVariant("opencv-sse3", "OpenCV at SSE3", {"OPENCV_CPU_DISABLE": ",".join(sse3)}),
        CpuVariant("opencv-off", "cv2.setUseOptimized(False)", opencv_optimized=False),
        CpuVariant("numpy-baseline", "NumPy's baseline only", {"NPY_DISABLE_CPU_FEATURES": numpy}),
        CpuVariant("libm-sse2", "glibc's libm without FMA/AVX2", {"GLIBC_TUNABLES": libm}),
        CpuVariant("libjpeg-c", "libjpeg-turbo without SIMD", {"JSIMD_FORCENONE": "1"}),
        CpuVariant("ffmpeg-c", "FFmpeg without SIMD", ffmpeg_simd=False),
    ]
    variants += [
        CpuVariant(
            f"torch-{c}", f"torch's {c} kernels", {"ATEN_CPU_CAPABILITY": c}, uses_torch=True
        )
        for c in _torch_capabilities()
    ]
    variants += [
        CpuVariant(
            f"onednn-{isa.lower()}",
            f"oneDNN (torch's convolutions) up to {isa}",
            {"ONEDNN_MAX_CPU_ISA": isa},
            uses_torch=True,
        )
        for isa in ("AVX2", "SSE41")
    ]
    variants.append(
        CpuVariant(
            "mkl-sse4_2",
            "MKL (torch's matrix products) up to SSE4.2",
            {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
            uses_torch=True,
        )
    )
    oldest = {
        "OPENCV_CPU_DISABLE": ",".join(sse3),
        "NPY_DISABLE_CPU_FEATURES": numpy,
        "GLIBC_TUNABLES": libm,
        "JSIMD_FORCENONE": "1",
        "ATEN_CPU_CAPABILITY": "default",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    }
    variants.append(
        CpuVariant(
            "oldest",
            "all of the above at once",
            oldest,
            opencv_optimized=False,
            ffmpeg_simd=False,
            uses_torch=True,
        )
    )
    return variants


def restrict_in_process(variant: CpuVariant) -> None:
    """Apply the variant's in-process restrictions (the environment is set already)."""
    if not variant.opencv_optimized:
        import cv2

        cv2.setUseOptimized(False)
    if not variant.ffmpeg_simd:
        _ffmpeg_without_simd()


def _ffmpeg_without_simd() -> None:
    """Make the libavutil that PyAV loaded report no SIMD (``av_force_cpu_flags``)."""
    import ctypes

    import av  # noqa: F401  (loads libavutil)

    maps = Path("/proc/self/maps")
    paths = sorted(
        {line.split()[-1] for line in maps.read_text().splitlines() if "libavutil" in line}
    )
    if not paths:
        raise RuntimeError("cannot find the libavutil that PyAV loaded (Linux only)")
    ctypes.CDLL(paths[0]).av_force_cpu_flags(AV_CPU_FLAG_FORCE)


def variant_process(
    variant: CpuVariant, argv: Sequence[str], **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (``tgibench ...`` or ``render-hashes``) in a new process under
    ``variant``, one thread, capturing its output."""
    env = {**os.environ, **variant.env, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    hooks = [] if variant.opencv_optimized else ["--no-opencv-optimized"]
    hooks += [] if variant.ffmpeg_simd else ["--no-ffmpeg-simd"]
    command = [sys.executable, str(Path(__file__).resolve()), "exec", *hooks, "--", *argv]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, **kwargs)


# ------------------------------------------------------------------------ what a child runs

#: Three frames (u = 0, 1/2, 1) of one folder per kind of scene: camera paths (pan, roll and
#: zoom, light change), the two kinds of cut-out, footage shrunk (two clips) and enlarged.
SCENE_SAMPLES = (
    "coffee_pan_right",
    "chelsea_rotate_zoom",
    "immuno_light_drift",
    "astronaut_logo_pass",
    "coffee_cat_pass",
    "bikes_pedestrian",
    "bigbuckbunny_wakes",
    "carphone_talking",
)


def render_hashes() -> dict[str, list[str]]:
    """SHA-256 of the rendered frames and of their JPEG files, per sampled folder."""
    import hashlib
    import io

    from PIL import Image

    from tgibench.data.mini import JPEG_QUALITY, render_frames

    hashes = {}
    for name in SCENE_SAMPLES:
        frames = render_frames(name, 3)
        digests = [hashlib.sha256(frames.tobytes()).hexdigest()]
        for frame in frames:
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="JPEG", quality=JPEG_QUALITY)
            digests.append(hashlib.sha256(buffer.getvalue()).hexdigest())
        hashes[name] = digests
    return hashes


def _child(hooks: list[str], argv: list[str]) -> None:
    """In a variant's process: apply its in-process ``hooks``, then run ``argv``."""
    restrict_in_process(
        CpuVariant(
            "child",
            "",
            opencv_optimized="--no-opencv-optimized" not in hooks,
            ffmpeg_simd="--no-ffmpeg-simd" not in hooks,
        )
    )
    if argv[0] == "render-hashes":
        print(json.dumps(render_hashes()))
    elif argv[0] == "tgibench":
        from tgibench.cli import main

        sys.argv = argv
        main()
    else:
        raise SystemExit(f"cannot run {argv[0]!r} in a variant")


# ------------------------------------------------------------------------ build


def measure_build(variants: list[CpuVariant]) -> list[dict[str, Any]]:
    """Rebuild the mini-bench under each variant and verify it against its manifest."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            out = Path(tmp) / variant.name
            build = variant_process(variant, ["tgibench", "data", "build-mini", "--out", str(out)])
            if build.returncode:
                raise SystemExit(f"{variant.name}: build failed:\n{build.stderr[-2000:]}")
            verify = variant_process(variant, ["tgibench", "data", "verify", str(out)])
            problems = [line for line in verify.stdout.splitlines() if not line.startswith("ok")]
            rows.append(
                {"variant": variant.name, "summary": variant.summary, "differ": len(problems)}
            )
            print(
                f"{variant.name:16} {len(problems):4d} files differ  ({variant.summary})",
                flush=True,
            )
    return rows


# ------------------------------------------------------------------------ scores


def _rows(run: Path) -> dict[str, dict[str, Any]]:
    lines = (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["case_id"]: row for row in map(json.loads, lines)}


def _metric_values(row: dict[str, Any]) -> dict[str, float]:
    skip = {"case_id", "challenge", "num_frames", "model", "error", "metric_errors", "curves"}
    return {k: float(v) for k, v in row.items() if k not in skip and isinstance(v, int | float)}


def _table_cells(rows: dict[str, dict[str, Any]]) -> dict[tuple[str, str], float]:
    """Means the leaderboard prints: per metric, over all cases, per challenge, per length."""
    groups: dict[tuple[str, str], list[float]] = {}
    for row in rows.values():
        for metric, value in _metric_values(row).items():
            for group in ("all", row["challenge"], f"{row['num_frames']} frames"):
                groups.setdefault((metric, group), []).append(value)
    return {key: math.fsum(values) / len(values) for key, values in groups.items()}


def compare_runs(default: Path, other: Path) -> dict[str, dict[str, float]]:
    """Per metric: the largest absolute and relative per-case difference of ``other`` from
    ``default``, the largest relative difference of a table mean, and the table cells
    (printed as the leaderboard prints them) that change."""
    from tgibench.leaderboard.tables import format_value

    base, rows = _rows(default), _rows(other)
    if set(base) != set(rows):
        raise SystemExit(f"{other}: other cases than {default}")
    out: dict[str, dict[str, float]] = {}
    for case_id, row in base.items():
        theirs = _metric_values(rows[case_id])
        for metric, value in _metric_values(row).items():
            stats = out.setdefault(metric, {"abs": 0.0, "rel": 0.0, "mean_rel": 0.0, "cells": 0})
            diff = abs(theirs[metric] - value)
            stats["abs"] = max(stats["abs"], diff)
            stats["rel"] = max(
                stats["rel"], diff / abs(value) if value else (math.inf if diff else 0)
            )
    cells_a, cells_b = _table_cells(base), _table_cells(rows)
    for (metric, _group), mean in cells_a.items():
        stats = out[metric]
        diff = abs(cells_b[(metric, _group)] - mean)
        stats["mean_rel"] = max(stats["mean_rel"], diff / abs(mean) if mean else 0.0)
        stats["cells"] += format_value(mean) != format_value(cells_b[(metric, _group)])
    return out


def measure_scores(
    variants: list[CpuVariant], models: list[str], out: Path, lengths: list[int] | None
) -> dict[str, dict[str, dict[str, float]]]:
    """Evaluate every model under every variant (resumable: finished runs are kept) and
    compare each with the default run; returns variant -> metric -> largest differences
    over the models."""
    extra = ["--lengths", ",".join(map(str, lengths))] if lengths else []
    for variant in variants:
        for model in models:
            run = out / variant.name / model.replace(":", "_")
            args = ["tgibench", "evaluate", "--model", model, "--bench", "mini", "--out", str(run)]
            done = variant_process(variant, [*args, "--workers", "1", "--no-videos", "-q", *extra])
            if done.returncode:
                raise SystemExit(f"{variant.name} {model}: failed:\n{done.stderr[-3000:]}")
            print(f"evaluated {model} under {variant.name}", file=sys.stderr, flush=True)
    table: dict[str, dict[str, dict[str, float]]] = {}
    for variant in variants[1:]:
        merged: dict[str, dict[str, float]] = {}
        for model in models:
            name = model.replace(":", "_")
            for metric, stats in compare_runs(
                out / "default" / name, out / variant.name / name
            ).items():
                into = merged.setdefault(metric, dict.fromkeys(stats, 0.0))
                for key, value in stats.items():
                    into[key] = into[key] + value if key == "cells" else max(into[key], value)
        table[variant.name] = merged
    return table


def scores_markdown(table: dict[str, dict[str, dict[str, float]]]) -> str:
    """Per metric: the largest per-case absolute / relative difference over all variants,
    the variant where it occurs, the largest relative change of a table mean, and the
    number of printed table cells that change."""
    metrics = sorted({m for per_metric in table.values() for m in per_metric})
    lines = [
        "| metric | tolerance | largest case diff (abs) | (rel) | under | largest mean diff (rel) "
        "| printed cells changed |",
        "|---|---|---|---|---|---|---|",
    ]
    for metric in metrics:
        worst = max(table, key=lambda v: table[v].get(metric, {}).get("abs", 0.0))
        stats = table[worst][metric]
        mean_rel = max(t[metric]["mean_rel"] for t in table.values() if metric in t)
        cells = sum(int(t[metric]["cells"]) for t in table.values() if metric in t)
        under = worst if stats["abs"] else "—"
        tolerance = CROSS_CPU_TOLERANCE.get(metric)
        stated = "—" if tolerance is None else f"{tolerance:.0e}"
        lines.append(
            f"| {metric} | {stated} | {stats['abs']:.1e} | {stats['rel']:.1e} | {under} "
            f"| {mean_rel:.1e} | {cells} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["exec"]:
        split = argv.index("--")
        _child(argv[1:split], argv[split + 1 :])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("job", choices=["variants", "build", "scores"])
    parser.add_argument("--variants", nargs="*", help="Variant names (default: all)")
    parser.add_argument("--models", nargs="*", default=["hold", "crossfade", "flow"])
    parser.add_argument("--lengths", nargs="*", type=int)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "cross_cpu")
    parser.add_argument("--json", action="store_true", help="Print JSON instead of markdown.")
    args = parser.parse_args(argv)
    variants = machine_variants()
    if args.variants:
        variants = [v for v in variants if v.name == "default" or v.name in args.variants]
    if args.job == "variants":
        for variant in variants:
            hooks = [] if variant.opencv_optimized else ["cv2.setUseOptimized(False)"]
            hooks += [] if variant.ffmpeg_simd else ["av_force_cpu_flags(FORCE)"]
            print(f"{variant.name:16} {variant.summary}: {variant.env or ''} {' '.join(hooks)}")
    elif args.job == "build":
        rows = measure_build([v for v in variants if not v.uses_torch or v.name == "oldest"])
        if args.json:
            print(json.dumps(rows))
    else:
        table = measure_scores(variants, args.models, args.out, args.lengths)
        print(json.dumps(table) if args.json else scores_markdown(table))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
