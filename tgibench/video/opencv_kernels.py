"""OpenCV at its baseline kernels: the same results on every x86-64 CPU.

OpenCV picks kernels for the CPU at run time (AVX-512, AVX2 with FMA, SSE4, and Intel IPP's
own choice), and their results differ in the last bits. For optical flow on a video with
a jump, that moved a case's ``motion_reach`` by 2.7e-4 between an AVX-512 CPU and an
AVX-only one. Every OpenCV call of tgibench (flows, warps, resizes, gradients, SSIM's blur)
runs under :func:`baseline_kernels`, which switches that choice off
(``cv2.setUseOptimized(False)``: no dispatched kernels, no IPP) for the duration of the
call and restores the previous setting after it. The baseline kernels are the same
instructions on every x86-64 CPU; ``benchmarks/opencv_baseline.py`` measures what they
cost (docs/performance.md).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import cv2

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_depth = 0
_saved = True


def _enter() -> None:
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = cv2.useOptimized()
            cv2.setUseOptimized(False)
        _depth += 1


def _leave() -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth == 0:
            cv2.setUseOptimized(_saved)


def baseline_kernels(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with OpenCV at its baseline kernels (nested and threaded calls
    share one switch; the caller's setting is restored when the last one returns)."""

    @functools.wraps(function)
    def pinned(*args: P.args, **kwargs: P.kwargs) -> R:
        _enter()
        try:
            return function(*args, **kwargs)
        finally:
            _leave()

    return pinned
